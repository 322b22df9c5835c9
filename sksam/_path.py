"""Coefficients of SAM for every stopping time from one decomposition.

``sam_path`` and ``sam_kernel_path`` are the SAM analogues of
:func:`sklearn.linear_model.lasso_path`: the grid (here of step counts) is the last
axis of the returned coefficients. Each is a ``Problem`` built from the validated data
(decomposed once) and the exact filter (unnormalized) or the exact O(rank)-per-step
recursion (normalized) at every requested step count; no estimator is involved.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ._array_api import array_namespace
from ._core._namespaces import concat, index_array, permute_dims
from ._kernel_matrix import (
    check_square_kernel,
    kernel_origin,
    kernel_precision,
    shifted_intercept_term,
)
from ._kernel_matrix import kernel_params as _kernel_params
from ._nystroem import nystroem_problem
from ._params import KERNEL_CONSTRAINTS, SAM_CONSTRAINTS
from ._problem import kernel_data_problem, linear_problem
from ._run import path_solver, plan_run
from ._stability import check_finite
from ._validation import check_fit_data, takes_dask_route

__all__ = ["check_n_iters", "sam_kernel_path", "sam_path"]

_SAM_CONSTRAINTS = {
    name: SAM_CONSTRAINTS[name]
    for name in ("rho", "learning_rate", "variant", "fit_intercept")
}
_COMMON_CONSTRAINTS = {
    "X": ["array-like", "sparse matrix"],
    "y": ["array-like"],
    "n_iters": ["array-like", Interval(Integral, 0, None, closed="left")],
    **_SAM_CONSTRAINTS,
    "sample_weight": ["array-like", None],
}


def check_n_iters(n_iters, name="n_iters"):
    """Validated step counts: a 1-D int64 array of non-negative integers.

    An int ``m`` stands for ``1, 2, ..., m``; an array keeps its order (and any
    duplicates), as a parameter grid would.
    """
    if isinstance(n_iters, Integral):
        return np.arange(1, int(n_iters) + 1, dtype=np.int64)
    values = np.asarray(n_iters)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array; got shape {values.shape}."
        )
    if values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must contain integers; got {values!r}.")
    if np.any(values < 0) or np.any(values != np.round(values)):
        raise ValueError(f"{name} must contain non-negative integers; got {values!r}.")
    # 2^63 itself rounds to the largest float below it only as a float: compare
    # in the values' own type, then in float (a uint64 or a float array).
    if np.any(values > _MAX_STEPS) or np.any(values.astype(float) >= 2.0**63):
        raise ValueError(
            f"{name} must be below 2**63 (step counts are int64); got {values.max()!r}."
        )
    return values.astype(np.int64)


_MAX_STEPS = np.iinfo(np.int64).max


def _path(problem, data, n_iters, rho, learning_rate, variant):
    """``(steps, coefficients, intercepts)`` of the model at each step count.

    The layouts are those of the fitted attributes (``coef_`` or ``dual_coef_``),
    with the grid axis last.
    """
    steps = check_n_iters(n_iters)
    run = plan_run(
        problem,
        rho=rho,
        learning_rate=learning_rate,
        variant=variant,
        solver=path_solver(variant),
        n_iter=int(steps.max()),
    )
    ((_, coefs),) = run.coef_chunks(steps, steps.size)
    check_finite(coefs, problem.diverged_message(run.learning_rate, run.rho, variant))
    coefficients, intercepts = problem.to_model(coefs)
    if data.y_ndim == 1:
        return steps, coefficients[:, 0, :], intercepts[0, :]
    return steps, coefficients, intercepts


@validate_params(_COMMON_CONSTRAINTS, prefer_skip_nested_validation=True)
def sam_path(
    X,
    y,
    n_iters,
    *,
    rho=0.1,
    learning_rate="auto",
    variant="unnormalized",
    fit_intercept=True,
    sample_weight=None,
):
    """Coefficients of linear SAM after every number of steps in ``n_iters``.

    One eigendecomposition of the weighted, centred Gram matrix gives the exact
    iterate for every step count (the normalized variant runs its exact O(rank)
    recursion once up to ``max(n_iters)``). The result at ``n_iters[k]`` equals
    ``SAMRegressor(rho=rho, n_iter=n_iters[k], ...).fit(X, y, sample_weight)``. The
    whole path shows the implicit regularization of the stopping time [1]_.

    Parameters
    ----------
    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
        Training data. A row-chunked ``dask.array`` (``y`` and ``sample_weight``
        may be dask arrays too) is reduced to its Gram matrix by dask, as in
        :meth:`SAMRegressor.fit`.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    n_iters : array-like of int or int
        Step counts (``>= 0``, any order). An int ``m`` means ``1, 2, ..., m``.
    rho : float, default=0.1
        SAM radius (``0`` is gradient descent).
    learning_rate : "auto" or float, default="auto"
        As in :class:`SAMRegressor`.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        As in :class:`SAMRegressor`.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept by weighted centring.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    n_iters : ndarray of shape (n_steps,)
        The step counts, as integers, in the order given.
    coefs : ndarray of shape (n_features, n_steps) or (n_targets, n_features, n_steps)
        ``coefs[..., k]`` is the ``coef_`` after ``n_iters[k]`` steps (the grid axis
        is last, as in :func:`sklearn.linear_model.lasso_path`).
    intercepts : ndarray of shape (n_steps,) or (n_targets, n_steps)
        The matching ``intercept_`` (zeros without ``fit_intercept``).

    See Also
    --------
    sam_kernel_path : The same for :class:`SAMKernelRidge`.
    SAMRegressor.staged_predict : Predictions along the path of a fitted model.

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import sam_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(50)
    >>> n_iters, coefs, intercepts = sam_path(X, y, [1, 10, 100], rho=0.1)
    >>> coefs.shape, intercepts.shape
    ((3, 3), (3,))
    >>> np.round(coefs[:, -1], 2)
    array([ 1.02, -2.01,  0.51])
    """
    data = check_fit_data(X, y, sample_weight, accept_dask=True)
    steps, coefs, intercepts = _path(
        linear_problem(data.X, data.y, data.sample_weight, fit_intercept),
        data,
        n_iters,
        rho,
        learning_rate,
        variant,
    )
    # coef_ layout: (n_targets, n_features) with several targets
    if coefs.ndim == 3:
        xp, _ = array_namespace(coefs)
        coefs = permute_dims(xp, coefs, (1, 0, 2))
    return steps, coefs, intercepts


@validate_params(
    {**_COMMON_CONSTRAINTS, **KERNEL_CONSTRAINTS}, prefer_skip_nested_validation=True
)
def sam_kernel_path(
    X,
    y,
    n_iters,
    *,
    rho=0.1,
    kernel="linear",
    gamma=None,
    degree=3,
    coef0=1,
    kernel_params=None,
    n_components=None,
    random_state=None,
    learning_rate="auto",
    variant="unnormalized",
    fit_intercept=True,
    sample_weight=None,
):
    """Dual coefficients of kernel SAM after every number of steps in ``n_iters``.

    One eigendecomposition of the weighted, centred ``n x n`` kernel (of the
    ``m x m`` Gram of the Nystroem features with ``n_components=m``) gives the exact
    iterate for every step count (the stopping time regularizes [1]_). The result at
    ``n_iters[k]`` equals ``SAMKernelRidge(rho=rho, n_iter=n_iters[k], kernel=kernel,
    ...).fit(X, y, sample_weight)``: the model is
    ``f(x) = k(x, X) @ dual_coefs[..., k] + intercepts[..., k]`` (the centring is
    folded into both, as in ``dual_coef_``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, or the square training kernel if ``kernel="precomputed"``.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    n_iters : array-like of int or int
        Step counts (``>= 0``, any order). An int ``m`` means ``1, 2, ..., m``.
    rho : float, default=0.1
        SAM radius (``0`` is kernel gradient descent).
    kernel, gamma, degree, coef0, kernel_params
        The kernel, as in :class:`SAMKernelRidge`.
    n_components : int, default=None
        Nystroem SAM on ``m`` landmark rows, as in :class:`SAMKernelRidge`
        (``None``: the exact kernel model). ``X`` may then be a dask array,
        reduced to the ``m x m`` moments of its features in one pass.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark draw of ``n_components``.
    learning_rate : "auto" or float, default="auto"
        As in :class:`SAMKernelRidge`.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        As in :class:`SAMKernelRidge`.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept by weighted centring of the kernel.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    n_iters : ndarray of shape (n_steps,)
        The step counts, as integers, in the order given.
    dual_coefs : ndarray of shape (n_samples, n_steps) or \
            (n_samples, n_targets, n_steps)
        ``dual_coefs[..., k]`` is the ``dual_coef_`` after ``n_iters[k]`` steps.
        With ``n_components`` they are zero outside the landmark rows, whose
        entries are the ``dual_coef_`` of ``SAMKernelRidge(n_components=...,
        random_state=...)`` (on its ``component_indices_``); the model is still
        ``k(x, X) @ dual_coefs[..., k] + intercepts[..., k]``.
    intercepts : ndarray of shape (n_steps,) or (n_targets, n_steps)
        The matching ``intercept_``.

    See Also
    --------
    sam_path : The same for the linear model.

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import sam_kernel_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(40, 1))
    >>> y = np.sin(X[:, 0])
    >>> n_iters, dual_coefs, intercepts = sam_kernel_path(
    ...     X, y, [10, 100], kernel="rbf", gamma=0.5
    ... )
    >>> dual_coefs.shape
    (40, 2)
    """
    nystroem = n_components is not None
    data = check_fit_data(
        X, y, sample_weight, accept_sparse=("csr", "csc"), accept_dask=nystroem
    )
    if nystroem and kernel == "precomputed" and takes_dask_route(data.X):
        raise ValueError(
            "kernel='precomputed' is not supported for dask arrays; pass the rows "
            "themselves and the kernel's name (or a callable kernel)."
        )
    check_square_kernel(kernel, data.X)
    params = _kernel_params(kernel, gamma, degree, coef0, kernel_params)
    if nystroem:
        problem = nystroem_problem(
            data.X,
            data.y,
            data.sample_weight,
            fit_intercept,
            kernel,
            params,
            n_components,
            random_state,
            kernel_precision(data.X, kernel),
        )
    else:
        problem = kernel_data_problem(
            data.X, data.y, data.sample_weight, fit_intercept, kernel, params
        )
    steps, coefficients, intercepts = _path(
        problem, data, n_iters, rho, learning_rate, variant
    )
    if n_components is not None:
        # On the landmarks: scattered to their rows (zero elsewhere).
        return steps, _scatter_rows(problem, data, coefficients), intercepts
    origin = kernel_origin(data.X, kernel, fit_intercept)
    if origin is not None:
        # Intercepts of the model with the raw kernel (the inputs were shifted).
        intercepts = intercepts - shifted_intercept_term(
            data.X, origin, kernel, coefficients
        )
    return steps, coefficients, intercepts


def _scatter_rows(problem, data, coefficients):
    """Dual coefficients on the landmarks as those of all training rows (zero
    outside the landmarks), in their namespace."""
    indices = problem.output.feature_map.indices
    xp, _ = array_namespace(coefficients)
    # Row i takes landmark position[i], or the appended zero row.
    position = np.full(data.X.shape[0], indices.size)
    position[indices] = np.arange(indices.size)
    zero = xp.zeros_like(coefficients[:1, ...])
    padded = concat(xp, [coefficients, zero], axis=0)
    return xp.take(padded, index_array(xp, position, coefficients), axis=0)
