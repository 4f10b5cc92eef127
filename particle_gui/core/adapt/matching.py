"""Instance-segmentation accuracy metrics for particle label images.

All functions take 2-D integer label images in which 0 is background and
every particle carries its own (not necessarily consecutive) positive id.
Matching follows StarDist's ``matching``: the IoU between every true and
every predicted instance is computed, instances are paired one-to-one with
the Hungarian algorithm maximising the total IoU, and a pair counts as a true
positive at threshold ``t`` when its IoU is ``>= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "MAP_THRESHOLDS",
    "MatchResult",
    "drop_edge_instances",
    "equivalent_diameters",
    "match_instances",
    "relative_count_error",
    "relative_d50_error",
]

#: IoU thresholds 0.50, 0.55, ..., 0.95 used by :meth:`MatchResult.mean_ap`.
MAP_THRESHOLDS: np.ndarray = np.arange(50, 100, 5) / 100.0


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Outcome of a one-to-one matching between true and predicted instances.

    Attributes
    ----------
    n_true : int
        Number of ground-truth instances.
    n_pred : int
        Number of predicted instances.
    ious : numpy.ndarray
        IoU of every Hungarian pair with IoU > 0, sorted in decreasing order
        (read-only, float64).
    true_ids, pred_ids : numpy.ndarray
        Label ids of the true and predicted instance of each pair, aligned
        with ``ious``.
    """

    n_true: int
    n_pred: int
    ious: np.ndarray
    true_ids: np.ndarray
    pred_ids: np.ndarray

    def __post_init__(self) -> None:
        for name in ("ious", "true_ids", "pred_ids"):
            arr = np.array(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def tp(self, t: float) -> int:
        """Number of matched pairs with IoU >= `t`."""
        return int(np.count_nonzero(self.ious >= t))

    def fp(self, t: float) -> int:
        """Number of predicted instances not matched at IoU >= `t`."""
        return self.n_pred - self.tp(t)

    def fn(self, t: float) -> int:
        """Number of true instances not matched at IoU >= `t`."""
        return self.n_true - self.tp(t)

    def f1(self, t: float) -> float:
        """F1 score ``2TP / (2TP + FP + FN)`` at IoU threshold `t`.

        Returns 1.0 when both label images are empty.
        """
        tp = self.tp(t)
        denom = 2 * tp + self.fp(t) + self.fn(t)
        return 1.0 if denom == 0 else 2.0 * tp / denom

    def ap(self, t: float) -> float:
        """Average precision ``TP / (TP + FP + FN)`` at IoU threshold `t`.

        This is the StarDist / DSB-2018 definition. Returns 1.0 when both
        label images are empty.
        """
        tp = self.tp(t)
        denom = tp + self.fp(t) + self.fn(t)
        return 1.0 if denom == 0 else tp / denom

    def mean_ap(self) -> float:
        """Mean of :meth:`ap` over the thresholds 0.50, 0.55, ..., 0.95."""
        return float(np.mean([self.ap(t) for t in MAP_THRESHOLDS]))


def _check_labels(labels: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must not contain negative ids")
    return labels


def _ids_and_areas(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positive ids and their pixel counts."""
    ids, counts = np.unique(labels, return_counts=True)
    keep = ids > 0
    return ids[keep], counts[keep]


def match_instances(true_labels: np.ndarray, pred_labels: np.ndarray) -> MatchResult:
    """Match true and predicted instances one-to-one by IoU.

    The intersection of every overlapping (true, predicted) pair is counted
    from the pixels where both images are foreground, so the cost is
    ``O(n_pixels log n_pixels)`` and no per-instance masks are built. The
    pairing maximises the total IoU (Hungarian algorithm), as in StarDist's
    ``matching``.

    Parameters
    ----------
    true_labels : numpy.ndarray
        Ground-truth 2-D integer label image (0 = background).
    pred_labels : numpy.ndarray
        Predicted 2-D integer label image of the same shape.

    Returns
    -------
    MatchResult
        Instance counts and the IoU of each matched pair with IoU > 0.

    Raises
    ------
    ValueError
        If the images differ in shape, are not 2-D or contain negative ids.
    TypeError
        If an image does not have an integer dtype.
    """
    true_labels = _check_labels(true_labels, "true_labels")
    pred_labels = _check_labels(pred_labels, "pred_labels")
    if true_labels.shape != pred_labels.shape:
        raise ValueError(
            f"shape mismatch: {true_labels.shape} vs {pred_labels.shape}"
        )
    true_ids, true_areas = _ids_and_areas(true_labels)
    pred_ids, pred_areas = _ids_and_areas(pred_labels)
    both = (true_labels > 0) & (pred_labels > 0)
    if not both.any():
        no_pairs = np.empty(0, dtype=np.int64)
        return MatchResult(len(true_ids), len(pred_ids), np.empty(0), no_pairs, no_pairs)
    # Compact indices of the overlapping pixels, then count (true, pred) pairs.
    t_idx = np.searchsorted(true_ids, true_labels[both]).astype(np.int64)
    p_idx = np.searchsorted(pred_ids, pred_labels[both]).astype(np.int64)
    keys, inter = np.unique(t_idx * len(pred_ids) + p_idx, return_counts=True)
    t_idx, p_idx = np.divmod(keys, len(pred_ids))
    iou_pairs = inter / (true_areas[t_idx] + pred_areas[p_idx] - inter)

    # Hungarian matching restricted to the instances that overlap anything.
    rows, t_pos = np.unique(t_idx, return_inverse=True)
    cols, p_pos = np.unique(p_idx, return_inverse=True)
    iou = np.zeros((len(rows), len(cols)))
    iou[t_pos, p_pos] = iou_pairs
    r, c = linear_sum_assignment(iou, maximize=True)
    matched = iou[r, c]
    order = np.argsort(-matched, kind="stable")
    order = order[matched[order] > 0]
    return MatchResult(
        n_true=len(true_ids),
        n_pred=len(pred_ids),
        ious=matched[order],
        true_ids=true_ids[rows[r[order]]],
        pred_ids=pred_ids[cols[c[order]]],
    )


def relative_count_error(true_labels: np.ndarray, pred_labels: np.ndarray) -> float:
    """Relative error of the particle count, ``|n_pred - n_true| / n_true``.

    Parameters
    ----------
    true_labels, pred_labels : numpy.ndarray
        2-D integer label images (0 = background).

    Returns
    -------
    float
        The relative count error, or nan when `true_labels` has no instances.
    """
    n_true = len(_ids_and_areas(_check_labels(true_labels, "true_labels"))[0])
    n_pred = len(_ids_and_areas(_check_labels(pred_labels, "pred_labels"))[0])
    return float("nan") if n_true == 0 else abs(n_pred - n_true) / n_true


def equivalent_diameters(labels: np.ndarray) -> np.ndarray:
    """Equivalent circular diameter of every instance, in pixels.

    Parameters
    ----------
    labels : numpy.ndarray
        2-D integer label image (0 = background).

    Returns
    -------
    numpy.ndarray
        ``sqrt(4 * area / pi)`` for each instance, ordered by increasing id
        (float64, empty if there are no instances).
    """
    _, areas = _ids_and_areas(_check_labels(labels, "labels"))
    return np.sqrt(4.0 * areas / np.pi)


def relative_d50_error(true_labels: np.ndarray, pred_labels: np.ndarray) -> float:
    """Relative error of the median equivalent diameter (D50).

    Parameters
    ----------
    true_labels, pred_labels : numpy.ndarray
        2-D integer label images (0 = background).

    Returns
    -------
    float
        ``|D50_pred - D50_true| / D50_true``, or nan when either image has
        no instances.
    """
    d_true = equivalent_diameters(true_labels)
    d_pred = equivalent_diameters(pred_labels)
    if d_true.size == 0 or d_pred.size == 0:
        return float("nan")
    d50_true = float(np.median(d_true))
    return abs(float(np.median(d_pred)) - d50_true) / d50_true


def drop_edge_instances(labels: np.ndarray) -> np.ndarray:
    """Remove every instance that touches the image border.

    Parameters
    ----------
    labels : numpy.ndarray
        2-D integer label image (0 = background).

    Returns
    -------
    numpy.ndarray
        A copy of `labels` in which instances with at least one pixel in the
        first/last row or column are set to 0. Other ids are unchanged.
    """
    labels = _check_labels(labels, "labels")
    out = labels.copy()
    if out.size == 0:
        return out
    border = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
    border_ids = np.unique(border[border > 0])
    if border_ids.size:
        out[np.isin(out, border_ids)] = 0
    return out
