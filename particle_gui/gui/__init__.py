"""The desktop application (PySide6 + pyqtgraph) over the engine in ``particle_gui.core``."""

from particle_gui.gui.app import main

__all__ = ["main"]
