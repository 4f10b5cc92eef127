"""Scoring one predicted label image against its truth, and pooling the scores of one source.

Convention (``shared/data/README.md``): Hungarian matching on IoU; particles touching the image
border are dropped from truth and prediction; so are fragments under ``min_fragment_px`` pixels.
F1@0.5 and AP(0.5:0.95) are pooled over a source's particles; count and D50 errors are per image
(median over the source's images, signed errors kept for the direction of a bias).
"""

from __future__ import annotations

import numpy as np

from particle_gui.core.adapt.agreement import without_fragments as drop_fragments
from particle_gui.core.adapt.matching import MAP_THRESHOLDS, drop_edge_instances, match_instances


def _ecd(labels: np.ndarray) -> np.ndarray:
    areas = np.bincount(labels.ravel())[1:]
    return np.sqrt(4 * areas[areas > 0] / np.pi)


def score_image(truth: np.ndarray, predicted: np.ndarray, *, min_fragment_px: int = 30) -> dict:
    """Matches and errors of one image (see the module text)."""
    truth = drop_fragments(drop_edge_instances(np.asarray(truth, dtype=np.int32)), min_fragment_px)
    predicted = drop_fragments(drop_edge_instances(np.asarray(predicted, dtype=np.int32)), min_fragment_px)
    match = match_instances(truth, predicted)
    true_d, pred_d = _ecd(truth), _ecd(predicted)
    if true_d.size and pred_d.size:
        d50_error = float(np.median(pred_d) / np.median(true_d) - 1.0)
    else:
        d50_error = float("nan") if not true_d.size else 1.0
    tp = [match.tp(t) for t in MAP_THRESHOLDS]
    n_true, n_pred = match.n_true, match.n_pred
    return {
        "n_true": n_true,
        "n_pred": n_pred,
        "tp": tp,
        "f1": 2 * tp[0] / max(n_true + n_pred, 1) if n_true + n_pred else 1.0,
        "count_error": (n_pred - n_true) / n_true if n_true else float("nan"),
        "d50_error": d50_error,
        "matched_true_ids": match.true_ids[match.ious >= 0.5].tolist(),
        "matched_pred_ids": match.pred_ids[match.ious >= 0.5].tolist(),
    }


def pool(rows: list[dict]) -> dict:
    """F1@0.5 and AP(0.5:0.95) pooled over ``rows``' particles; median per-image errors."""
    n_true = sum(r["n_true"] for r in rows)
    n_pred = sum(r["n_pred"] for r in rows)
    tp = np.sum([r["tp"] for r in rows], axis=0) if rows else np.zeros(len(MAP_THRESHOLDS))
    fp, fn = n_pred - tp, n_true - tp
    ap = tp / np.maximum(tp + fp + fn, 1)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)

    def median(key: str, absolute: bool) -> float:
        values = [abs(r[key]) if absolute else r[key] for r in rows if np.isfinite(r[key])]
        return float(np.median(values)) if values else float("nan")

    return {
        "images": len(rows),
        "particles_true": int(n_true),
        "particles_found": int(n_pred),
        "f1": float(f1[0]),
        "ap": float(ap.mean()),
        "count_error": median("count_error", True),
        "d50_error": median("d50_error", True),
        "d50_bias": median("d50_error", False),
        "worst_image_f1": float(min((r["f1"] for r in rows), default=float("nan"))),
    }
