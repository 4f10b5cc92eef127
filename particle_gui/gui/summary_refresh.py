"""The full summary after hand edits, recomputed in a worker once the edits pause.

An edit shows new counts and percentiles at once; once the edits pause, the costly part (bootstrap
intervals, log-normal fit, families) is recomputed in a worker and replaces the summary shown.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QTimer
from superqt.utils import create_worker

from particle_gui.core.editing.corrections import table_summary
from particle_gui.gui.controller import AppController

log = logging.getLogger(__name__)

#: After edits stop for this long, the summary's fits and intervals are recomputed (in a worker).
FULL_SUMMARY_DELAY_MS = 250


class SummaryRefresher:
    """Recomputes the current document's full summary once the edits pause, one at a time."""

    def __init__(self, app: AppController, parent: QObject) -> None:
        # A plain object whose timer belongs to ``parent`` (the Editor): a QObject child of the
        # Editor collected with it crashed the garbage collector ("shared QObject was deleted directly").
        self.app = app
        self._worker = None
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FULL_SUMMARY_DELAY_MS)
        self._timer.timeout.connect(self._start)

    def schedule(self) -> None:
        """An edit happened: (re)start the pause timer."""
        self._timer.start()

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or self._worker is not None

    def wait_idle(self, timeout_ms: int = 10_000) -> bool:
        """Until the pending full summary is shown (tests, benchmarks); False on timeout."""
        clock = QElapsedTimer()
        clock.start()
        while self.busy and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.busy

    def _start(self) -> None:
        document = self.app.current
        if document is None or document.result is None or document.corrections is None:
            return
        if self._worker is not None:  # one at a time; try again when it is done
            self._timer.start()
            return
        result, version = document.result, document.corrections.version

        def done(summary) -> None:
            # Not when a run for newer parameters is on its way: its result comes with a full summary.
            if (document.corrections is None or document.corrections.version != version
                    or result.params != document.params):
                return
            if document.result is result:
                self.app.show_result(document, dataclasses.replace(result, summary=summary))
            elif document.result is not None and document.result.labels is result.labels:
                self._timer.start()  # only the shape classes arrived meanwhile: summarise that table

        particles = result.particles
        worker = create_worker(lambda: table_summary(particles, result), _ignore_errors=True)
        worker.returned.connect(done)
        worker.errored.connect(lambda exc: log.warning("summary after an edit failed", exc_info=exc))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        worker.start()

    def _on_finished(self) -> None:
        self._worker = None
