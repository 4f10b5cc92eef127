"""How well a label image agrees with the user's corrected labels of the same image.

One convention for every figure the adaptation reports (the same as the project's accuracy
benchmarks): particles touching the image border are dropped from both label images, so are
fragments under ``min_fragment_px`` pixels; particles are paired one to one on IoU (Hungarian
matching) and a pair agrees when its IoU is at least 0.5. The D50 error is the relative
difference of the median equivalent circular diameters.

The search maximises :attr:`Agreement.objective`: F1 less half the D50 error (capped at 1), so
that of two settings finding the same particles, the one whose sizes are right wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from particle_gui.core.adapt.matching import drop_edge_instances, match_instances

#: Fragments under this many pixels are ignored on both sides (the benchmarks' convention).
MIN_FRAGMENT_PX = 30
#: Weight of the D50 error in :attr:`Agreement.objective`.
D50_WEIGHT = 0.5


@dataclass(frozen=True)
class Agreement:
    """Agreement of one or more predicted label images with their corrected labels.

    Attributes
    ----------
    n_true, n_pred, n_matched : int
        Corrected particles, predicted particles, and pairs with IoU >= 0.5.
    d50_error : float
        Median over the images of (predicted D50 / corrected D50 - 1); NaN without particles.
    images : int
    """

    n_true: int
    n_pred: int
    n_matched: int
    d50_error: float
    images: int = 1

    @property
    def f1(self) -> float:
        """F1 at IoU 0.5 over every particle of the images (1 when both sides are empty)."""
        total = self.n_true + self.n_pred
        return 1.0 if total == 0 else 2.0 * self.n_matched / total

    @property
    def objective(self) -> float:
        """What the search maximises: F1 - 0.5 x min(|D50 error|, 1)."""
        error = 1.0 if not np.isfinite(self.d50_error) else min(abs(self.d50_error), 1.0)
        return self.f1 - D50_WEIGHT * error

    def to_dict(self) -> dict:
        return {"f1": round(self.f1, 4), "d50_error": None if not np.isfinite(self.d50_error) else round(self.d50_error, 4),
                "n_true": self.n_true, "n_pred": self.n_pred, "n_matched": self.n_matched, "images": self.images}


def without_fragments(labels: np.ndarray, min_px: int) -> np.ndarray:
    """``labels`` without the instances under ``min_px`` pixels."""
    areas = np.bincount(labels.ravel())
    small = np.flatnonzero((areas < min_px) & (areas > 0))
    if small.size == 0:
        return labels
    out = labels.copy()
    out[np.isin(labels, small)] = 0
    return out


def _d50(labels: np.ndarray) -> float:
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    return float(np.median(np.sqrt(4.0 * areas / np.pi))) if areas.size else float("nan")


def agreement(corrected: np.ndarray, predicted: np.ndarray, *, min_fragment_px: int = MIN_FRAGMENT_PX) -> Agreement:
    """Agreement of ``predicted`` with the user's ``corrected`` labels of the same image.

    >>> truth = np.zeros((20, 20), np.int32); truth[5:10, 5:10] = 1; truth[12:18, 12:18] = 2
    >>> found = np.zeros((20, 20), np.int32); found[5:10, 5:11] = 7
    >>> a = agreement(truth, found, min_fragment_px=1)
    >>> (a.n_true, a.n_pred, a.n_matched, round(a.f1, 3))
    (2, 1, 1, 0.667)
    """
    corrected = np.asarray(corrected)
    predicted = np.asarray(predicted)
    if corrected.shape != predicted.shape:
        raise ValueError(f"corrected labels {corrected.shape} and result {predicted.shape} differ in size")
    truth = without_fragments(drop_edge_instances(corrected.astype(np.int32, copy=False)), min_fragment_px)
    found = without_fragments(drop_edge_instances(predicted.astype(np.int32, copy=False)), min_fragment_px)
    match = match_instances(truth, found)
    d_true, d_found = _d50(truth), _d50(found)
    if np.isfinite(d_true):
        d50_error = d_found / d_true - 1.0 if np.isfinite(d_found) else -1.0
    else:
        d50_error = float("nan")
    return Agreement(match.n_true, match.n_pred, match.tp(0.5), float(d50_error))


def pooled(parts: list[Agreement]) -> Agreement:
    """The particles of several images pooled (F1), with the median of their D50 errors.

    >>> pooled([Agreement(10, 10, 9, 0.1), Agreement(10, 12, 8, -0.3), Agreement(5, 5, 5, 0.0)]).d50_error
    0.0
    """
    errors = [p.d50_error for p in parts if np.isfinite(p.d50_error)]
    return Agreement(sum(p.n_true for p in parts), sum(p.n_pred for p in parts), sum(p.n_matched for p in parts),
                     float(np.median(errors)) if errors else float("nan"), sum(p.images for p in parts))
