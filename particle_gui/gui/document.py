"""One open image with its own parameters, calibration choices and latest result (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from particle_gui.core.calibration import Calibration, resolve_calibration
from particle_gui.core.corrections import Corrections
from particle_gui.core.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.pipeline import Pipeline, PipelineResult
from particle_gui.core.profiles import CalibrationProfile


@dataclass
class ImageDocument:
    """An image the user is working on.

    The pixel size comes from, in order of trust: the file's metadata, a scale bar (drawn by the
    user or detected) with its typed length, a pixel size typed by the user.
    """

    image: LoadedImage
    params: PipelineParams
    pipeline: Pipeline = field(init=False)
    scale_bar_length_nm: float | None = None
    scale_bar_length_px: float | None = None
    manual_pixel_size_nm: float | None = None
    result: PipelineResult | None = None
    outlines: np.ndarray | None = None
    overlay_rgba: np.ndarray | None = None
    #: Hand corrections of the result (None until the first edit); ``result.labels`` then shows
    #: ``corrections.labels``.
    corrections: Corrections | None = None
    #: SHA-256 of the image file, computed when a session or an autosave first needs it.
    image_sha256: str | None = None
    #: Where the session was last saved or opened from (None: never saved).
    session_path: Path | None = None
    #: True when there are hand corrections not yet saved in a session file.
    unsaved_edits: bool = False
    #: The reference-standard profile that corrects this image's metadata (matched by the controller).
    profile: CalibrationProfile | None = None

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.image)

    @property
    def path(self) -> Path:
        return self.image.path

    def calibration(self) -> tuple[Calibration, list[str]]:
        """The calibration in force and any override or disagreement warnings."""
        metadata = self.image.metadata_calibration
        if self.profile is not None:
            metadata = self.profile.apply(metadata)
        return resolve_calibration(
            metadata,
            scale_bar_length_nm=self.scale_bar_length_nm,
            scale_bar_length_px=self.scale_bar_length_px,
            manual_pixel_size_nm=self.manual_pixel_size_nm,
            detected=self.pipeline.region(self.params).scale_bar,
        )

    def detected_scale_bar_px(self) -> float | None:
        bar = self.pipeline.region(self.params).scale_bar
        return float(bar.length_px) if bar is not None else None
