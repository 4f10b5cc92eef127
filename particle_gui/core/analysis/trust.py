"""Knowing when unsure: how far an image's result can be trusted, per particle and per image.

Each particle carries a ``confidence`` (0-1, the mean certainty of its pixels: see
:class:`~particle_gui.core.analysis.threshold.ThresholdResult`). An image is *suspect* when its particles'
median confidence is low, when many of them are unsure, or when the method itself reported that
the image is unlike what it handles well (a network that is unsure of much of the image or sees
particles outside its trained size range, a histogram with no valley between particles and
background, one particle covering the image). A suspect image gets a warning that says why, in
the window, ``summary.csv`` and the report; ``benchmarks/bench_trust.py`` measures how well the
flag predicts a poor result (F1 < 0.5) on every source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: A particle is unsure below this confidence ...
PARTICLE_UNSURE = 0.5
#: ... and an image suspect when its median particle confidence is under this,
IMAGE_MEDIAN_CONFIDENCE = {"dl": 0.75, "classical": 0.5}
#: or when more than this fraction of its particles are unsure.
UNSURE_FRACTION = 0.35
#: Warnings of the methods that say the image is unlike what they handle well (matched by substring).
METHOD_DOUBTS = ("network is unsure", "network found no particles", "outside the size range",
                 "very small for the network", "not clearly bimodal", "covers")


@dataclass(frozen=True)
class ImageTrust:
    """How far one image's result can be trusted.

    Attributes
    ----------
    confidence : float
        Median particle confidence (NaN without particles or without a certainty map).
    unsure_particles : int
        Particles whose confidence is under :data:`PARTICLE_UNSURE`.
    reasons : tuple of str
        Why the particles' confidence makes the image suspect.
    """

    confidence: float
    unsure_particles: int
    reasons: tuple[str, ...] = ()
    #: The method's own warnings that make the image suspect (already shown as they are).
    doubts: tuple[str, ...] = ()

    @property
    def suspect(self) -> bool:
        return bool(self.reasons or self.doubts)

    def warning(self) -> str | None:
        """The warning a suspect image gets for its particles' confidence, or None.

        A method's own doubts are warnings already.
        """
        if not self.reasons:
            return None
        return ("This result may be poor: " + "; ".join(self.reasons)
                + ". Check it against the image, correct it, or try the other method.")


def assess(particles: pd.DataFrame, warnings: tuple[str, ...] | list[str], *, method: str) -> ImageTrust:
    """The trust of one image's result from its particle table and its method's warnings.

    >>> table = pd.DataFrame({"confidence": [0.9, 0.95, 0.2], "touches_edge": [False] * 3})
    >>> assess(table, [], method="dl").suspect
    False
    >>> assess(table.assign(confidence=[0.3, 0.4, 0.9]), [], method="dl").reasons
    ('the particles are found with low confidence (median 0.40)', '2 of 3 particles are unsure')
    """
    inner = particles[~particles["touches_edge"]] if "touches_edge" in particles.columns else particles
    values = inner["confidence"].to_numpy(dtype=np.float64) if "confidence" in inner.columns else np.zeros(0)
    values = values[np.isfinite(values)]
    median = float(np.median(values)) if values.size else float("nan")
    unsure = int(np.count_nonzero(values < PARTICLE_UNSURE))
    reasons: list[str] = []
    if values.size and median < IMAGE_MEDIAN_CONFIDENCE.get(method, 0.5):
        reasons.append(f"the particles are found with low confidence (median {median:.2f})")
    if values.size >= 3 and unsure > UNSURE_FRACTION * values.size:
        reasons.append(f"{unsure} of {values.size} particles are unsure")
    doubts = tuple(w for w in warnings if any(key in w for key in METHOD_DOUBTS))
    return ImageTrust(median, unsure, tuple(reasons), doubts)
