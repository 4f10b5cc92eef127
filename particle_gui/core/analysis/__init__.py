"""The analysis pipeline as a table of cached stages: preprocessing, threshold, split, measurement, shape classes, trust."""
