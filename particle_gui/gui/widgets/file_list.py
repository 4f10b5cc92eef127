"""The images of the open folder: file names in a list, the full path as a tooltip."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QStackedLayout, QWidget

_PATH_ROLE = Qt.ItemDataRole.UserRole


class FileListWidget(QWidget):
    """A list of image paths; a click or Enter on one asks for it to be opened.

    Arrow keys move the highlight without opening anything; Enter opens the highlighted file.
    With no paths, a "No folder open" placeholder is shown instead of an empty list.

    Signals
    -------
    fileActivated(object)
        The :class:`~pathlib.Path` the user clicked or pressed Enter on. Not emitted by
        :meth:`set_paths` or :meth:`set_current`.
    """

    fileActivated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._list = QListWidget(self)
        self._list.setObjectName("fileList")
        self._list.setUniformItemSizes(True)
        self._list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._list.itemClicked.connect(self._on_list_item_clicked)
        self._list.installEventFilter(self)  # Enter; itemActivated would also fire on double-click

        self._placeholder = QLabel("No folder open", self)
        self._placeholder.setObjectName("fileListPlaceholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._placeholder.setEnabled(False)  # drawn in the disabled (grey) text colour

        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self._placeholder)
        self._stack.addWidget(self._list)

    def set_paths(self, paths: Iterable[str | Path]) -> None:
        """Show ``paths`` in the given order; the highlighted path stays highlighted if still listed."""
        current = self.current_path()
        self._list.clear()
        for path in map(Path, paths):
            item = QListWidgetItem(path.name)
            item.setToolTip(str(path))
            item.setData(_PATH_ROLE, path)
            self._list.addItem(item)
        self._stack.setCurrentWidget(self._list if self._list.count() else self._placeholder)
        if current is not None:
            self.set_current(current)

    def set_current(self, path: str | Path | None) -> None:
        """Highlight ``path`` (None or an unlisted path: no highlight) without emitting."""
        row = self._row_of(Path(path)) if path is not None else -1
        if row < 0:
            self._list.setCurrentRow(-1)
            self._list.clearSelection()
            return
        self._list.setCurrentRow(row)
        self._list.scrollToItem(self._list.item(row))

    def paths(self) -> list[Path]:
        """The listed paths, in order."""
        return [self._list.item(row).data(_PATH_ROLE) for row in range(self._list.count())]

    def current_path(self) -> Path | None:
        """The highlighted path, or None."""
        item = self._list.currentItem()
        return None if item is None else item.data(_PATH_ROLE)

    def is_placeholder_shown(self) -> bool:
        """Whether the "No folder open" placeholder is shown instead of the list."""
        return self._stack.currentWidget() is self._placeholder

    def list_widget(self) -> QListWidget:
        """The list itself (for tests and keyboard focus)."""
        return self._list

    def _row_of(self, path: Path) -> int:
        for row in range(self._list.count()):
            if self._list.item(row).data(_PATH_ROLE) == path:
                return row
        return -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        is_enter = (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        )
        if watched is self._list and is_enter and self._list.currentItem() is not None:
            self.fileActivated.emit(self._list.currentItem().data(_PATH_ROLE))
            return True
        return super().eventFilter(watched, event)

    def _on_list_item_clicked(self, item: QListWidgetItem) -> None:
        self.fileActivated.emit(item.data(_PATH_ROLE))
