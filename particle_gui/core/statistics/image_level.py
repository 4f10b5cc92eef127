"""The image as the unit: intervals, agreement and comparisons that respect how a sample was measured.

Particles of one image share its preparation, its spot on the grid and its focus, so images of
one sample differ by more than their particles' sampling error: treating the pooled particles
as independent makes intervals too tight and comparisons too eager (30 % false "larger" with a
between-image spread of only 5 %). Here each image contributes its median ln(d) and that
median's standard error, and

- the sample's D50 interval is a t interval over its images' log-medians (at least
  :data:`MIN_IMAGES` images; fewer fall back to the particle bootstrap, with a note);
- Cochran's Q tests whether the images agree within their sampling error, and the
  DerSimonian-Laird estimate gives the between-image spread ``tau`` (in ln d);
- samples are compared by a Welch test on their images' log-medians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

#: Fewest images for image-level intervals and tests.
MIN_IMAGES = 3
#: Fewest particles for an image to count.
MIN_PARTICLES_PER_IMAGE = 5
#: The images of a sample disagree when Cochran's Q rejects agreement at this level.
AGREEMENT_ALPHA = 0.01


@dataclass(frozen=True)
class ImageLevel:
    """A sample seen image by image (sizes in the sample's unit, spreads in ln d)."""

    medians: tuple[float, ...]
    standard_errors: tuple[float, ...]  # of each image's ln(median)
    d50_ci95: tuple[float, float] | None
    q_pvalue: float  # Cochran's Q: small when the images disagree beyond sampling
    tau: float  # between-image standard deviation of ln(median)

    @property
    def images(self) -> int:
        return len(self.medians)

    @property
    def disagree(self) -> bool:
        return self.images >= 2 and self.q_pvalue < AGREEMENT_ALPHA


def _median_se(d: np.ndarray) -> float:
    """Standard error of ln(median) of one image: sqrt(pi / 2) * sd(ln d) / sqrt(n)."""
    return math.sqrt(math.pi / 2) * float(np.std(np.log(d), ddof=1)) / math.sqrt(d.size)


def image_level(per_image: list[np.ndarray]) -> ImageLevel | None:
    """The image-level view of a sample from its images' diameters (None without usable images).

    >>> rng = np.random.default_rng(0)
    >>> level = image_level([rng.lognormal(np.log(20), 0.3, 200) for _ in range(6)])
    >>> level.images, level.disagree, round(level.d50_ci95[0], 1) < 20 < round(level.d50_ci95[1], 1)
    (6, False, True)
    """
    usable = [np.asarray(d, dtype=np.float64) for d in per_image]
    usable = [d[np.isfinite(d) & (d > 0)] for d in usable]
    usable = [d for d in usable if d.size >= MIN_PARTICLES_PER_IMAGE]
    if not usable:
        return None
    logs = np.array([np.log(np.median(d)) for d in usable])
    se = np.array([max(_median_se(d), 1e-6) for d in usable])
    k = logs.size
    weights = 1.0 / se**2
    mean_fixed = float(np.sum(weights * logs) / np.sum(weights))
    q = float(np.sum(weights * (logs - mean_fixed) ** 2))
    q_p = float(scipy_stats.chi2.sf(q, k - 1)) if k >= 2 else 1.0
    c = float(np.sum(weights) - np.sum(weights**2) / np.sum(weights)) if k >= 2 else 1.0
    tau = math.sqrt(max(0.0, (q - (k - 1)) / c)) if k >= 2 and c > 0 else 0.0
    interval = None
    if k >= MIN_IMAGES:
        centre = float(np.mean(logs))
        half = float(scipy_stats.t.ppf(0.975, k - 1) * np.std(logs, ddof=1) / math.sqrt(k))
        interval = (math.exp(centre - half), math.exp(centre + half))
    return ImageLevel(tuple(float(v) for v in np.exp(logs)), tuple(float(v) for v in se), interval, q_p, tau)


def agreement_warning(name: str, level: ImageLevel | None) -> str | None:
    """A warning when the images of sample ``name`` disagree beyond their particles' sampling."""
    if level is None or not level.disagree:
        return None
    low, high = min(level.medians), max(level.medians)
    return (f"Sample {name}: its {level.images} images disagree beyond sampling error (image medians "
            f"{low:.4g}-{high:.4g}, between-image spread {100 * (math.exp(level.tau) - 1):.0f} %, Cochran's Q "
            f"p = {level.q_pvalue:.2g}); the D50 interval and the comparisons are made image by image.")


def compare_images(first: ImageLevel | None, second: ImageLevel | None) -> float | None:
    """Welch's p-value for a difference between two samples' image log-medians.

    None when either sample has fewer than :data:`MIN_IMAGES` images.

    >>> rng = np.random.default_rng(1)
    >>> a = image_level([rng.lognormal(np.log(20) + rng.normal(0, 0.05), 0.3, 100) for _ in range(10)])
    >>> b = image_level([rng.lognormal(np.log(20) + rng.normal(0, 0.05), 0.3, 100) for _ in range(10)])
    >>> compare_images(a, b) > 0.05
    True
    """
    if first is None or second is None or min(first.images, second.images) < MIN_IMAGES:
        return None
    x, y = np.log(first.medians), np.log(second.medians)
    if np.ptp(np.r_[x, y]) == 0:
        return 1.0
    return float(scipy_stats.ttest_ind(x, y, equal_var=False).pvalue)
