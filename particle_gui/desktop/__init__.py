"""What the desktop application keeps besides the engine, without Qt.

These are the user settings, the autosave of hand corrections, the log and readable error reports.
The Qt layer (``particle_gui.gui``) builds on it; it never imports Qt (an import-linter contract).
"""
