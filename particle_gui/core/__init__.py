"""The pure analysis engine: no Qt, no GUI. Arrays in, arrays and tables out.

- :mod:`~particle_gui.core.io`: images and their calibration (formats, metadata, data bars, scale bars).
- :mod:`~particle_gui.core.analysis`: the staged pipeline from grey image to measured particles.
- :mod:`~particle_gui.core.network`: the segmentation network's run and its post-processing.
- :mod:`~particle_gui.core.editing`: hand corrections, their history, journal and sessions.
- :mod:`~particle_gui.core.statistics`: size distributions, fits, tests and sample comparison.
- :mod:`~particle_gui.core.output`: overlays, exports, batch runs and reports.
- Shared by all: :mod:`params`, :mod:`document` (one image's state), :mod:`labels`, :mod:`units`,
  :mod:`errors`.
"""
