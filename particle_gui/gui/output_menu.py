"""The File menu's outputs: exports, the multi-sample report and parameter presets.

Export the current image's results and plots, build a multi-sample report in the background, save
and load parameter presets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from particle_gui.gui.report_runner import ReportRunner


class OutputMenu:
    """Adds the output actions to ``menu`` and runs them; the report runs in :attr:`report_runner`.

    The window keeps the actions as attributes: ``export_action``, ``export_plots_action``,
    ``report_action``, ``save_preset_action``, ``load_preset_action``.
    """

    def __init__(self, window, menu) -> None:
        self.window = window
        self.controller = window.controller
        w = window
        w.export_action = w._action("&Export results…", self._on_export_triggered, "Ctrl+E")
        w.export_plots_action = w._action("Export &plots…", self._on_export_plots_triggered)
        w.report_action = w._action("Build &report from folder…", self._on_report_triggered, "Ctrl+R",
                                    "Each sub-folder is one sample: analyse, compare and write a PDF report")
        w.save_preset_action = w._action("Save parameters as preset…", self._on_save_preset_triggered)
        w.load_preset_action = w._action("Load parameter preset…", self._on_load_preset_triggered)
        for action in (w.export_action, w.export_plots_action, w.report_action, w.save_preset_action,
                       w.load_preset_action):
            menu.addAction(action)
        self.report_runner = ReportRunner(window)
        self.report_runner.progressed.connect(self._on_report_progressed)
        self.report_runner.finished.connect(self._on_report_finished)
        self.report_runner.failed.connect(self._on_report_failed)

    def _ask_folder(self, title: str, start: str | None = None) -> str:
        return QFileDialog.getExistingDirectory(self.window, title, start or self.start_folder())

    def start_folder(self) -> str:
        """Where file dialogs open: beside the current image, else the last folder used."""
        document = self.controller.current
        if document is not None:
            return str(document.path.parent)
        return self.window.settings.last_directory

    # --- the current image ---------------------------------------------------------------------

    def _on_export_triggered(self) -> None:
        folder = self._ask_folder("Export results to folder")
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path) -> list[Path] | None:
        """Write the CLI's files, Excel and summary JSON, and the plots (PNG and SVG)."""
        written = self.controller.export_results(folder)
        if written is None:
            return None
        written += self.export_plots(folder)
        self.window.statusBar().showMessage(f"Exported {len(written)} files to {folder}", 5000)
        return written

    def export_plots(self, folder: str | Path) -> list[Path]:
        """The size histogram and the shape plot as PNG and SVG."""
        document = self.controller.current
        if document is None or document.result is None:
            return []
        stem = document.path.stem
        written = []
        try:
            for name, widget in (("histogram", self.window.size_histogram), ("shape", self.window.shape_plot)):
                for suffix in (".png", ".svg"):
                    path = Path(folder) / f"{stem}_{name}{suffix}"
                    widget.export_image(path)
                    written.append(path)
        except OSError as exc:
            self.window.message_bar.show_error(f"Cannot export the plots: {exc}")
        return written

    def _on_export_plots_triggered(self) -> None:
        folder = self._ask_folder("Export plots to folder")
        if folder:
            self.export_plots(folder)

    # --- reports -------------------------------------------------------------------------------

    def _on_report_triggered(self) -> None:
        folder = self._ask_folder("Folder of samples (one sub-folder per sample)")
        if not folder:
            return
        out_dir = self._ask_folder("Write the report to folder", folder)
        if out_dir:
            self.build_report(folder, out_dir)

    def build_report(self, folder: str | Path, out_dir: str | Path) -> bool:
        """Analyse every sample of ``folder`` with the current parameters and write the report."""
        document = self.controller.current
        pixel_size = document.manual_pixel_size_nm if document is not None else None
        started = self.report_runner.start(folder, out_dir, self.controller.params, pixel_size_nm=pixel_size)
        if started:
            self.window.report_action.setEnabled(False)
            self.window.busy_indicator.setVisible(True)
        return started

    def _on_report_progressed(self, done: int, total: int, message: str) -> None:
        self.window.statusBar().showMessage(f"Report: {done}/{total} {message}")

    def _on_report_finished(self, result) -> None:
        self._report_stopped()
        lines = [f"Report written: {result.pdf_path}", *result.verdicts]
        self.window.statusBar().showMessage(lines[0], 10_000)
        warnings = list(result.warnings) + [f"{r.outcome.path.name}: {r.outcome.error}" for r in result.failed]
        self.window.message_bar.show_warnings(["; ".join(lines)] + warnings)

    def _on_report_failed(self, message: str, details: str) -> None:
        self._report_stopped()
        self.window.message_bar.show_error(message, details)

    def _report_stopped(self) -> None:
        self.window.report_action.setEnabled(True)
        self.window.busy_indicator.setVisible(self.controller.runner.busy)

    # --- presets -------------------------------------------------------------------------------

    def _on_save_preset_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save parameters", str(Path(self.start_folder()) / "params.json"),
                                              "JSON (*.json)")
        if path:
            self.controller.save_preset(path)

    def _on_load_preset_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Load parameters", "", "JSON (*.json)")
        if path:
            self.controller.load_preset(path)
