"""Controls for every engine parameter, generated from the parameter metadata."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

from particle_gui.core.params import METHODS, PipelineParams
from particle_gui.gui.widgets.wheel_guard import WheelGuard

#: Groups shown, with their titles; ``summary`` settings stay in the JSON presets.
GROUP_TITLES = {
    "region": "Region",
    "preprocess": "Denoise and contrast",
    "threshold": "Threshold",
    "dl": "Deep learning",
    "clean": "Clean-up",
    "split": "Split touching particles",
    "edge": "Particles to keep",
}
#: Fields shown only when a choice field has one of these values.
DEPENDS_ON = {
    ("preprocess", "gaussian_sigma_px"): ("denoise", ("gaussian",)),
    ("preprocess", "median_size_px"): ("denoise", ("median",)),
    ("preprocess", "bilateral_sigma_px"): ("denoise", ("bilateral",)),
    ("preprocess", "bilateral_sigma_intensity"): ("denoise", ("bilateral",)),
    ("preprocess", "nlm_h"): ("denoise", ("nlm",)),
    ("preprocess", "clahe_clip_limit"): ("clahe", (True,)),
    ("preprocess", "background_radius_px"): ("flatten_background", (True,)),
    ("threshold", "manual_value"): ("method", ("manual",)),
    ("threshold", "local_block_px"): ("method", ("local",)),
    ("threshold", "local_offset"): ("method", ("local",)),
    ("split", "min_distance_px"): ("mode", ("distance_peaks",)),
    ("split", "h_maxima_px"): ("mode", ("h_maxima",)),
    ("split", "sure_foreground_fraction"): ("mode", ("sure_foreground",)),
    ("split", "neck_depth"): ("mode", ("neck",)),
}


#: Groups shown only for some segmentation methods.
METHOD_GROUPS = {"threshold": ("classical",), "dl": ("dl",)}
#: What each method is, for the method box's tooltip.
METHOD_HELP = ("classical: thresholding and a distance-map watershed; dl: a U-Net trained on EM images and synthetic "
               "scenes, which finds particle cores to split clusters (slower first run).")

#: Slider ranges narrower than the accepted values.
SLIDER_MAXIMUM = {"min_area_px": 5000.0, "min_area_nm2": 1e6}


class ParamsPanel(QWidget):
    """One control per parameter.

    The panel owns no parameters: it shows the ones it is given (:meth:`show_params`) and reports
    each change the user makes; the app controller checks the value, puts it in force and shows the
    panel the outcome.

    Signals
    -------
    valueEdited(str, str, object)
        Group, name and new value of the parameter the user changed.
    methodChosen(str)
        The segmentation method the user chose.
    """

    valueEdited = Signal(str, str, object)
    methodChosen = Signal(str)

    def __init__(self, params: PipelineParams | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The params shown (what the controls display; the controller owns the params in force).
        self._shown = params or PipelineParams()
        self._pixel_size_nm: float | None = None
        self._controls: dict[tuple[str, str], QWidget] = {}
        self._rows: dict[tuple[str, str], tuple[QLabel, QWidget]] = {}
        self._updating = False
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self._build_method_box())
        self._groups: dict[str, QGroupBox] = {}
        for group, title in GROUP_TITLES.items():
            self._groups[group] = self._build_group(group, title)
            column.addWidget(self._groups[group])
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        self.scroll_area = scroll
        WheelGuard(scroll).guard(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_params(self._shown)

    # --- building -----------------------------------------------------------------------------

    def _build_method_box(self) -> QGroupBox:
        box = QGroupBox("Segmentation")
        form = QFormLayout(box)
        self._method = QComboBox()
        self._method.setObjectName("method")
        self._method.addItems(list(METHODS))
        self._method.setToolTip(METHOD_HELP)
        self._method.currentTextChanged.connect(self._on_method_changed)
        form.addRow(QLabel("Method"), self._method)
        return box

    def _on_method_changed(self, method: str) -> None:
        if self._updating or method == self._shown.method:
            return
        self.methodChosen.emit(method)

    def _build_group(self, group: str, title: str) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        # A long label puts its control on the next row, so a narrow panel never cuts the values off.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        stage = getattr(self._shown, group)
        for spec in dataclasses.fields(stage):
            if spec.metadata.get("hidden"):  # set by other means (the Adapt menu), not a control
                continue
            control = self._make_control(group, spec)
            label = QLabel(spec.metadata.get("label", spec.name))
            label.setToolTip(spec.metadata.get("help", ""))
            control.setToolTip(spec.metadata.get("help", ""))
            control.setObjectName(f"{group}.{spec.name}")
            form.addRow(label, control)
            self._controls[(group, spec.name)] = control
            self._rows[(group, spec.name)] = (label, control)
        return box

    def _make_control(self, group: str, spec: dataclasses.Field) -> QWidget:
        meta = spec.metadata
        default = spec.default
        if isinstance(default, bool):
            control = QCheckBox()
            control.toggled.connect(lambda value, g=group, n=spec.name: self._on_control_changed(g, n, bool(value)))
            return control
        if meta.get("choices"):
            control = QComboBox()
            control.addItems(list(meta["choices"]))
            control.currentTextChanged.connect(lambda text, g=group, n=spec.name: self._on_control_changed(g, n, text))
            return control
        if isinstance(default, int):
            control = QLabeledSlider(Qt.Orientation.Horizontal)
            _room_for_values(control, meta["minimum"], min(meta["maximum"], 10_000), 0)
            control.setRange(int(meta["minimum"]), int(min(meta["maximum"], 10_000)))
            control.setSingleStep(int(meta.get("step") or 1))
            control.valueChanged.connect(lambda value, g=group, n=spec.name: self._on_control_changed(g, n, int(value)))
            return control
        control = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        maximum = meta["maximum"]
        if group == "clean" and spec.name in SLIDER_MAXIMUM:
            maximum = SLIDER_MAXIMUM[spec.name]  # the JSON accepts more; a slider needs a usable range
        control.setRange(float(meta["minimum"]), float(maximum))
        control.setSingleStep(float(meta.get("step") or 0.01))
        control.setDecimals(3 if (meta.get("step") or 1) < 0.01 else 2)
        _room_for_values(control, meta["minimum"], maximum, control.decimals())
        control.valueChanged.connect(lambda value, g=group, n=spec.name: self._on_control_changed(g, n, float(value)))
        return control

    # --- state ----------------------------------------------------------------------------------

    @property
    def shown_params(self) -> PipelineParams:
        """The params the controls show."""
        return self._shown

    def control(self, group: str, name: str) -> QWidget:
        """The control of one parameter (for tests and keyboard focus)."""
        return self._controls[(group, name)]

    def show_params(self, params: PipelineParams) -> None:
        """Show ``params`` (emits nothing)."""
        self._shown = params
        self._updating = True
        try:
            self._method.setCurrentText(params.method)
            for (group, name), control in self._controls.items():
                value = getattr(getattr(params, group), name)
                if isinstance(control, QCheckBox):
                    control.setChecked(bool(value))
                elif isinstance(control, QComboBox):
                    control.setCurrentText(str(value))
                elif control.value() != value:
                    control.setValue(value)
        finally:
            self._updating = False
        self._update_visibility()
        self.set_pixel_size(self._pixel_size_nm)

    def set_pixel_size(self, pixel_size_nm: float | None) -> None:
        """Show sizes in pixels together with their calibrated value."""
        self._pixel_size_nm = pixel_size_nm
        for (group, name), (label, _) in self._rows.items():
            spec = {f.name: f for f in dataclasses.fields(getattr(self._shown, group))}[name]
            text = spec.metadata.get("label", name)
            unit = spec.metadata.get("unit", "")
            value = getattr(getattr(self._shown, group), name)
            if unit == "px" and pixel_size_nm:  # the control is in pixels: say so, and what that is in nm
                text += f" (px; {value * pixel_size_nm:.3g} nm)"
            elif unit == "px²" and pixel_size_nm:
                text += f" (px²; {value * pixel_size_nm**2:.3g} nm²)"
            elif unit and unit not in text:
                text += f" ({unit})"
            label.setText(text)

    def _on_control_changed(self, group: str, name: str, value) -> None:
        if self._updating or getattr(getattr(self._shown, group), name) == value:
            return
        self.valueEdited.emit(group, name, value)

    def _update_visibility(self) -> None:
        for group, methods in METHOD_GROUPS.items():
            self._groups[group].setVisible(self._shown.method in methods)
        for (group, name), (label, control) in self._rows.items():
            rule = DEPENDS_ON.get((group, name))
            visible = True
            if rule is not None:
                key, allowed = rule
                visible = getattr(getattr(self._shown, group), key) in allowed
            label.setVisible(visible)
            control.setVisible(visible)


#: Narrowest a slider may be: below this its row wraps (label above, slider below).
SLIDER_MIN_WIDTH = 150


def _room_for_values(control: QWidget, low: float, high: float, decimals: int) -> None:
    """Make a labelled slider's value box wide enough for its widest value (no ".000" for "-0.000")."""
    control.setMinimumWidth(SLIDER_MIN_WIDTH)
    box = getattr(control, "_label", None)  # superqt's value box (a line edit)
    if box is None:
        return
    widest = max((f"{v:.{decimals}f}" for v in (low, high, -abs(high))), key=len)
    width = box.fontMetrics().horizontalAdvance(widest + "0") + 16
    measured = box._get_size  # superqt fixes the box's size from this on every show and range change

    def roomy() -> QSize:
        size = measured()
        return QSize(max(width, size.width()), size.height())

    box._get_size = roomy
    box._update_size()
