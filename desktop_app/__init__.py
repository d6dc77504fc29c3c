"""ActionLens: build and explore joint video–word embeddings."""

__version__ = "0.1.0"
