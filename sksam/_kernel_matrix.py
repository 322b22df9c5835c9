"""Kernel matrices of the kernel estimators and paths (training and test).

One route for every array namespace: a kernel on numpy, torch, CuPy or
array-api-strict data is computed by ``sklearn.metrics.pairwise_kernels`` in that
namespace, in the compute dtype (float64, or the widest float of the device: a
float32 kernel is indefinite at the 1e-7 level), from inputs shifted to their mean
where that keeps digits (``kernel_origin``).
"""

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels

from ._array_api import array_namespace, compute_dtype
from ._core._namespaces import astype, is_numpy, zeros

__all__ = [
    "check_square_kernel",
    "cross_kernel",
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
    """Private copy of a precomputed training kernel (compute dtype), exactly
    symmetric.

    A kernel matrix computed in floating point may be asymmetric by rounding; the
    spectral solver reads one triangle and the iterative one the whole matrix, so
    both get the symmetric part. An asymmetry beyond rounding is an error.
    """
    dense = X.toarray() if sparse.issparse(X) else X
    xp, device = array_namespace(dense)
    dtype = compute_dtype(xp, device)
    n = dense.shape[0]
    K = xp.empty((n, n), dtype=dtype) if is_numpy(xp) else None
    if K is None:
        K = xp.empty((n, n), dtype=dtype, device=device)
    asymmetry = scale = 0.0
    # Tile by tile: X + X.T in one call reads X.T across rows, ~5x slower at n=4000.
    for i in range(0, n, _TILE):
        rows = slice(i, min(i + _TILE, n))
        for j in range(i, n, _TILE):
            cols = slice(j, min(j + _TILE, n))
            upper = astype(xp, dense[rows, cols], dtype)
            lower_t = astype(xp, dense[cols, rows], dtype).T
            tile = (upper + lower_t) * 0.5
            K[rows, cols] = tile
            K[cols, rows] = tile.T
            asymmetry = max(asymmetry, float(xp.max(xp.abs(upper - lower_t))))
            scale = max(scale, float(xp.max(xp.abs(tile))))
    if asymmetry > np.sqrt(float(xp.finfo(dense.dtype).eps)) * scale:
        raise ValueError(
            "With kernel='precomputed', X must be a symmetric kernel matrix (the "
            f"kernel between the training samples); got max |X - X.T| = "
            f"{asymmetry:.3g} for max |X| = {scale:.3g}."
        )
    return K


def kernel_params(kernel, gamma, degree, coef0, extra):
    """Keyword arguments of ``pairwise_kernels`` for these kernel settings."""
    if callable(kernel):
        return extra or {}
    return {"gamma": gamma, "degree": degree, "coef0": coef0}


# Kernels whose values do not change when every input is shifted by one point:
# computed from inputs shifted to their mean, they keep the digits that a large
# common offset of the features (timestamps, say) would cancel in the distances.
_TRANSLATION_INVARIANT = frozenset({"rbf", "laplacian"})


def kernel_origin(X_fit, kernel, fit_intercept):
    """The point the kernel's inputs are shifted to (None: they are not).

    The mean of the dense training rows ``X_fit`` (in the compute dtype, in their
    namespace), for the translation-invariant kernels (the same kernel values,
    computed without cancellation) and for the linear kernel with an intercept:
    centring in feature space removes every shift of the inputs, so the centred
    kernel, hence the model, is the same (up to its intercept, see
    ``shifted_intercept_term``), and the digits a large common offset would
    cancel are kept.
    """
    if sparse.issparse(X_fit) or not isinstance(kernel, str) or X_fit.shape[0] == 0:
        return None
    if kernel in _TRANSLATION_INVARIANT or (kernel == "linear" and fit_intercept):
        xp, device = array_namespace(X_fit)
        return xp.mean(astype(xp, X_fit, compute_dtype(xp, device)), axis=0)
    return None


def shifted_intercept_term(X_fit, origin, kernel, dual_coef):
    """``b_shifted - b`` between the intercepts of the shifted and the raw kernel.

    For the linear kernel, ``x.x' = (x - m).(x' - m) + (x - m).m + x'.m + m.m``;
    with dual coefficients summing to 0 (an intercept), the model
    ``k(x, X) a + b`` is ``k_m(x, X) a + b + m.((X - m)^T a)``. Zero (shape
    ``dual_coef.shape[1:]``) for the translation-invariant kernels.
    """
    xp, _ = array_namespace(dual_coef)
    if origin is None or kernel != "linear":
        return zeros(xp, tuple(dual_coef.shape[1:]), dual_coef)
    projection = (astype(xp, X_fit, origin.dtype) - origin[None, :]) @ origin
    return projection @ dual_coef


def _pairwise(X, Y, kernel, params, origin=None):
    """The kernel in the namespace of ``X`` and the compute dtype."""
    xp, device = array_namespace(X)
    dtype = compute_dtype(xp, device)
    X = astype(xp, X, dtype)
    Y = None if Y is None else astype(xp, Y, dtype)
    if origin is not None:
        X = X - origin[None, :]
        Y = None if Y is None else Y - origin[None, :]
    # Non-finite kernel values get an error that names them (``training_kernel``
    # callers), not a RuntimeWarning from inside the kernel function.
    try:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            K = pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params)
    except Exception as exc:
        if is_numpy(xp):
            raise
        raise ValueError(
            f"kernel={kernel!r} cannot be computed on array API inputs "
            f"({xp.__name__}) by sklearn.metrics.pairwise_kernels: {exc}. Use a "
            "kernel that supports the array API ('linear', 'poly', 'rbf', "
            "'sigmoid', 'cosine', 'laplacian'), or kernel='precomputed'."
        ) from exc
    if not is_numpy(xp) and is_numpy(array_namespace(K)[0]):
        raise ValueError(
            f"kernel={kernel!r} returned a numpy kernel for {xp.__name__} inputs: "
            "it does not support the array API. Use 'linear', 'poly', 'rbf', "
            "'sigmoid', 'cosine' or 'laplacian', or kernel='precomputed'."
        )
    return astype(xp, K, dtype)


def cross_kernel(X, Y, kernel, params, origin=None):
    """The kernel between the rows of ``X`` and ``Y`` (a named or callable kernel),
    in the namespace of ``X`` and the compute dtype; not checked for finiteness."""
    return _pairwise(X, Y, kernel, params, origin)


def kernel_precision(X, kernel):
    """The dtype the kernel values carry: a precomputed kernel's own, else the
    compute dtype."""
    if kernel == "precomputed":
        return X.dtype
    xp, device = array_namespace(X)
    return compute_dtype(xp, device)


def training_kernel(X, kernel, params, origin=None):
    """A private training kernel in the compute dtype (the problem centres it in
    place).

    ``origin``: the point the inputs are shifted to (``kernel_origin``).
    """
    if kernel == "precomputed":
        return _symmetric_training_kernel(X)
    return _pairwise(X, None, kernel, params, origin)


def test_kernel(X, X_fit, kernel, params, origin=None):
    """The kernel between test rows ``X`` and the training rows ``X_fit``."""
    if kernel == "precomputed":
        K = X.toarray() if sparse.issparse(X) else X
        xp, device = array_namespace(K)
        return astype(xp, K, compute_dtype(xp, device))
    if origin is not None and sparse.issparse(X):
        X = X.toarray()
    K = _pairwise(X, X_fit, kernel, params, origin)
    xp, _ = array_namespace(K)
    finite = xp.all(xp.isfinite(K), axis=1)
    if not bool(xp.all(finite)):
        bad = int(K.shape[0] - int(xp.sum(astype(xp, finite, K.dtype))))
        raise ValueError(
            f"The kernel between {bad} of the {K.shape[0]} test rows and the "
            "training rows has non-finite values (NaN or inf): the kernel is not "
            "defined on these rows with these parameters (e.g. a 'poly' kernel "
            "with a non-integer degree on negative inner products), or it "
            "overflows float64. Predictions there would be NaN."
        )
    return K


def check_square_kernel(kernel, X):
    """With ``kernel="precomputed"`` the training ``X`` must be a square kernel."""
    if kernel == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            "With kernel='precomputed', X must be the square kernel matrix between "
            f"the training samples, of shape (n_samples, n_samples); got shape "
            f"{X.shape}."
        )
