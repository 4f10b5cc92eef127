"""Synthetic data with exact truth, for tests, benchmarks and training (never shipped with the app).

- :mod:`synthetic.scenes`: SEM/TEM/HAADF particle scenes and the benchmark's named hard cases.
- :mod:`synthetic.databars`: instrument data bars (Zeiss, FEI/Thermo, JEOL, Hitachi, Tescan, top
  bars) and burned-in scale bars with their labels.
- :mod:`synthetic.fonts`: the fonts labels are rendered in.

Tests, benchmarks and ``training/`` import from here; nothing here imports them.
"""
