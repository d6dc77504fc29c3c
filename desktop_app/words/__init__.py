"""Words: the word-vector service and the normalisation of dataset class names into phrases."""
