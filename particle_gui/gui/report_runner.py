"""Builds a multi-sample report in a worker thread, reporting progress (the GUI's "Build report")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from particle_gui.core.errors import CancelledError, ParticleGuiError
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.samples import samples_from_folder
from particle_gui.desktop.logs import describe_exception

if TYPE_CHECKING:
    from particle_gui.core.output.report import ReportResult


class ReportRunner(QObject):
    """One report at a time, off the GUI thread.

    Signals
    -------
    progressed(int, int, str)   steps done, steps in all, what is being done
    finished(object)            the :class:`ReportResult`
    failed(str, str)            message and details (a worker's error is also logged)
    """

    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = None
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, folder: str | Path, out_dir: str | Path, params: PipelineParams, *,
              pixel_size_nm: float | None = None) -> bool:
        """Build the report of ``folder`` (each sub-folder one sample) into ``out_dir``."""
        if self._worker is not None:
            return False
        try:
            samples = samples_from_folder(folder)
        except ParticleGuiError as exc:
            self.failed.emit(str(exc), "")
            return False
        if not samples:
            self.failed.emit(f"{folder}: no images in this folder or its sub-folders.", "")
            return False
        self._cancelled = False

        def work() -> ReportResult:
            from particle_gui.core.output.report import build_report  # matplotlib's PDF: only when a report is made

            return build_report(
                samples, out_dir, params,
                pixel_size_nm=pixel_size_nm,
                progress=self.progressed.emit,
                should_cancel=lambda: self._cancelled,
                command=("particle-gui (window)", "report", str(folder)),
                jobs=os.cpu_count() or 1,  # worker processes: the window's own process stays free
            )

        # _ignore_errors: errors go to the handler below only; by default superqt also re-raises
        # them in the GUI thread, where they end as unhandled exceptions.
        worker = create_worker(work, _ignore_errors=True)
        worker.returned.connect(self._on_worker_returned)
        worker.errored.connect(self._on_worker_errored)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        worker.start()
        return True

    def cancel(self) -> None:
        self._cancelled = True

    def _on_worker_returned(self, result: ReportResult) -> None:
        self.finished.emit(result)

    def _on_worker_errored(self, exc: BaseException) -> None:
        if isinstance(exc, CancelledError):
            self.failed.emit("The report was cancelled.", "")
            return
        self.failed.emit(*describe_exception(exc, context="The report could not be built"))

    def _on_worker_finished(self) -> None:
        self._worker = None
