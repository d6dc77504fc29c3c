"""Embedding clips with a trained run, and the recognition and zero-shot evaluations."""
