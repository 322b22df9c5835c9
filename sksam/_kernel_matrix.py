"""Kernel matrices of the kernel estimators and paths (training and test)."""

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels

from ._array_api import kernel_dtype, namespace_of

__all__ = [
    "check_square_kernel",
    "kernel_params",
    "kernel_precision",
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


def _pairwise(X, Y, kernel, params):
    xp, _ = namespace_of(X)
    if xp is not None:
        return _xp_pairwise(xp, X, Y, kernel, params)
    # In float64 whatever the input dtype: a float32 kernel is indefinite at the
    # 1e-7 level, which the stability check would report.
    X = X.astype(np.float64, copy=False)
    Y = None if Y is None else Y.astype(np.float64, copy=False)
    return pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params).astype(
        np.float64, copy=False
    )


def kernel_precision(X, kernel):
    """The dtype the kernel values carry: a precomputed kernel's own, else float64."""
    return X.dtype if kernel == "precomputed" else np.dtype(np.float64)


def training_kernel(X, kernel, params):
    """A private float64 training kernel (the problem centres it in place)."""
    if kernel == "precomputed":
        xp, _ = namespace_of(X)
        if xp is not None:
            return _xp_symmetric_training_kernel(xp, X)
        return _symmetric_training_kernel(X)
    return _pairwise(X, None, kernel, params)


def test_kernel(X, X_fit, kernel, params):
    """The kernel between test rows ``X`` and the training rows ``X_fit``."""
    xp, _ = namespace_of(X)
    if kernel == "precomputed" and xp is not None:
        return xp.astype(X, kernel_dtype(xp, X))
    if kernel == "precomputed":
        K = X.toarray() if sparse.issparse(X) else X
        return np.asarray(K, dtype=np.float64)
    return _pairwise(X, X_fit, kernel, params)


def check_square_kernel(kernel, X):
    """With ``kernel="precomputed"`` the training ``X`` must be a square kernel."""
    if kernel == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            "With kernel='precomputed', X must be the square kernel matrix between "
            f"the training samples, of shape (n_samples, n_samples); got shape "
            f"{X.shape}."
        )
