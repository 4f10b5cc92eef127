"""The Edit menu and toolbar of the main window: the canvas tools, undo/redo, sessions, recovery.

Actions only; the :class:`Editor` changes the labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QMessageBox, QSpinBox, QToolBar

from particle_gui.core.editing.session import SESSION_SUFFIX
from particle_gui.desktop.autosave import journal_for, pending_recoveries
from particle_gui.gui.editor import BRUSH_RADIUS_RANGE, Editor
from particle_gui.gui.widgets.canvas_tools import TOOLS

SESSION_FILTER = f"particle_gui sessions (*{SESSION_SUFFIX});;All files (*)"


def describe_counts(counts: dict[str, int]) -> str:
    """The hand edits of each kind in words ("Hand edits: 2 deleted, 2 particles merged"); empty when there are none."""
    words = (("delete", "deleted"), ("merge", "particles merged"), ("split", "split"), ("add", "added"),
             ("paint", "brush strokes"), ("erase", "eraser strokes"))
    parts = [f"{counts[key]} {word}" for key, word in words if counts.get(key)]
    return "Hand edits: " + ", ".join(parts) if parts else ""


class EditMenu(QObject):
    """Builds the Edit menu, the Tools toolbar and the session actions of a main window."""

    def __init__(self, window, editor: Editor) -> None:
        super().__init__(window)
        self.window, self.editor = window, editor
        self.canvas = window.canvas
        self.tools = window.canvas.tools
        self._build()
        self._connect()
        self.refresh()

    def _build(self) -> None:
        w = self.window
        act = w._action
        self.undo_action = act("&Undo", self.editor.undo, QKeySequence.StandardKey.Undo, "Undo the last correction")
        self.redo_action = act("&Redo", self.editor.redo, QKeySequence.StandardKey.Redo, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setToolTip("Redo (Ctrl+Shift+Z, Ctrl+Y)")
        self.delete_action = act("&Delete selected particles", self.editor.delete_selection,
                                 QKeySequence.StandardKey.Delete)
        self.merge_action = act("&Merge selected particles", self.editor.merge_selection, "Ctrl+M")
        self.discard_action = act("Discard all &corrections of this image…", self._on_discard)
        bar = w.menuBar()
        edit_menu = QMenu("&Edit", bar)
        menus = bar.actions()  # File, Image, ...: Edit goes second, where every application has it
        bar.insertMenu(menus[1], edit_menu) if len(menus) > 1 else bar.addMenu(edit_menu)
        for action in (self.undo_action, self.redo_action, self.delete_action, self.merge_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        tools_menu = edit_menu.addMenu("&Tool")
        toolbar = QToolBar("Correction tools")
        toolbar.setObjectName("toolbar:tools")
        w.addToolBarBreak()  # a second row: the main toolbar already fills a laptop screen's width
        w.addToolBar(toolbar)
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        for tool in TOOLS:
            action = act(tool.label, lambda checked=False, name=tool.name: self.tools.set_tool(name), tool.shortcut,
                         tool.tip)
            action.setCheckable(True)
            self.tool_group.addAction(action)
            self.tool_actions[tool.name] = action
            tools_menu.addAction(action)
            toolbar.addAction(action)
        self.tool_actions["select"].setChecked(True)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(*BRUSH_RADIUS_RANGE)
        self.brush_size.setValue(int(self.editor.brush_radius))
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush and eraser radius ([ and ] change it)")
        self.smaller_action = act("Smaller brush", lambda: self.brush_size.stepBy(-1), "[")
        self.larger_action = act("Larger brush", lambda: self.brush_size.stepBy(1), "]")
        w.addAction(self.smaller_action)
        w.addAction(self.larger_action)
        toolbar.addWidget(QLabel(" Brush "))
        toolbar.addWidget(self.brush_size)
        edit_menu.addSeparator()
        edit_menu.addAction(self.discard_action)

        file_menu = w.file_menu
        self.open_session_action = act("Open &session…", self._on_open_session, None,
                                       "Reopen an image with its parameters, calibration and corrections")
        self.save_session_action = act("&Save session", self._on_save_session, QKeySequence.StandardKey.Save)
        self.save_session_as_action = act("Save session &as…", self._on_save_session_as,
                                          QKeySequence.StandardKey.SaveAs)
        first = file_menu.actions()[0]
        for action in (self.open_session_action, self.save_session_action, self.save_session_as_action):
            file_menu.insertAction(first, action)
        file_menu.insertSeparator(first)
        self.counts_label = QLabel("")
        w.statusBar().addWidget(self.counts_label)

    def _connect(self) -> None:
        e, t = self.editor, self.tools
        e.editsChanged.connect(self.refresh)
        self.window.controller.resultChanged.connect(lambda _result: self.refresh())
        self.window.controller.documentOpened.connect(lambda _doc: self.refresh())
        t.toolChanged.connect(lambda name: self.tool_actions[name].setChecked(True))
        t.deleteClicked.connect(lambda particle: e.delete([particle]))
        t.mergeDragged.connect(e.merge)
        t.lineDrawn.connect(lambda x0, y0, x1, y1: e.split_line((x0, y0), (x1, y1)))
        t.seedsPlaced.connect(e.split_seeds)
        t.polygonDrawn.connect(e.add_polygon)
        t.fillClicked.connect(e.add_flood)
        t.strokeStarted.connect(lambda x, y, erase: e.begin_stroke(x, y, erase=erase))
        t.strokeMoved.connect(e.continue_stroke)
        t.strokeEnded.connect(e.end_stroke)
        t.boxSelected.connect(self._on_box_selected)
        t.particleClicked.connect(self.window._on_canvas_particle_clicked)
        self.brush_size.valueChanged.connect(self._on_brush_size)

    def refresh(self) -> None:
        e = self.editor
        self.undo_action.setEnabled(e.can_undo)
        self.redo_action.setEnabled(e.can_redo)
        document = e.document
        self.discard_action.setEnabled(document is not None and document.corrections is not None)
        self.counts_label.setText(describe_counts(e.counts()))

    def _on_brush_size(self, value: int) -> None:
        self.editor.brush_radius = float(value)
        self.tools.set_brush_radius(float(value))

    def _on_box_selected(self, x0: float, y0: float, x1: float, y1: float, additive: bool) -> None:
        document = self.editor.document
        if document is None or document.result is None:
            return
        table = document.result.particles
        cx, cy = table["centroid_x"].to_numpy(), table["centroid_y"].to_numpy()
        inside = (cx >= min(x0, x1)) & (cx <= max(x0, x1)) & (cy >= min(y0, y1)) & (cy <= max(y0, y1))
        ids = set(table["id"].to_numpy()[inside].tolist())
        current = set(self.window.controller.selection) if additive else set()
        self.window.controller.select(current | ids)

    def _on_discard(self) -> None:
        answer = QMessageBox.question(self.window, "Discard corrections",
                                      "Discard every hand correction of this image? This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.editor.discard()

    # --- sessions -------------------------------------------------------------------------------

    def _on_open_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", self.window.settings.last_directory,
                                              SESSION_FILTER)
        if path:
            self.editor.open_session(path)

    def _on_save_session(self) -> None:
        document = self.editor.document
        if document is not None and document.session_path is not None:
            self.save_session(document.session_path)
        else:
            self._on_save_session_as()

    def _on_save_session_as(self) -> None:
        document = self.editor.document
        if document is None:
            return
        suggestion = str(Path(self.window.settings.last_directory or document.path.parent)
                         / f"{document.path.stem}{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session", suggestion, SESSION_FILTER)
        if path:
            self.save_session(path)

    def save_session(self, path: str | Path) -> bool:
        ok = self.editor.save_session(path)
        if ok:
            self.window.statusBar().showMessage(f"Session saved: {path}", 5000)
        return ok

    def confirm_quit(self) -> bool:
        """Before quitting: ask what to do with unsaved corrections; False keeps the window open.

        Save writes each corrected image's session (where it was saved before, else beside the
        image); Discard forgets them. Either way the recovery files go, so the next start does not
        say the app closed abnormally.
        """
        unsaved = [d for d in self.editor.app.documents.values() if d.unsaved_edits]
        if not unsaved:
            return True
        names = ", ".join(d.path.name for d in unsaved[:5]) + (" ..." if len(unsaved) > 5 else "")
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved corrections",
                          f"The corrections of {len(unsaved)} image(s) are not saved: {names}.", parent=self.window)
        box.setInformativeText("Save them as sessions beside the images before quitting?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            for document in unsaved:
                path = document.session_path or document.path.with_suffix(SESSION_SUFFIX)
                if not self.editor.save_session(path, document):
                    return False  # the error was shown; nothing is lost
            return True
        for document in unsaved:
            self.editor.autosaver.clear(document)
            document.unsaved_edits = False
        return True

    def offer_recovery(self, *, ask: bool = True) -> int:
        """Offer the corrections a crash left in the recovery folder; returns how many were restored."""
        pending = pending_recoveries(self.editor.autosaver.folder)
        if not pending:
            return 0
        if ask:
            answer = QMessageBox.question(
                self.window, "Restore corrections",
                f"Unsaved corrections of {len(pending)} image(s) were kept from an earlier run (particle_gui did "
                "not close normally). Restore them?")
            if answer != QMessageBox.StandardButton.Yes:
                for checkpoint in pending:
                    for file in (checkpoint, journal_for(checkpoint)):
                        file.unlink(missing_ok=True)
                return 0
        return int(np.sum([self.editor.recover(checkpoint) for checkpoint in pending]))
