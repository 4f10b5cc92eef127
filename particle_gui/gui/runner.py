"""Runs the pipeline off the GUI thread: one run at a time, only the newest request's result kept.

Every request carries a generation number. A new request makes the run in flight stale: it
is cancelled at its next stage boundary (the pipeline checks ``should_cancel``) and its result,
if it still arrives, is dropped. Only the newest request's result reaches ``resultReady``.

Shape classes come second. Classifying takes longer than the rest of a slider step, so a run's
result is shown with its classes "pending"; when no newer request has come within
:data:`CLASSIFY_DELAY_MS` (the user paused), a second, cancellable worker job classifies the
particles and ``shapesReady`` reports the completed result. During a drag the network never
holds a step up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from superqt.utils import create_worker

from particle_gui.core.document import RunInputs
from particle_gui.core.errors import CancelledError
from particle_gui.core.editing.reconcile import CorrectedRun
from particle_gui.core.output.render import OverlayLayers, overlay_layers
from particle_gui.desktop.logs import configure_logging, describe_exception

#: A request waits this long for a newer one before it starts. Zero: an idle runner starts at
#: once, and requests arriving while a run is in flight are merged anyway (only the newest
#: waits for the run to stop), so slider drags need no delay of their own.
START_DELAY_MS = 0
#: A shown result's shape classes are computed once no newer request came for this long.
CLASSIFY_DELAY_MS = 40


@dataclass(frozen=True, eq=False)
class RunOutput:
    """A finished run: its inputs, its result (corrections laid over it) and its overlay layers."""

    inputs: RunInputs
    run: CorrectedRun
    layers: OverlayLayers

    @property
    def result(self):
        return self.run.result


@dataclass(frozen=True, eq=False)
class RunRequest:
    """A requested run: the document's inputs and the generation that identifies the request."""

    generation: int
    inputs: RunInputs


class PipelineRunner(QObject):
    """Schedules pipeline runs in a worker thread and reports the newest result.

    Signals
    -------
    resultReady(object, int)
        A :class:`RunOutput` and the generation it answers.
    shapesReady(object, int)
        After a ``resultReady`` whose shape classes were pending: the same output with the
        result's classes filled in (same labels, outlines and overlay).
    runFailed(str, str)
        A readable message (naming the image) and the technical details; the error is logged.
    busyChanged(bool)
    """

    resultReady = Signal(object, int)
    shapesReady = Signal(object, int)
    runFailed = Signal(str, str)
    busyChanged = Signal(bool)
    #: A long stage's progress (the network's tiles): stage name, done, total. From the worker.
    progressed = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None, *, start_delay_ms: int = START_DELAY_MS) -> None:
        super().__init__(parent)
        configure_logging()  # every window has a runner: its log works however the window was started
        self._generation = 0
        self._pending: RunRequest | None = None
        self._in_flight: RunRequest | None = None
        self._worker = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(start_delay_ms)
        self._timer.timeout.connect(self._start_pending)
        self._to_classify: tuple[RunRequest, RunOutput] | None = None  # shown, classes still to come
        self._classify_timer = QTimer(self)
        self._classify_timer.setSingleShot(True)
        self._classify_timer.setInterval(CLASSIFY_DELAY_MS)
        self._classify_timer.timeout.connect(self._start_classification)

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def busy(self) -> bool:
        return self._in_flight is not None or self._pending is not None or self._to_classify is not None

    def request(self, inputs: RunInputs) -> int:
        """Ask for a run of a document's ``inputs``; returns its generation.

        Earlier requests become stale.
        """
        self._generation += 1
        was_busy = self.busy
        self._drop_classification()
        self._pending = RunRequest(self._generation, inputs)
        if not was_busy:
            self.busyChanged.emit(True)
        if self._in_flight is None and self._timer.interval() == 0:
            self._start_pending()  # idle: start now, without waiting for a repaint
        else:
            self._timer.start()
        return self._generation

    def cancel(self) -> None:
        """Drop the pending request and make the run in flight stale."""
        self._generation += 1
        self._pending = None
        self._timer.stop()
        self._drop_classification()
        if self._in_flight is None:
            self.busyChanged.emit(False)

    def _drop_classification(self) -> None:
        self._to_classify = None
        self._classify_timer.stop()

    def _start_pending(self) -> None:
        if self._in_flight is not None or self._pending is None:
            return  # the run in flight will start the pending one when it stops
        request, self._pending = self._pending, None
        self._in_flight = request

        def work() -> RunOutput | None:
            inputs = request.inputs
            try:
                result = inputs.pipeline.run(
                    inputs.params,
                    inputs.calibration,
                    should_cancel=lambda: request.generation != self._generation,
                    progress=self._report_progress,
                    defer_shapes=True,
                )
            except CancelledError:
                return None  # a newer request superseded this one
            run = inputs.corrections(result) if inputs.corrections is not None else CorrectedRun(result)
            return RunOutput(inputs, run, overlay_layers(run.result))

        self._start_worker(work, self._on_worker_returned)

    def _start_worker(self, work: Callable[[], RunOutput | None], on_returned: Callable) -> None:
        # _ignore_errors: errors go to the handler below only; by default superqt also re-raises
        # them in the GUI thread, where they end as unhandled exceptions.
        worker = create_worker(work, _ignore_errors=True)
        # Bound methods, not lambdas: Qt disconnects them if the runner is deleted first.
        worker.returned.connect(on_returned)
        worker.errored.connect(self._on_worker_errored)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        worker.start()

    def _start_classification(self) -> None:
        if self._in_flight is not None or self._pending is not None or self._to_classify is None:
            return
        # Current: a new request or cancel() drops the classification still to start.
        (request, output), self._to_classify = self._to_classify, None
        self._in_flight = request

        def work() -> RunOutput | None:
            try:
                completed = request.inputs.pipeline.complete_shapes(
                    output.result, should_cancel=lambda: request.generation != self._generation
                )
            except CancelledError:
                return None
            return RunOutput(output.inputs, CorrectedRun(completed, output.run.reconciled), output.layers)

        self._start_worker(work, self._on_classified)

    def _report_progress(self, stage: str, done: int, total: int) -> None:
        if stage == "inference":  # the other stages take milliseconds: not worth a message
            self.progressed.emit(stage, done, total)

    def _on_worker_returned(self, result: RunOutput | None) -> None:
        request = self._in_flight
        if result is not None and request is not None and request.generation == self._generation:
            if result.result.shapes_pending:
                self._to_classify = (request, result)
            self.resultReady.emit(result, request.generation)

    def _on_classified(self, output: RunOutput | None) -> None:
        request = self._in_flight
        if output is not None and request is not None and request.generation == self._generation:
            self.shapesReady.emit(output, request.generation)

    def _on_worker_errored(self, exc: BaseException) -> None:
        request = self._in_flight
        if isinstance(exc, CancelledError) or request is None or request.generation != self._generation:
            return
        path = getattr(request.inputs.pipeline.image, "path", None)
        subject = path.name if path is not None else None
        self.runFailed.emit(*describe_exception(exc, context="The analysis failed", subject=subject))

    def _on_worker_finished(self) -> None:
        self._in_flight = None
        self._worker = None
        if self._pending is not None:
            if not self._timer.isActive():
                self._start_pending()
        elif self._to_classify is not None:
            self._classify_timer.start()
        else:
            self.busyChanged.emit(False)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until idle (for tests and shutdown); returns False on timeout."""
        from PySide6.QtCore import QCoreApplication, QElapsedTimer

        clock = QElapsedTimer()
        clock.start()
        while self.busy and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.busy
