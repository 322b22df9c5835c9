"""Kernel matrices of the kernel estimators and paths (training and test)."""

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels

from ._array_api import kernel_dtype, namespace_of

__all__ = [
    "check_square_kernel",
    "kernel_origin",
    "kernel_params",
    "kernel_precision",
    "shifted_intercept_term",
    "test_kernel",
    "training_kernel",
]


# Side of the square tiles in which the training kernel is symmetrised.
_TILE = 128


def _symmetric_training_kernel(X):
    """Private float64 copy of a precomputed training kernel, exactly symmetric.

    A kernel matrix computed in floating point may be asymmetric by rounding; the
    spectral solver reads one triangle and the iterative one the whole matrix, so
    both get the symmetric part. An asymmetry beyond rounding is an error.
    """
    dense = X.toarray() if sparse.issparse(X) else X
    n = dense.shape[0]
    K = np.empty((n, n))
    asymmetry = scale = 0.0
    # Tile by tile: X + X.T in one call reads X.T across rows, ~5x slower at n=4000.
    for i in range(0, n, _TILE):
        for j in range(i, n, _TILE):
            upper = dense[i : i + _TILE, j : j + _TILE]
            lower_t = dense[j : j + _TILE, i : i + _TILE].T
            tile = np.add(upper, lower_t, dtype=np.float64)
            tile *= 0.5
            K[i : i + _TILE, j : j + _TILE] = tile
            K[j : j + _TILE, i : i + _TILE] = tile.T
            gap = np.subtract(upper, lower_t, dtype=np.float64)
            asymmetry = max(asymmetry, float(np.max(np.abs(gap, out=gap))))
            scale = max(scale, float(np.max(np.abs(tile, out=tile))))
    if asymmetry > np.sqrt(np.finfo(dense.dtype).eps) * scale:
        raise ValueError(
            "With kernel='precomputed', X must be a symmetric kernel matrix (the "
            f"kernel between the training samples); got max |X - X.T| = "
            f"{asymmetry:.3g} for max |X| = {scale:.3g}."
        )
    return K


def _xp_symmetric_training_kernel(xp, X):
    """``_symmetric_training_kernel`` in the namespace of ``X`` (its dtype)."""
    gap = float(xp.max(xp.abs(X - X.T)))
    scale = float(xp.max(xp.abs(X)))
    if gap > np.sqrt(float(xp.finfo(X.dtype).eps)) * scale:
        raise ValueError(
            "With kernel='precomputed', X must be a symmetric kernel matrix (the "
            f"kernel between the training samples); got max |X - X.T| = "
            f"{gap:.3g} for max |X| = {scale:.3g}."
        )
    X = xp.astype(X, kernel_dtype(xp, X))
    return (X + X.T) / 2


def kernel_params(kernel, gamma, degree, coef0, extra):
    """Keyword arguments of ``pairwise_kernels`` for these kernel settings."""
    if callable(kernel):
        return extra or {}
    return {"gamma": gamma, "degree": degree, "coef0": coef0}


def _xp_pairwise(xp, X, Y, kernel, params):
    """The kernel in the namespace of ``X`` (scikit-learn's array API kernels).

    In the widest float of the device (float64 but on Apple's MPS), as on the
    numpy route: a float32 kernel is indefinite at the 1e-7 level.
    """
    dtype = kernel_dtype(xp, X)
    X = xp.astype(X, dtype)
    Y = None if Y is None else xp.astype(Y, dtype)
    try:
        K = pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params)
    except Exception as exc:
        raise ValueError(
            f"kernel={kernel!r} cannot be computed on array API inputs "
            f"({xp.__name__}) by sklearn.metrics.pairwise_kernels: {exc}. Use a "
            "kernel that supports the array API ('linear', 'poly', 'rbf', "
            "'sigmoid', 'cosine', 'laplacian'), or kernel='precomputed'."
        ) from exc
    if namespace_of(K)[0] is None:
        raise ValueError(
            f"kernel={kernel!r} returned a numpy kernel for {xp.__name__} inputs: "
            "it does not support the array API. Use 'linear', 'poly', 'rbf', "
            "'sigmoid', 'cosine' or 'laplacian', or kernel='precomputed'."
        )
    return xp.astype(K, dtype)


# Kernels whose values do not change when every input is shifted by one point:
# computed from inputs shifted to their mean, they keep the digits that a large
# common offset of the features (timestamps, say) would cancel in the distances.
_TRANSLATION_INVARIANT = frozenset({"rbf", "laplacian"})


def kernel_origin(X_fit, kernel, fit_intercept):
    """The point the kernel's inputs are shifted to (None: they are not).

    The mean of the dense training rows ``X_fit``, for the translation-invariant
    kernels (the same kernel values, computed without cancellation) and for the
    linear kernel with an intercept: centring in feature space removes every
    shift of the inputs, so the centred kernel, hence the model, is the same
    (up to its intercept, see ``shifted_intercept_term``), and the digits a large
    common offset would cancel are kept.
    """
    if (
        not isinstance(X_fit, np.ndarray)  # sparse, or another array namespace
        or not isinstance(kernel, str)
        or X_fit.shape[0] == 0
    ):
        return None
    if kernel in _TRANSLATION_INVARIANT or (kernel == "linear" and fit_intercept):
        return X_fit.mean(axis=0, dtype=np.float64)
    return None


def shifted_intercept_term(X_fit, origin, kernel, dual_coef):
    """``b_shifted - b`` between the intercepts of the shifted and the raw kernel.

    For the linear kernel, ``x.x' = (x - m).(x' - m) + (x - m).m + x'.m + m.m``;
    with dual coefficients summing to 0 (an intercept), the model
    ``k(x, X) a + b`` is ``k_m(x, X) a + b + m.((X - m)^T a)``. Zero (shape
    ``dual_coef.shape[1:]``) for the translation-invariant kernels.
    """
    if origin is None or kernel != "linear":
        return np.zeros(dual_coef.shape[1:])
    projection = np.subtract(X_fit, origin, dtype=np.float64) @ origin
    return np.tensordot(projection, dual_coef, axes=(0, 0))


def _pairwise(X, Y, kernel, params, origin=None):
    xp, _ = namespace_of(X)
    if xp is not None:  # array API inputs: no shift (``kernel_origin`` is None)
        return _xp_pairwise(xp, X, Y, kernel, params)
    # In float64 whatever the input dtype: a float32 kernel is indefinite at the
    # 1e-7 level, which the stability check would report.
    if origin is not None:
        X = np.subtract(X, origin, dtype=np.float64)
        Y = None if Y is None else np.subtract(Y, origin, dtype=np.float64)
    X = X.astype(np.float64, copy=False)
    Y = None if Y is None else Y.astype(np.float64, copy=False)
    # Non-finite kernel values get an error that names them (``training_kernel``
    # callers), not a RuntimeWarning from inside the kernel function.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        K = pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params)
    return K.astype(np.float64, copy=False)


def kernel_precision(X, kernel):
    """The dtype the kernel values carry: a precomputed kernel's own, else float64."""
    return X.dtype if kernel == "precomputed" else np.dtype(np.float64)


def training_kernel(X, kernel, params, origin=None):
    """A private float64 training kernel (the problem centres it in place).

    ``origin``: the point the inputs are shifted to (``kernel_origin``).
    """
    if kernel == "precomputed":
        xp, _ = namespace_of(X)
        if xp is not None:
            return _xp_symmetric_training_kernel(xp, X)
        return _symmetric_training_kernel(X)
    return _pairwise(X, None, kernel, params, origin)


def test_kernel(X, X_fit, kernel, params, origin=None):
    """The kernel between test rows ``X`` and the training rows ``X_fit``."""
    xp, _ = namespace_of(X)
    if kernel == "precomputed" and xp is not None:
        return xp.astype(X, kernel_dtype(xp, X))
    if kernel == "precomputed":
        K = X.toarray() if sparse.issparse(X) else X
        return np.asarray(K, dtype=np.float64)
    if origin is not None and sparse.issparse(X):
        X = X.toarray()
    return _pairwise(X, X_fit, kernel, params, origin)


def check_square_kernel(kernel, X):
    """With ``kernel="precomputed"`` the training ``X`` must be a square kernel."""
    if kernel == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            "With kernel='precomputed', X must be the square kernel matrix between "
            f"the training samples, of shape (n_samples, n_samples); got shape "
            f"{X.shape}."
        )
