"""Pygments without its ~600 lexers, styles and formatters (PyInstaller's own hook collects them all).

Only superqt imports Pygments, for a code-highlighting widget the app never shows; Pygments loads
lexers, styles and formatters by name, when asked for one. Its core modules, which superqt imports
at start, are still found by PyInstaller's analysis. This hook in ``hookspath`` replaces the
built-in ``hook-pygments.py``.
"""

hiddenimports: list[str] = []
