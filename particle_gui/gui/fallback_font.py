"""A font for the window when the system offers Qt none.

On Windows, Qt finds fonts through DirectWrite; under Wine (the Windows build is built and tested
there) DirectWrite lists no font at all, and every text in the window is drawn as boxes. A system
without fonts (a stripped container, a kiosk image) does the same on Linux, where fontconfig then
lists only its aliases. The app ships DejaVu
Sans already (matplotlib's copy, which the report uses), so when Qt's font database is empty that
file is registered and made the application's font. Where the system has fonts nothing changes.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: The shipped font files, in matplotlib's data folder.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
#: Point size of the application font when it is the fallback (Qt's default on Windows is 9 pt).
POINT_SIZE = 9


def font_folder() -> Path | None:
    """The folder of matplotlib's TrueType fonts, found without importing matplotlib (slow to import)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def has_a_font(app) -> bool:
    """Whether Qt resolves ``app`` 's font to a real font file.

    Under Wine the font database is empty; on Linux without fonts it lists only fontconfig's
    aliases ("Sans Serif", ...), which resolve to no family.
    """
    from PySide6.QtGui import QFontDatabase, QFontInfo

    return bool(QFontDatabase.families()) and bool(QFontInfo(app.font()).family())


def ensure_a_font(app, folder: Path | None = None) -> str | None:
    """Register the shipped font and make it ``app`` 's font if Qt has no font; its family, or None.

    None also when the system has fonts (nothing to do) or the files are missing (logged: the
    window's text will be boxes, but the app works).
    """
    from PySide6.QtGui import QFont, QFontDatabase

    if has_a_font(app):
        return None
    folder = folder or font_folder()
    families: list[str] = []
    for name in FONT_FILES:
        path = None if folder is None else folder / name
        if path is None or not path.is_file():
            log.warning("Qt finds no font and the shipped font %s is missing: text will not be legible", name)
            continue
        font_id = QFontDatabase.addApplicationFont(str(path))
        families += QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return None
    app.setFont(QFont(families[0], POINT_SIZE))
    log.info("Qt finds no system font: using the shipped %s", families[0])
    return families[0]
