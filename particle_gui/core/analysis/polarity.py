"""Deciding whether particles are bright on a dark background or dark on a bright one.

Six cues of the two Otsu classes, combined by a logistic model fitted on the EMPS training
split (``benchmarks/fit_polarity.py``; 90 % cross-validated accuracy there, against 80 % for
"the class on the border is background" alone):

1. fraction of the border that is bright, minus 0.5 (background tends to own the border);
2. fraction of the image that is bright, minus 0.5 (background tends to be the larger class);
3. largest connected bright region as a fraction of all bright pixels (background is one piece);
4. log(number of bright regions + 2) (particles are many pieces);
5. and 6. the same two for the dark class.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Logistic-regression weights for the features above and the intercept; positive = "bright".
POLARITY_WEIGHTS = np.array([-4.193, 0.594, -2.92, -0.19, 1.751, 0.221])
POLARITY_INTERCEPT = 1.205


def _class_cues(mask: np.ndarray) -> tuple[float, float]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = float(areas.max() / max(int(mask.sum()), 1)) if areas.size else 0.0
    return largest, float(np.log1p(count))


def polarity_features(image: np.ndarray, threshold: float) -> np.ndarray:
    """The six polarity cues of an image split at ``threshold`` (see the module docstring)."""
    bright = np.ascontiguousarray(image > threshold)
    border = np.concatenate([bright[0], bright[-1], bright[:, 0], bright[:, -1]])
    return np.array(
        [border.mean() - 0.5, bright.mean() - 0.5, *_class_cues(bright), *_class_cues(~bright)],
        dtype=np.float64,
    )


def bright_particle_probability(image: np.ndarray, threshold: float) -> float:
    """Probability that the particles are the bright class."""
    score = float(polarity_features(image, threshold) @ POLARITY_WEIGHTS + POLARITY_INTERCEPT)
    return float(1.0 / (1.0 + np.exp(-score)))


def detect_polarity(image: np.ndarray, threshold: float) -> str:
    """``"bright"`` when particles are brighter than the background, else ``"dark"``."""
    return "bright" if bright_particle_probability(image, threshold) >= 0.5 else "dark"
