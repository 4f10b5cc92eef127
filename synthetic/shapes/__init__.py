"""Synthetic particle silhouettes of the six shape classes and their SEM/TEM-like crops (the shape classifier's training data)."""
