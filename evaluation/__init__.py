"""Scoring shared by benchmarks, training and tests: the EMPS split and loader, instance matching, per-image scores.

Nothing here imports ``benchmarks`` or ``training``: both depend on it, never on each other.
"""
