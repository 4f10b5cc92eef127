"""particle_gui: particle size and shape analysis for electron-microscopy images."""

__version__ = "0.1.0"
