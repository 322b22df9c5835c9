"""Shared synthetic problems of the test suite (see ``conftest.py``)."""

import numpy as np

__all__ = [
    "classification_data",
    "per_target_data",
    "small_regression",
    "spread_spectrum_data",
    "stackloss",
    "weights_with_zeros",
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


def classification_data(n=40, n_classes=3, d=3, n_test=7, seed=0):
    """``(X, y, X_test)``: imbalanced string labels of a non-linear rule.

    Gaussian features; the classes ``"a", "b", ...`` are slices of the score
    ``sin(2 x_0) + x_1 x_2 + 0.5 noise`` at its quantiles 0.3 (two classes) or 0.2
    and 0.5 (three), so that ``class_weight="balanced"`` changes the weights, and
    no linear model separates them. ``X_test`` (n_test, d) is drawn after.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * rng.standard_normal(n)
    quantiles = {2: [0.3], 3: [0.2, 0.5]}[n_classes]
    codes = np.searchsorted(np.quantile(score, quantiles), score)
    X_test = rng.standard_normal((n_test, d))
    return X, np.array(["a", "b", "c"])[codes], X_test


def weights_with_zeros(n, zeros=(1, 7, 20), seed=5):
    """Sample weights uniform in [0.2, 2], zero at the rows ``zeros``."""
    sw = np.random.default_rng(seed).uniform(0.2, 2.0, n)
    sw[list(zeros)] = 0.0
    return sw


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
