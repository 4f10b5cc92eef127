"""The particle table: one row per particle of a result, sortable, selection in sync with the image.

The model serves ``data()`` straight from the DataFrame's columns (held as Python lists, so
a cell costs one list look-up and one format); there is no item per cell, and a table of
thousands of particles populates at once.

The model sorts itself: a NumPy ``argsort`` of the raw numbers (``10`` sorts after ``9``)
into a row permutation. There is deliberately no ``QSortFilterProxyModel``: with a Python
model it asks ``data()`` once per comparison (0.3-0.7 s to sort 5000 rows, again after every
new result while sorted) and maps selections index by index (seconds to select 5000 rows),
where the permutation takes milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult

#: Known columns: title and the dimension of the value ("length", "area", "position" in
#: pixels always, or None for a pure number).
_KNOWN_COLUMNS: dict[str, tuple[str, str | None]] = {
    "id": ("ID", None),
    "centroid_x": ("Centroid x", "position"),
    "centroid_y": ("Centroid y", "position"),
    "area": ("Area", "area"),
    "mask_area": ("Outline area (px²)", None),
    "perimeter": ("Perimeter", "length"),
    "ecd": ("ECD", "length"),
    "feret_max": ("Feret max", "length"),
    "feret_min": ("Feret min", "length"),
    "major_axis": ("Major axis", "length"),
    "minor_axis": ("Minor axis", "length"),
    "feret_ratio": ("Feret ratio", None),
    "ellipse_ratio": ("Ellipse ratio (ImageJ AR)", None),
    "bbox_width": ("Box width", "position"),
    "bbox_height": ("Box height", "position"),
    "circularity": ("Circularity", None),
    "solidity": ("Solidity", None),
    "mean_intensity": ("Mean intensity", None),
    "touches_edge": ("Touches edge", None),
    "shape_class": ("Shape", None),
    "shape_confidence": ("Shape confidence", None),
}
_ROOT = QModelIndex()
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN_NUMBER = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ALIGN_TEXT = int(Qt.AlignmentFlag.AlignCenter)


def calibrated_twin(name: str) -> str | None:
    """The calibrated column that replaces pixel column ``name``, if it has one.

    >>> calibrated_twin("ecd"), calibrated_twin("area"), calibrated_twin("solidity")
    ('ecd_nm', 'area_nm2', None)
    """
    dimension = _KNOWN_COLUMNS.get(name, (None, None))[1]
    if dimension == "length":
        return f"{name}_nm"
    if dimension == "area":
        return f"{name}_nm2"
    return None


def format_number(value: float) -> str:
    """Four significant digits, without an exponent from 1e-4 up to 1e9; NaN is blank.

    >>> format_number(1275.0), format_number(12753.0), format_number(0.98088), format_number(float("nan"))
    ('1275', '12750', '0.9809', '')
    """
    if math.isnan(value):
        return ""
    text = f"{value:.4g}"
    if "e" in text and 1 <= abs(value) < 1e9:  # 12753 -> "1.275e+04" -> "12750"
        text = f"{float(text):.0f}"
    return text


@dataclass(frozen=True)
class TableColumn:
    """One displayed column: the DataFrame column it shows, its header, and how to format it."""

    key: str
    header: str
    kind: str  # "int", "float", "bool" or "text"


def table_columns(particles: pd.DataFrame, *, calibrated: bool) -> list[TableColumn]:
    """The columns to display for a particle table, in order, with headers that carry units.

    Calibrated twins (``*_nm``, ``*_nm2``) replace their pixel columns when ``calibrated``
    and are hidden otherwise; centroids stay in pixels (they locate the particle in the image).
    """
    names = set(particles.columns)
    twins = {twin for name in names if (twin := calibrated_twin(name)) is not None}
    columns = []
    for name in particles.columns:
        if name in twins:
            continue
        title, dimension = _KNOWN_COLUMNS.get(name, (str(name), None))
        key = name
        unit = {"length": "px", "area": "px²", "position": "px"}.get(dimension or "")
        twin = calibrated_twin(name)
        if calibrated and twin in names:
            key, unit = twin, ("nm²" if dimension == "area" else "nm")
        header = f"{title} ({unit})" if unit else title
        columns.append(TableColumn(key, header, _kind(particles[key])))
    return columns


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_numeric_dtype(series):
        return "float"
    return "text"


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive integers in sorted ``rows``, as (first, last) pairs.

    >>> _runs([1, 2, 3, 7, 9, 10])
    [(1, 3), (7, 7), (9, 10)]
    """
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(row, runs[-1][1]))
        else:
            runs.append((row, row))
    return runs


class ParticleTableModel(QAbstractTableModel):
    """Read-only table model over a particles DataFrame, one list of values per displayed column.

    :meth:`sort` (called by the view's header) orders a permutation from the model's rows to
    the DataFrame's rows with a stable NumPy ``argsort``; persistent indexes (the selection)
    follow their particles.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._columns: list[TableColumn] = []
        self._values: list[list[Any]] = []
        self._sort_keys: list[np.ndarray] = []
        self._ids = np.zeros(0, dtype=np.int64)
        self._row_of_id: dict[int, int] = {}
        self._order = np.zeros(0, dtype=np.int64)  # model row -> DataFrame row
        self._order_list: list[int] = []
        self._position = np.zeros(0, dtype=np.int64)  # DataFrame row -> model row
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder

    def set_particles(self, particles: pd.DataFrame | None, *, calibrated: bool = False) -> None:
        """Show ``particles`` (None for an empty table), sorted as the table was."""
        self.beginResetModel()
        if particles is None:
            self._columns, self._values, self._sort_keys = [], [], []
            self._ids = np.zeros(0, dtype=np.int64)
        else:
            self._columns = table_columns(particles, calibrated=calibrated)
            self._values = [particles[column.key].to_numpy().tolist() for column in self._columns]
            self._sort_keys = [_sort_key(particles[column.key], column.kind) for column in self._columns]
            ids = particles["id"].to_numpy() if "id" in particles.columns else np.arange(1, len(particles) + 1)
            self._ids = np.asarray(ids, dtype=np.int64)
        self._row_of_id = {int(particle_id): row for row, particle_id in enumerate(self._ids.tolist())}
        self._set_order(self._sorted_order(self._sort_column, self._sort_order))
        self.endResetModel()

    @property
    def columns(self) -> list[TableColumn]:
        return list(self._columns)

    def id_at(self, row: int) -> int:
        """The particle id shown in model row ``row``."""
        return int(self._ids[self._order_list[row]])

    def ids_at(self, rows: np.ndarray) -> np.ndarray:
        """The distinct particle ids shown in model ``rows``, ascending."""
        return np.unique(self._ids[self._order[rows]])

    def row_of(self, particle_id: int) -> int | None:
        """The model row of a particle id, or None when it is not in the table."""
        data_row = self._row_of_id.get(int(particle_id))
        return None if data_row is None else int(self._position[data_row])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (-1: particle order); ties keep the particle order."""
        self._sort_column, self._sort_order = column, order
        new_order = self._sorted_order(column, order)
        if np.array_equal(new_order, self._order):
            return
        self.layoutAboutToBeChanged.emit()
        old_order = self._order_list
        self._set_order(new_order)
        persistent = self.persistentIndexList()
        moved = [self.index(int(self._position[old_order[index.row()]]), index.column()) for index in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _sorted_order(self, column: int, order: Qt.SortOrder) -> np.ndarray:
        if not 0 <= column < len(self._sort_keys):
            return np.arange(len(self._ids), dtype=np.int64)
        keys = self._sort_keys[column]
        if order == Qt.SortOrder.DescendingOrder:  # negated, the sort stays stable and NaN last
            keys = -keys
        return np.argsort(keys, kind="stable").astype(np.int64)

    def _set_order(self, order: np.ndarray) -> None:
        self._order = order
        self._order_list = order.tolist()
        self._position = np.empty_like(order)
        self._position[order] = np.arange(order.size)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        column = index.column()
        if role == _DISPLAY:
            value = self._values[column][self._order_list[index.row()]]
            kind = self._columns[column].kind
            if kind == "float":
                return format_number(value)
            if kind == "bool":
                return "yes" if value else "no"
            return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        if role == _ALIGNMENT:
            return _ALIGN_NUMBER if self._columns[column].kind in ("int", "float") else _ALIGN_TEXT
        if role == _TOOLTIP and self._columns[column].kind == "float":
            return f"{self._values[column][self._order_list[index.row()]]:.10g}"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == _DISPLAY:
            return self._columns[section].header
        if role == _TOOLTIP:
            return f"Column '{self._columns[section].key}' in exports"
        return None


def _sort_key(series: pd.Series, kind: str) -> np.ndarray:
    """Values to sort by: floats (NaN sorts last), or text ranks for a text column."""
    if kind == "text":  # alphabetical ranks; missing values last
        ranks = np.unique(series.fillna("").astype(str).to_numpy(), return_inverse=True)[1].astype(np.float64)
        ranks[series.isna().to_numpy()] = np.nan
        return ranks
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


class ParticleTableWidget(QWidget):
    """A sortable table of the particles of one result.

    Lengths and areas are shown in nm and nm² when the result is calibrated, in px and px²
    otherwise; centroids are always in px. Rows select whole; Shift and Ctrl extend.

    Signals
    -------
    particlesSelected(object)
        Tuple of the selected particle ids (ascending), after the user changed the selection.
        Not emitted by :meth:`set_selection` or :meth:`set_result`.
    """

    particlesSelected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = ParticleTableModel(self)
        self._updating_selection = False
        self._headers: list[str] = []

        self._view = QTableView(self)
        self._view.setObjectName("particleTableView")
        self._view.setModel(self._model)
        self._view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._view.setAlternatingRowColors(True)
        self._view.setWordWrap(False)
        self._view.verticalHeader().setVisible(False)
        self._view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self._view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # particle order until the user sorts
        header.setSortIndicatorClearable(True)
        header.setResizeContentsPrecision(64)
        header.setHighlightSections(False)
        self._view.setSortingEnabled(True)
        self._view.selectionModel().selectionChanged.connect(self._on_selection_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)

    # -- public API ---------------------------------------------------------------------------

    def set_result(self, result: PipelineResult | None) -> None:
        """Show the particles of ``result`` (None empties the table).

        The selection is cleared without emitting :attr:`particlesSelected`; the sort column and order
        are kept.

        Only ``result.particles`` and ``result.calibration`` are read.
        """
        self._updating_selection = True
        try:
            if result is None:
                self._model.set_particles(None)
            else:
                calibrated = bool(getattr(result.calibration, "is_calibrated", False))
                self._model.set_particles(result.particles, calibrated=calibrated)
        finally:
            self._updating_selection = False
        headers = [column.header for column in self._model.columns]
        if headers != self._headers:
            self._headers = headers
            self._view.resizeColumnsToContents()

    def set_selection(self, ids: Iterable[int]) -> None:
        """Select the rows of ``ids`` and scroll to the first of them that is in the table.

        Ids not in the table are ignored. :attr:`particlesSelected` is not emitted.
        """
        rows = [row for row in (self._model.row_of(particle_id) for particle_id in ids) if row is not None]
        selection = QItemSelection()
        last_column = self._model.columnCount() - 1
        for first_row, last_row in _runs(sorted(rows)):  # one range per run keeps painting fast
            selection.select(self._model.index(first_row, 0), self._model.index(last_row, last_column))
        selection_model = self._view.selectionModel()
        self._updating_selection = True
        try:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            if rows:
                first = self._model.index(rows[0], 0)
                selection_model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
                selection_model.select(selection, flags)
                self._view.scrollTo(first, QAbstractItemView.ScrollHint.EnsureVisible)
            else:
                selection_model.clearSelection()
        finally:
            self._updating_selection = False

    def selected_ids(self) -> tuple[int, ...]:
        """The ids of the selected particles, ascending."""
        selection = self._view.selectionModel().selection()
        rows = [np.arange(span.top(), span.bottom() + 1) for span in selection]
        if not rows:
            return ()
        return tuple(self._model.ids_at(np.concatenate(rows)).tolist())

    def row_count(self) -> int:
        """The number of particles in the table."""
        return self._model.rowCount()

    def headers(self) -> list[str]:
        """The column headers as shown, e.g. ``["ID", ..., "ECD (nm)", ...]``."""
        return list(self._headers)

    def view(self) -> QTableView:
        """The table view (for tests and for a context menu owner)."""
        return self._view

    def column_of(self, key: str) -> int | None:
        """The column showing DataFrame column ``key`` (e.g. ``"ecd_nm"``), or None."""
        for section, column in enumerate(self._model.columns):
            if column.key == key:
                return section
        return None

    # -- slots --------------------------------------------------------------------------------

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self._updating_selection:
            self.particlesSelected.emit(self.selected_ids())
