"""Datasets: clip and class records, importers from disk, and the synthetic demo dataset."""
