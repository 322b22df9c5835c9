"""Shared synthetic regression problems of the test suite (see ``conftest.py``)."""

import numpy as np

__all__ = [
    "per_target_data",
    "small_regression",
    "spread_spectrum_data",
    "stackloss",
]


def spread_spectrum_data(
    n, d, *, n_targets=None, decay=0.1, noise=0.3, offset=2.0, n_test=0, seed=0
):
    """A design whose column scales decay geometrically from 1 to ``decay``.

    ``y = X @ coef + noise * N(0, 1) + offset`` (shape (n,) or (n, n_targets)): the
    spread spectrum makes early stopping matter and tells the solvers apart.

    Returns ``(X, y, f, X_test)``: ``f = X @ coef + offset`` is the noiseless
    signal and ``X_test`` (n_test, d) unscaled standard normal rows drawn after.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, decay, d)
    coef = rng.standard_normal((d,) if n_targets is None else (d, n_targets))
    shape = (n,) if n_targets is None else (n, n_targets)
    y = X @ coef + noise * rng.standard_normal(shape) + offset
    X_test = rng.standard_normal((n_test, d))
    return X, y, X @ coef + offset, X_test


def small_regression(n=50, d=3, seed=0):
    """``(X, y)``: Gaussian features and ``y = X @ [1, ..., d] + 0.3 noise``, the
    small problem of the edge-case tests."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 0.3 * rng.standard_normal(n)
    return X, y


def per_target_data(n=80, d=6, noise=(0.05, 1.0, 5.0), seed=0):
    """``(X, Y)``: the spread-spectrum design of ``spread_spectrum_data`` and one
    target column per entry of ``noise`` (its noise level), so that the targets'
    best stopping times differ (the per-target selection tests)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.1, d)
    noise = np.asarray(noise, dtype=float)
    Y = X @ rng.standard_normal((d, noise.size))
    Y += rng.standard_normal((n, noise.size)) * noise + 1.0
    return X, Y


#: R's ``datasets::stackloss`` (Brownlee 1965): 21 days of a plant oxidising
#: ammonia. Columns Air.Flow, Water.Temp, Acid.Conc., and the target stack.loss.
STACKLOSS = np.array(
    [
        [80, 27, 89, 42],
        [80, 27, 88, 37],
        [75, 25, 90, 37],
        [62, 24, 87, 28],
        [62, 22, 87, 18],
        [62, 23, 87, 18],
        [62, 24, 93, 19],
        [62, 24, 93, 20],
        [58, 23, 87, 15],
        [58, 18, 80, 14],
        [58, 18, 89, 14],
        [58, 17, 88, 13],
        [58, 18, 82, 11],
        [58, 19, 93, 12],
        [50, 18, 89, 8],
        [50, 18, 86, 7],
        [50, 19, 72, 8],
        [50, 19, 79, 8],
        [50, 20, 80, 9],
        [56, 20, 82, 15],
        [70, 20, 91, 15],
    ],
    dtype=float,
)


def stackloss(standardize=False):
    """``(X, y)`` of R's ``stackloss`` (21 rows, 3 features); ``standardize``:
    the features centred and scaled to unit variance."""
    X, y = STACKLOSS[:, :3], STACKLOSS[:, 3]
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y
