"""The mask's clean-up filters, and what each of them removed.

An opening smooths outlines and removes specks; the minimum area drops the smallest objects.
Both change the distribution silently unless they say what they took: each reports how many whole
objects it removed and their size range, and the smallest size measured reliably follows from
them (:func:`reliable_min_ecd_px`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from particle_gui.core.analysis.segment import fill_holes, remove_small
from particle_gui.core.params import CleanParams

#: Below this equivalent diameter (px) an area is off by more than about 5 % whatever the filters
#: (digitisation and the edge's placement); the filters can only raise the limit.
MIN_RELIABLE_ECD_PX = 10.0


@dataclass(frozen=True)
class FilterLoss:
    """Objects of the thresholded mask one filter removed whole: how many and their ECD range (px)."""

    count: int
    min_ecd_px: float | None = None
    max_ecd_px: float | None = None

    def describe(self, pixel_size_nm: float | None = None) -> str:
        """"12 objects, 2.1-4.8 px" (in nm when calibrated)."""
        if self.count == 0:
            return "none"
        scale, unit = (pixel_size_nm, "nm") if pixel_size_nm else (1.0, "px")
        return f"{self.count} objects, ECD {self.min_ecd_px * scale:.3g}-{self.max_ecd_px * scale:.3g} {unit}"


def _loss(lost: np.ndarray, areas: np.ndarray) -> FilterLoss:
    if not lost.any():
        return FilterLoss(0)
    ecd = np.sqrt(4 * areas[lost] / np.pi)
    return FilterLoss(int(lost.sum()), float(ecd.min()), float(ecd.max()))


def clean_mask_with_losses(
    mask: np.ndarray, params: CleanParams, *, pixel_size_nm: float | None = None
) -> tuple[np.ndarray, dict[str, FilterLoss]]:
    """Smooth, fill holes and drop small objects; with what the opening and the minimum area removed.

    Parameters
    ----------
    mask : ndarray of bool, shape (H, W)
    params : CleanParams
    pixel_size_nm : float, optional
        With a calibration and ``params.min_area_nm2 > 0``, the minimum area is taken in nm².

    Returns
    -------
    mask : ndarray of bool, shape (H, W)
    losses : dict
        ``{"opening": FilterLoss, "min_area": FilterLoss}``: objects (8-connected, of the input
        mask) of which nothing is left after that filter.

    Examples
    --------
    >>> mask = np.zeros((40, 40), bool); mask[5:25, 5:25] = True; mask[30:32, 30:32] = True
    >>> cleaned, losses = clean_mask_with_losses(mask, CleanParams(min_area_px=30, opening_radius_px=0))
    >>> int(cleaned.sum()), losses["min_area"].count, round(losses["min_area"].max_ecd_px, 2)
    (400, 1, 2.26)
    """
    raw = np.ascontiguousarray(mask, dtype=bool)
    count, components, stats, _ = cv2.connectedComponentsWithStats(raw.view(np.uint8), connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    result = raw
    survived = np.ones(count, dtype=bool)
    losses = {"opening": FilterLoss(0), "min_area": FilterLoss(0)}
    if params.opening_radius_px > 0:
        size = 2 * params.opening_radius_px + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        result = cv2.morphologyEx(result.view(np.uint8), cv2.MORPH_OPEN, kernel).view(bool)
        survived = np.bincount(components[result], minlength=count) > 0
        losses["opening"] = _loss(~survived[1:], areas[1:])
    if params.fill_holes:
        result = fill_holes(result)
    min_area_px = params.min_area_px
    if pixel_size_nm and params.min_area_nm2 > 0:
        min_area_px = params.min_area_nm2 / pixel_size_nm**2
    result = remove_small(result, min_area_px=min_area_px, min_area_fraction=params.min_area_fraction)
    kept = np.bincount(components[result & raw], minlength=count) > 0
    losses["min_area"] = _loss((survived & ~kept)[1:], areas[1:])
    return result, losses


def clean_mask(mask: np.ndarray, params: CleanParams, *, pixel_size_nm: float | None = None) -> np.ndarray:
    """Smooth, fill holes and drop small objects (see :func:`clean_mask_with_losses`)."""
    return clean_mask_with_losses(mask, params, pixel_size_nm=pixel_size_nm)[0]


def reliable_min_ecd_px(params: CleanParams, pixel_size_nm: float | None = None) -> float:
    """The smallest equivalent diameter (px) measured reliably with these filters.

    At least :data:`MIN_RELIABLE_ECD_PX`; the minimum area's own diameter; and twice the
    opening's diameter, under which the opening rounds and shrinks a particle.

    >>> reliable_min_ecd_px(CleanParams(min_area_px=30, opening_radius_px=2))
    10.0
    >>> round(reliable_min_ecd_px(CleanParams(min_area_px=200, opening_radius_px=0)), 2)
    15.96
    """
    min_area_px = params.min_area_px
    if pixel_size_nm and params.min_area_nm2 > 0:
        min_area_px = max(min_area_px, params.min_area_nm2 / pixel_size_nm**2)
    opening = 2 * (2 * params.opening_radius_px + 1) if params.opening_radius_px > 0 else 0.0
    return float(max(MIN_RELIABLE_ECD_PX, math.sqrt(4 * min_area_px / math.pi), opening))
