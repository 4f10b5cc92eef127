"""The Help menu: the user guide (shipped inside the package), keyboard shortcuts, and About.

The guide is Markdown with screenshots (``particle_gui/resources/guide``, made from the real
window by ``docs/make_screenshots.py``), shown in a text browser. The shortcuts are read from the
window's own actions, so the list is never out of date. About names the versions, the licences
and where each shipped model comes from (the JSON beside it).
"""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenu, QTextBrowser, QVBoxLayout

import particle_gui

GUIDE = Path(particle_gui.__file__).resolve().parent / "resources" / "guide" / "user_guide.md"
MODELS = Path(particle_gui.__file__).resolve().parent / "models"
PACKAGES = ("PySide6-Essentials", "numpy", "scipy", "scikit-image", "opencv-python-headless", "onnxruntime", "pandas",
            "ncempy", "tifffile")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def about_text() -> str:
    """Versions, licences and model provenance, as Markdown."""
    lines = [f"# particle_gui {particle_gui.__version__}", "",
             "Particle size and shape analysis for SEM/TEM images.", "",
             "**Licence**: particle_gui's own code is MIT; the installers bundle ncempy (GPL-3.0), so the program "
             "as distributed is offered under the GPL-3.0. Every bundled package's licence notice is in its "
             "*.dist-info folder inside the installation (see NOTICE.txt).", "",
             f"**Python** {platform.python_version()} on {platform.system()} {platform.machine()}", ""]
    lines += [f"- {name} {_version(name)}" for name in PACKAGES]
    lines += ["", "## Models shipped with the app", ""]
    for name, what in (("segmentation", "particle segmentation (U-Net)"), ("shape_classifier", "shape classes"),
                       ("label_reader", "scale-bar label reader")):
        try:
            info = json.loads((MODELS / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            lines.append(f"- {what}: description missing")
            continue
        trained = info.get("training_data") or info.get("trained_on") or ", ".join(info.get("training_fonts", [])[:3])
        details = [f"version {info['version']}" if "version" in info else "",
                   f"trained on {trained}" if trained else "",
                   f"seed {info['seed']}" if "seed" in info else "",
                   f"commit {str(info['commit'])[:10]}" if "commit" in info else ""]
        lines.append(f"- {what} ({name}.onnx): " + "; ".join(d for d in details if d))
    return "\n".join(lines)


def shortcuts_text(window) -> str:
    """Every action of the window that has a keyboard shortcut, as a Markdown table."""
    rows = {}
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString()
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text:
            rows[text] = keys
    lines = ["# Keyboard shortcuts", "", "| action | keys |", "|---|---|"]
    lines += [f"| {text} | {keys} |" for text, keys in sorted(rows.items(), key=lambda item: item[0].lower())]
    return "\n".join(lines)


class HelpMenu(QObject):
    """Builds the Help menu of a main window and shows its pages."""

    def __init__(self, window, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.guide_action = menu.addAction("User &guide", self.show_guide)
        self.guide_action.setShortcut("F1")
        self.shortcuts_action = menu.addAction("&Keyboard shortcuts", self.show_shortcuts)
        menu.addSeparator()
        self.about_action = menu.addAction("&About particle_gui", self.show_about)
        #: The page shown last (kept for tests and so that it is not collected while open).
        self.page: QDialog | None = None

    def _page(self, title: str, markdown: str, base: Path | None = None) -> QDialog:
        dialog = QDialog(self.window)
        dialog.setWindowTitle(title)
        browser = QTextBrowser(dialog)
        browser.setOpenExternalLinks(True)
        if base is not None:
            browser.setSearchPaths([str(base)])
            browser.document().setBaseUrl(QUrl.fromLocalFile(str(base) + "/"))
        browser.setMarkdown(markdown)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        dialog.resize(900, 700)
        dialog.browser = browser
        dialog.show()
        self.page = dialog
        return dialog

    def show_guide(self) -> QDialog:
        try:
            text = GUIDE.read_text(encoding="utf-8")
        except OSError:
            text = f"The user guide is missing from this installation ({GUIDE}); reinstall particle_gui."
        return self._page("particle_gui user guide", text, GUIDE.parent)

    def show_shortcuts(self) -> QDialog:
        return self._page("Keyboard shortcuts", shortcuts_text(self.window))

    def show_about(self) -> QDialog:
        return self._page("About particle_gui", about_text())
