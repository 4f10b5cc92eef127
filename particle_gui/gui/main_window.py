"""The main window: composition only. Widgets show state; the controller owns it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSlider,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.io.loading import IMAGE_SUFFIXES
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.render import OVERLAY_MODES
from particle_gui.gui.calibration_menu import CalibrationMenu
from particle_gui.desktop.autosave import Autosaver
from particle_gui.gui.controller import AppController
from particle_gui.gui.edit_menu import EditMenu
from particle_gui.gui.editor import Editor
from particle_gui.gui.output_menu import OutputMenu
from particle_gui.desktop.settings import Settings
from particle_gui.gui.widgets.canvas import ImageCanvas
from particle_gui.gui.widgets.file_list import FileListWidget
from particle_gui.gui.widgets.intensity_histogram import IntensityHistogramWidget
from particle_gui.gui.widgets.message_bar import MessageBar
from particle_gui.gui.widgets.params_panel import ParamsPanel
from particle_gui.gui.widgets.particle_table import ParticleTableWidget
from particle_gui.gui.adapt_menu import AdaptMenu
from particle_gui.gui.help_menu import HelpMenu
from particle_gui.gui.widgets.shape_legend import ShapeLegend
from particle_gui.gui.widgets.shape_plot import ShapePlotWidget
from particle_gui.gui.widgets.size_histogram import SizeHistogramWidget
from particle_gui.gui.widgets.summary_panel import SummaryPanel

DEFAULT_SIZE = (1500, 950)  # the window at its first start, when the screen has room
CANVAS_MINIMUM = (320, 240)
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"

NETWORK_PROGRESS = "Running the network:"  # the status bar's progress words, cleared when the run ends


class MainWindow(QMainWindow):
    """Canvas in the middle, parameters on the left, plots and tables in docks."""

    def __init__(
        self, controller: AppController | None = None, settings: Settings | None = None,
        autosaver: Autosaver | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("particle_gui")
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or Settings.load()
        params = None
        if self.settings.last_params:
            try:
                params = PipelineParams.from_dict(self.settings.last_params)
            except ParticleGuiError:  # settings from another version: start from the defaults
                params = None
        self.controller = controller or AppController(self, params=params)

        self.canvas = ImageCanvas()
        self.message_bar = MessageBar()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.message_bar)
        column.addWidget(self.canvas, 1)
        self.canvas.setMinimumSize(*CANVAS_MINIMUM)  # the docks give way before the image does
        self.setCentralWidget(central)

        self.params_panel = ParamsPanel(self.controller.default_params)
        self.file_list = FileListWidget()
        self.size_histogram = SizeHistogramWidget()
        self.shape_plot = ShapePlotWidget()
        self.summary_panel = SummaryPanel()
        self.intensity_histogram = IntensityHistogramWidget()
        self.particle_table = ParticleTableWidget()
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        params_dock = self._dock(self.params_panel, "Parameters", left)
        files_dock = self._dock(self.file_list, "Images", left)
        self.tabifyDockWidget(params_dock, files_dock)
        params_dock.raise_()
        intensity_dock = self._dock(self.intensity_histogram, "Intensity histogram", left)
        size_dock = self._dock(self.size_histogram, "Size distribution", right)
        shape_dock = self._dock(self.shape_plot, "Shape", right)
        self.tabifyDockWidget(size_dock, shape_dock)
        size_dock.raise_()
        summary_dock = self._dock(self.summary_panel, "Summary", right)
        table_dock = self._dock(self.particle_table, "Particles", Qt.DockWidgetArea.BottomDockWidgetArea)
        width, height = self._first_size()
        across, down = width / DEFAULT_SIZE[0], height / DEFAULT_SIZE[1]
        self.resizeDocks([params_dock, size_dock], [round(400 * across), round(440 * across)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([params_dock, intensity_dock, size_dock, summary_dock, table_dock],
                         [round(h * down) for h in (480, 220, 430, 270, 170)], Qt.Orientation.Vertical)

        self.calibration_label = QLabel("no image")
        self.count_label = QLabel("")
        self.hover_label = QLabel("")
        self.busy_indicator = QProgressBar()
        self.busy_indicator.setRange(0, 0)
        self.busy_indicator.setMaximumWidth(120)
        self.busy_indicator.setVisible(False)
        self.statusBar().addWidget(self.calibration_label)
        self.statusBar().addWidget(self.count_label)
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.busy_indicator)

        self._build_actions()
        self.editor = Editor(self.controller, autosaver)
        self.edit_menu = EditMenu(self, self.editor)
        self._connect()
        self._restore_layout()
        if not self.settings.window_geometry:
            self.resize(width, height)

    def _first_size(self) -> tuple[int, int]:
        """The window's size at its first start: 1500 x 950, or the screen's free area when smaller."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        free = screen.availableGeometry()
        # A window manager adds a title bar and borders outside the size asked for.
        return min(DEFAULT_SIZE[0], free.width() - 16), min(DEFAULT_SIZE[1], free.height() - 48)

    # --- construction -------------------------------------------------------------------------

    def _dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        label = tip or text.replace("&", "").rstrip(".…")
        action.setToolTip(f"{label} ({action.shortcut().toString()})" if shortcut is not None else label)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = self.file_menu = menu.addMenu("&File")
        self.open_action = self._action("&Open image…", self._on_open_triggered, QKeySequence.StandardKey.Open)
        self.open_folder_action = self._action("Open &folder…", self._on_open_folder_triggered, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu("Recent files")
        for action in (self.open_action, self.open_folder_action):
            file_menu.insertAction(self.recent_menu.menuAction(), action)
        file_menu.addSeparator()
        self.output_menu = OutputMenu(self, file_menu)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.quit_asking, QKeySequence.StandardKey.Quit)
        file_menu.addAction(self.quit_action)

        image_menu = menu.addMenu("&Image")
        self.next_action = self._action("&Next image", lambda: self.controller.step_image(1), "PgDown")
        self.previous_action = self._action("&Previous image", lambda: self.controller.step_image(-1), "PgUp")
        image_menu.addAction(self.next_action)
        image_menu.addAction(self.previous_action)
        self.cancel_run_action = self._action("&Cancel the analysis", self.cancel_run, "Ctrl+.",
                                              "Stop the analysis in progress (the network's pass); the last result stays")
        image_menu.addAction(self.cancel_run_action)

        self.calibration_menu = CalibrationMenu(self, menu.addMenu("&Calibrate"))
        self.adapt_menu = AdaptMenu(self, menu.addMenu("&Adapt"))

        view_menu = menu.addMenu("&View")
        self.overlay_action = self._action("Show &particles", self.canvas.set_overlay_visible, "O")
        self.overlay_action.setCheckable(True)
        self.overlay_action.setChecked(True)
        view_menu.addAction(self.overlay_action)
        for dock in self.findChildren(QDockWidget):
            view_menu.addAction(dock.toggleViewAction())
        self.help_menu = HelpMenu(self, menu.addMenu("&Help"))

        toolbar = QToolBar("Main")
        toolbar.setObjectName("toolbar:main")
        self.addToolBar(toolbar)
        for action in (self.open_action, self.open_folder_action, self.previous_action, self.next_action,
                       self.scale_bar_action, self.apply_scale_bar_action, self.export_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        self.overlay_check = QCheckBox("Overlay")
        self.overlay_check.setChecked(True)
        self.overlay_mode_combo = QComboBox()
        self.overlay_mode_combo.addItems(list(OVERLAY_MODES))
        self.overlay_mode_combo.setToolTip("Outlines, filled particles, or particles coloured by shape class")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(90)
        self.opacity_slider.setMaximumWidth(100)
        self.opacity_slider.setToolTip("Overlay opacity")
        for widget in (self.overlay_check, self.overlay_mode_combo, QLabel(" Opacity "), self.opacity_slider):
            toolbar.addWidget(widget)
        self.shape_legend = ShapeLegend()
        self.shape_legend_action = toolbar.addWidget(self.shape_legend)
        self.shape_legend_action.setVisible(False)
        self._refresh_recent_menu()

    def _connect(self) -> None:
        c = self.controller
        c.documentOpened.connect(self._on_controller_document_opened)
        c.paramsChanged.connect(self.params_panel.show_params)
        c.resultChanged.connect(self._on_controller_result_changed)
        c.calibrationChanged.connect(self._on_controller_calibration_changed)
        c.selectionChanged.connect(self._on_controller_selection_changed)
        c.folderChanged.connect(self.file_list.set_paths)
        c.busyChanged.connect(self._on_busy_changed)
        c.runner.progressed.connect(self._on_run_progressed)
        c.errorOccurred.connect(self.message_bar.show_error)
        c.noticeRaised.connect(self._on_notice)
        self.params_panel.valueEdited.connect(c.set_value)
        self.params_panel.methodChosen.connect(c.set_method)
        self.file_list.fileActivated.connect(c.open_image)
        self.canvas.particleClicked.connect(self._on_canvas_particle_clicked)
        self.canvas.hoverChanged.connect(self.hover_label.setText)
        self.shape_plot.particlesClicked.connect(self._on_plot_particles_clicked)
        self.particle_table.particlesSelected.connect(c.select)
        self.intensity_histogram.thresholdDragged.connect(c.set_manual_threshold)
        self.overlay_check.toggled.connect(self.canvas.set_overlay_visible)
        self.overlay_check.toggled.connect(self.overlay_action.setChecked)
        self.overlay_action.toggled.connect(self.overlay_check.setChecked)
        self.overlay_mode_combo.currentTextChanged.connect(self.canvas.set_overlay_mode)
        self.overlay_mode_combo.currentTextChanged.connect(
            lambda mode: self.shape_legend_action.setVisible(mode == "shape"))
        self.opacity_slider.valueChanged.connect(lambda v: self.canvas.set_overlay_opacity(v / 100))

    # --- controller -> view -----------------------------------------------------------------------

    def _on_controller_document_opened(self, document) -> None:
        self.canvas.set_image(document.image)
        self.file_list.set_current(document.path)
        self.setWindowTitle(f"{document.path.name} — particle_gui")
        self.settings.add_recent(document.path)
        self._refresh_recent_menu()
        self.message_bar.clear()
        if document.image.warnings:
            self.message_bar.show_warnings(list(document.image.warnings))
        for widget in (self.size_histogram, self.shape_plot, self.summary_panel, self.intensity_histogram,
                       self.particle_table):
            widget.set_result(None)
        self.intensity_histogram.set_grey_levels(document.image.intensity_offset, document.image.intensity_scale)
        self.count_label.setText("analysing…")

    def _on_controller_result_changed(self, result) -> None:
        document = self.controller.current
        self.canvas.set_result(result, document.layers if document is not None else None)
        widgets = [self.size_histogram, self.shape_plot, self.summary_panel, self.particle_table, self.shape_legend]
        # A hand edit, or shape classes arriving, leave the intensities and the threshold as they were.
        if result.origin not in ("edit", "shapes"):
            widgets.append(self.intensity_histogram)
        for widget in widgets:
            widget.set_result(result)
        self._on_controller_selection_changed(self.controller.selection)
        self.count_label.setText(f"{result.count} particles")
        warnings = list(result.warnings)
        if self.controller.current is not None:
            warnings += self.controller.current.calibration()[1]
        if not self.message_bar.is_error():
            self.message_bar.show_warnings(list(dict.fromkeys(warnings)))

    def _on_busy_changed(self, busy: bool) -> None:
        self.busy_indicator.setRange(0, 0)  # busy until the network reports its tiles
        self.busy_indicator.setVisible(busy)
        if not busy and self.statusBar().currentMessage().startswith(NETWORK_PROGRESS):
            self.statusBar().clearMessage()  # "tile 6 of 6" is no longer news once the result is shown

    def _on_run_progressed(self, stage: str, done: int, total: int) -> None:
        """The network's pass: tiles done of the pass, on the bar and in words, with how to stop it."""
        self.busy_indicator.setRange(0, total)
        self.busy_indicator.setValue(done)
        self.statusBar().showMessage(f"{NETWORK_PROGRESS} tile {done} of {total} (Ctrl+. cancels)", 3000)

    def cancel_run(self) -> None:
        """Image > Cancel the analysis: the run in progress stops at its next tile or stage."""
        if self.busy_indicator.isVisible():
            self.controller.runner.cancel()
            self.statusBar().showMessage("Analysis cancelled; the last result stays.", 5000)

    def _on_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)
        if not self.message_bar.is_error():
            self.message_bar.show_warnings([text])

    def _on_controller_calibration_changed(self, calibration, warnings) -> None:
        self.calibration_label.setText(f"Pixel size: {calibration.describe()}")
        self.params_panel.set_pixel_size(calibration.pixel_size_nm)
        if warnings:
            self.message_bar.show_warnings(list(warnings))

    def _on_controller_selection_changed(self, ids) -> None:
        self.canvas.set_selection(ids)
        self.shape_plot.set_selection(ids)
        self.size_histogram.set_selection(ids)
        self.particle_table.set_selection(ids)

    # --- view -> controller -----------------------------------------------------------------------

    def _on_canvas_particle_clicked(self, particle_id: int, additive: bool) -> None:
        current = set(self.controller.selection)
        if additive:
            current ^= {particle_id} if particle_id else set()
        else:
            current = {particle_id} if particle_id else set()
        self.controller.select(current)

    def _on_plot_particles_clicked(self, ids, additive: bool) -> None:
        current = set(self.controller.selection) if additive else set()
        self.controller.select(current ^ set(ids) if additive else set(ids))

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self.settings.last_directory, IMAGE_FILTER)
        if path:
            self.settings.last_directory = str(Path(path).parent)
            self.controller.open_image(path)

    def _on_open_folder_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder", self.settings.last_directory)
        if folder:
            self.settings.last_directory = folder
            self.controller.open_folder(folder)

    def apply_scale_bar(self, length_px: float, length_nm: float) -> None:
        self.calibration_menu.apply_scale_bar(length_px, length_nm)

    # --- drag and drop, recent files, settings -----------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        if paths[0].is_dir():
            self.controller.open_folder(paths[0])
        else:
            self.controller.open_image(paths[0])
        event.acceptProposedAction()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.controller.open_image(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def _restore_layout(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))

    def save_settings(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64()).decode()
        self.settings.last_params = self.controller.params.to_dict()
        try:
            self.settings.save()
        except Exception as exc:  # never lose the session over a settings file
            self.message_bar.show_error(f"Could not save settings: {exc}")

    def quit_asking(self) -> bool:
        """File > Quit: ask about unsaved corrections, then close; False when the user chose to stay."""
        self.editor.wait_idle(3000)
        if not self.edit_menu.confirm_quit():
            return False
        self._quit_confirmed = True
        return self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # The user closing the window (its close button) is asked like File > Quit; a close made by
        # the program (tests, shutdown) keeps unsaved corrections in the recovery folder instead.
        if event.spontaneous() and not getattr(self, "_quit_confirmed", False):
            self.editor.wait_idle(3000)
            if not self.edit_menu.confirm_quit():
                event.ignore()
                return
        self.controller.runner.cancel()
        self.editor.wait_idle(3000)
        self.editor.autosaver.close()  # unsaved corrections stay in the recovery folder
        self.save_settings()
        super().closeEvent(event)
