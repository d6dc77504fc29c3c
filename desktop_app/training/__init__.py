"""Training the joint-embedding models: data from feature sequences, one trainer, saved runs."""
