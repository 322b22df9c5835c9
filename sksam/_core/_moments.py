"""Least squares known only through row moments (pure numpy).

Least-squares SAM sees the data only through the weighted, centred Gram ``H = X_c^T D
X_c / S`` and ``z = X_c^T D y_c / S`` (the user guide, "The update rules and
conventions"), and the squared-error scores of any linear prediction only through the
same moments of the scored rows. All are sums over rows, so they can be reduced chunk by
chunk elsewhere (``_dask_moments.py``); what is here turns the small reduced results
into the scaled problem and into validation scores.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["RowMoments", "squared_error_scores"]


@dataclass
class RowMoments:
    """Weighted first and second moments of ``(X, y)`` rows about a fixed shift.

    With ``x' = x - shift_x`` and ``y' = y - shift_y`` (rows weighted by ``s``):
    ``sum_weights = sum s``, ``sum_x = sum s x'``, ``sum_y = sum s y'``,
    ``xx = sum s x' x'^T``, ``xy = sum s x' y'^T`` and ``yy = sum s y'^2`` (per
    target). Moments of disjoint row sets add, so those of a training fold are the
    full moments minus those of its test fold. A shift close to the data (e.g. the
    mean of a first chunk) keeps the centring ``xx - S m m^T`` free of cancellation
    when the columns have large means.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._moments import RowMoments
    >>> X, y = np.array([[1.0], [2.0], [4.0]]), np.array([[1.0], [3.0], [5.0]])
    >>> m = RowMoments(np.zeros(1), np.zeros(1), 3.0, X.sum(0), y.sum(0),
    ...                X.T @ X, X.T @ y, (y**2).sum(0))
    >>> gram, xty, x_mean, y_mean = m.centred(fit_intercept=True)
    >>> round(float(gram[0, 0] * 3), 12), round(float(x_mean[0]), 12)
    (4.666666666667, 2.333333333333)
    """

    shift_x: np.ndarray
    shift_y: np.ndarray
    sum_weights: float
    sum_x: np.ndarray
    sum_y: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray

    @classmethod
    def from_gram(cls, gram, shift_x, shift_y):
        """From ``Z^T D Z`` with ``Z = [X - shift_x, y - shift_y, 1]`` (rows of ``Z``).

        The blocks of that ``(d + t + 1)``-square matrix are ``xx``, ``xy``, ``yy``
        (its diagonal), ``sum_x``, ``sum_y`` and ``sum_weights``.
        """
        d = shift_x.size
        gram = np.asarray(gram, dtype=np.float64)
        return cls(
            shift_x,
            shift_y,
            float(gram[-1, -1]),
            gram[:d, -1].copy(),
            gram[d:-1, -1].copy(),
            gram[:d, :d].copy(),
            gram[:d, d:-1].copy(),
            np.diag(gram[d:-1, d:-1]).copy(),
        )

    def __add__(self, other):
        return self._combine(other, 1.0)

    def __sub__(self, other):
        return self._combine(other, -1.0)

    def _combine(self, other, sign):
        """``self + sign * other`` (moments about the same shift)."""
        return RowMoments(
            self.shift_x,
            self.shift_y,
            self.sum_weights + sign * other.sum_weights,
            self.sum_x + sign * other.sum_x,
            self.sum_y + sign * other.sum_y,
            self.xx + sign * other.xx,
            self.xy + sign * other.xy,
            self.yy + sign * other.yy,
        )

    def scaled(self, factor):
        """The moments of the same rows with every weight multiplied by ``factor``."""
        return RowMoments(
            self.shift_x,
            self.shift_y,
            factor * self.sum_weights,
            factor * self.sum_x,
            factor * self.sum_y,
            factor * self.xx,
            factor * self.xy,
            factor * self.yy,
        )

    def centred(self, fit_intercept):
        """``(H, z, x_mean, y_mean)`` of the scaled problem (means 0 without intercept).

        ``X_c^T D X_c = sum s x' x'^T - S m' m'^T`` with ``m' = x_mean - shift_x``.
        Without an intercept the moments must be about zero (zero shift).
        """
        S = self.sum_weights
        if not S > 0.0:
            raise ValueError("The sum of sample_weight must be positive.")
        gram, xty = self.xx / S, self.xy / S
        if fit_intercept:
            dx, dy = self.sum_x / S, self.sum_y / S
            gram = gram - np.outer(dx, dx)
            xty = xty - np.outer(dx, dy)
            x_mean, y_mean = self.shift_x + dx, self.shift_y + dy
        else:
            x_mean, y_mean = np.zeros(gram.shape[0]), np.zeros(xty.shape[1])
        return (gram + gram.T) / 2.0, xty, x_mean, y_mean

    def centred_y_sq_norm(self, fit_intercept):
        """``||y_s||^2 = sum s (y - y_mean)^2`` per target (``y_mean = 0`` without)."""
        if fit_intercept:
            return self.yy - self.sum_y**2 / self.sum_weights
        return self.yy


def _finite_ratio(numerator, denominator):
    """``1 - num / den`` with scikit-learn's ``force_finite`` rule for ``den == 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1.0 - numerator / denominator
    return np.where(denominator > 0, ratio, np.where(numerator == 0, 1.0, 0.0))


def squared_error_scores(metric, scored, coefs, x_mean, y_mean, average=True):
    """A squared-error metric of ``x -> (x - x_mean) c + y_mean`` on scored rows.

    Every grid point in ``coefs`` (n_features, n_targets, K) is scored from the
    moments ``scored`` of the scored rows alone: the residual ``e = y' - x'.c - o``
    with the offset ``o = (shift_x - x_mean).c - (shift_y - y_mean)`` has
    ``sum s e^2 = yy - 2 (c.xy + o sum_y) + c^T xx c + 2 o c.sum_x + S o^2``.

    Parameters
    ----------
    metric : {"r2", "explained_variance", "mean_squared_error", \
            "root_mean_squared_error"}
        Weighted exactly as the scikit-learn metric with ``sample_weight = s``
        (``force_finite=True``), averaged uniformly over targets.
    scored : RowMoments
    coefs : ndarray of shape (n_features, n_targets, K)
    x_mean : ndarray of shape (n_features,)
    y_mean : ndarray of shape (n_targets,)
    average : bool, default=True
        Average over targets; ``False``: the score of each target column, as if
        it were the only target.

    Returns
    -------
    scores : ndarray of shape (K,), or (n_targets, K) without ``average``

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._moments import RowMoments, squared_error_scores
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [2.0], [4.0]])
    >>> m = RowMoments(np.zeros(1), np.zeros(1), 3.0, X.sum(0), y.sum(0),
    ...                X.T @ X, X.T @ y, (y**2).sum(0))
    >>> coefs = np.array([[[0.0, 1.5]]])  # two candidate slopes
    >>> squared_error_scores("mean_squared_error", m, coefs, X.mean(0), y.mean(0))
    array([1.55555556, 0.05555556])
    """
    S = scored.sum_weights
    offset = np.einsum("d,dtk->tk", scored.shift_x - x_mean, coefs)
    offset -= (scored.shift_y - y_mean)[:, None]
    linear = np.einsum("d,dtk->tk", scored.sum_x, coefs)
    cross = np.einsum("dt,dtk->tk", scored.xy, coefs)
    quad = np.einsum("dtk,dtk->tk", coefs, np.einsum("de,etk->dtk", scored.xx, coefs))
    sse = (
        scored.yy[:, None]
        - 2.0 * (cross + offset * scored.sum_y[:, None])
        + quad
        + 2.0 * offset * linear
        + S * offset**2
    )
    sse = np.maximum(sse, 0.0)  # rounding of a (near) perfect fit
    sst = np.maximum(scored.yy - scored.sum_y**2 / S, 0.0)[:, None]
    if metric == "r2":
        per_target = _finite_ratio(sse, sst)
    elif metric == "explained_variance":
        mean_resid = (scored.sum_y[:, None] - linear - S * offset) / S
        per_target = _finite_ratio(np.maximum(sse / S - mean_resid**2, 0.0), sst / S)
    elif metric == "mean_squared_error":
        per_target = sse / S
    elif metric == "root_mean_squared_error":
        per_target = np.sqrt(sse / S)
    else:
        raise ValueError(f"Unknown squared-error metric {metric!r}.")
    return per_target.mean(axis=0) if average else per_target
