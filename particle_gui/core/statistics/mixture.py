"""One-dimensional Gaussian mixtures fitted by EM (the size families of a distribution)."""

from __future__ import annotations

import math

import numpy as np

#: Gaussian-mixture settings (those of ``sklearn.mixture.GaussianMixture`` that the fit uses).
MIXTURE_REG_COVAR = 1e-4
MIXTURE_TOL = 1e-3
MIXTURE_MAX_ITER = 100


def fit_mixture_1d(
    x: np.ndarray, components: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fit a 1-D Gaussian mixture by EM and return (weights, means, variances, BIC).

    The same algorithm, in the same floating-point operations, as
    ``sklearn.mixture.GaussianMixture(n_components, covariance_type="full", n_init=1,
    init_params="k-means++", reg_covar=1e-4, tol=1e-3, max_iter=100, random_state=seed)``
    followed by ``.bic(x)``, without its per-call validation and dispatch, which cost ten
    times the arithmetic on a few hundred values: k-means++ picks one sample per component
    (:func:`kmeans_plusplus_1d`, scikit-learn's greedy k-means++), then E and M steps alternate
    until the mean log-likelihood changes by less than the tolerance.

    Parameters
    ----------
    x : ndarray of float64, shape (N, 1)
    components : int
    seed : int

    Examples
    --------
    >>> x = np.r_[np.linspace(0.0, 0.1, 50), np.linspace(1.0, 1.1, 50)].reshape(-1, 1)
    >>> weights, means, variances, bic = fit_mixture_1d(x, 2)
    >>> np.round(np.sort(means), 2).tolist()
    [0.05, 1.05]
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    n = x.shape[0]
    resp = np.zeros((n, components))
    indices = kmeans_plusplus_1d(x[:, 0], components, seed)
    resp[indices, np.arange(components)] = 1
    weights, means, variances = _mixture_m_step(x, resp)
    precision = 1.0 / np.sqrt(variances)  # the Cholesky factor of the 1x1 precision
    weights /= n
    lower_bound = -np.inf
    for _ in range(MIXTURE_MAX_ITER):
        previous = lower_bound
        log_prob_norm, log_resp = _mixture_e_step(x, weights, means, precision)
        weights, means, variances = _mixture_m_step(x, np.exp(log_resp))
        precision = 1.0 / np.sqrt(variances)
        weights /= np.sum(weights)
        lower_bound = np.mean(log_prob_norm)
        if abs(lower_bound - previous) < MIXTURE_TOL:
            break
    score = float(np.mean(_mixture_e_step(x, weights, means, precision)[0]))
    parameters = 3 * components - 1  # means, variances and all weights but one
    bic = -2 * score * n + parameters * math.log(n)
    return weights, means[:, 0], variances, bic


def kmeans_plusplus_1d(values: np.ndarray, clusters: int, seed: int) -> np.ndarray:
    """Indices of ``clusters`` seed samples by greedy k-means++, as ``sklearn.cluster.kmeans_plusplus``.

    The first seed is drawn uniformly; each next one is the best (lowest total squared distance
    to the nearest seed) of ``2 + int(ln k)`` candidates drawn with probability proportional to
    that squared distance. Same random stream (``numpy.random.RandomState(seed)``) and the same
    choices as scikit-learn, without depending on it.

    Examples
    --------
    >>> kmeans_plusplus_1d(np.array([0.0, 0.1, 5.0, 5.1]), 2, seed=0).tolist()
    [2, 1]
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    random = np.random.RandomState(seed)
    trials = 2 + int(np.log(clusters))
    indices = np.full(clusters, -1, dtype=np.intp)
    # With p (uniform) as scikit-learn passes it: choice() then draws from the stream as it does.
    indices[0] = random.choice(values.size, p=np.full(values.size, 1.0 / values.size))
    closest = (values - values[indices[0]]) ** 2
    potential = closest.sum()
    for cluster in range(1, clusters):
        draws = random.uniform(size=trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), closest.size - 1)
        distances = np.minimum(closest, (values[None, :] - values[candidates, None]) ** 2)
        potentials = distances.sum(axis=1)
        best = int(np.argmin(potentials))
        potential, closest, indices[cluster] = potentials[best], distances[best], candidates[best]
    return indices


def _mixture_m_step(x: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Component masses, means (K, 1) and variances (K,) from responsibilities (N, K)."""
    nk = np.sum(resp, axis=0) + 10 * np.finfo(resp.dtype).eps
    means = (resp.T @ x) / nk[:, np.newaxis]
    covariances = np.empty(means.shape[0])
    for k in range(means.shape[0]):
        diff = x - means[k, :]
        covariances[k] = (((resp[:, k] * diff.T) @ diff) / nk[k])[0, 0] + MIXTURE_REG_COVAR
    return nk, means, covariances


def _mixture_e_step(
    x: np.ndarray, weights: np.ndarray, means: np.ndarray, precision: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample log-likelihood and log-responsibilities."""
    log_prob = np.square(x * precision - means[:, 0] * precision)  # (N, K)
    weighted = -0.5 * (math.log(2 * math.pi) + log_prob) + np.log(precision) + np.log(weights)
    log_prob_norm = _logsumexp_rows(weighted)
    with np.errstate(under="ignore"):
        return log_prob_norm, weighted - log_prob_norm[:, np.newaxis]


def _logsumexp_rows(array: np.ndarray) -> np.ndarray:
    """log(sum(exp(array), axis=1)), as scikit-learn computes it (the maxima factored out)."""
    array_max = np.max(array, axis=1, keepdims=True)
    index_max = array == array_max
    array = array.copy()
    array[index_max] = -np.inf
    m = np.sum(index_max.astype(array.dtype), axis=1, keepdims=True, dtype=array.dtype)
    shift = np.where(np.isfinite(array_max), array_max, 0)
    s = np.sum(np.exp(array - shift), axis=1, keepdims=True, dtype=array.dtype)
    s = np.where(s == 0, s, s / m)
    return (np.log1p(s) + np.log(m) + array_max)[:, 0]
