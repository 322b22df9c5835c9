"""Dask arrays in the linear estimators: the ``d x d`` Gram reduced over row chunks.

For a ``dask.array`` chunked by rows, dask reduces the weighted row moments of
``_moments.RowMoments`` chunk by chunk (on any scheduler: threads, processes or a
``dask.distributed`` cluster) and only ``d x d`` results reach this process; the
eigendecomposition and the exact filter then run locally through the numpy code path
(``SAMRegressor`` overrides ``_validate_fit_data`` and ``_scaled_fit`` with the
functions here, so ``fit`` and ``sam_path`` need nothing else). For the CV
estimators ``_cv_search`` dispatches dask input to ``dask_split_scores`` (the
moments of every test fold are reduced in the same single pass; a training fold is
the full moments minus its test fold, and the squared-error scores come from the
test-fold moments, so ``X`` is read once for all folds) and ``dask_gcv_inputs``.

dask is an optional dependency (``pip install sksam[dask]``). Nothing here imports it
at module level: ``is_dask_collection`` only looks at ``sys.modules`` (an object can
only be a dask collection if dask has already been imported), so importing sksam never
imports dask and, without dask installed, nothing changes.
"""

import sys
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.metrics import (
    explained_variance_score,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.utils.validation import _check_feature_names

from ._base import ScaledFit
from ._core._moments import GramDesign, RowMoments, squared_error_scores
from ._core._spectral import coef_path

__all__ = [
    "check_dask_predict_input",
    "dask_gcv_inputs",
    "dask_scaled_fit",
    "dask_split_scores",
    "is_dask_collection",
    "reduces_dask",
    "row_moments",
    "validate_dask_fit_data",
]

_MOMENT_METRICS = {
    r2_score: "r2",
    explained_variance_score: "explained_variance",
    mean_squared_error: "mean_squared_error",
    root_mean_squared_error: "root_mean_squared_error",
}


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection, without importing dask.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._dask import is_dask_collection
    >>> is_dask_collection(np.ones(3))
    False
    """
    dask = sys.modules.get("dask")
    return dask is not None and bool(dask.is_dask_collection(obj))


# ----------------------------------------------------------------- validation
def _as_dask_array(arr, name, row_chunks=None):
    """A float dask array (numpy input is wrapped with ``row_chunks``)."""
    import dask.array as da

    if not is_dask_collection(arr):
        arr = np.asarray(arr)
        chunks = (row_chunks,) + arr.shape[1:] if row_chunks else "auto"
        arr = da.from_array(arr, chunks=chunks)
    elif not isinstance(arr, da.Array):
        raise TypeError(
            f"{name} is a {type(arr).__name__}; sksam accepts dask arrays only. "
            f"Convert it with {name}.to_dask_array(lengths=True)."
        )
    if np.isnan(arr.shape[0]):
        arr = arr.compute_chunk_sizes()  # one pass to learn the chunk lengths
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def _check_dask_support(estimator, solver=None):
    if getattr(estimator, "early_stopping", False):
        raise ValueError(
            "early_stopping is not supported for dask arrays; select n_iter with "
            "SAMRegressorCV, which reduces all folds in one pass over the data."
        )
    if estimator.batch_size is not None:
        raise ValueError(
            "batch_size is not supported for dask arrays: stochastic SAM needs random "
            "access to rows. Fit on a numpy array, or use batch_size=None (the exact "
            "full-batch path from the d x d Gram reduced by dask)."
        )
    if "iterative" in (estimator.solver, solver):
        raise ValueError(
            "solver='iterative' is not supported for dask arrays (each step would be "
            "a pass over the data); use solver='spectral' or 'auto'."
        )


def validate_dask_fit_data(estimator, X, y, sample_weight):
    """Lazy counterpart of ``BaseSAM._validate_fit_data`` for dask input.

    Returns ``X`` (float dask array, one column chunk), ``y`` as a dask array of
    shape (n_samples, n_targets) with the row chunks of ``X``, and the sample weights
    (float64 dask array or None). Sets ``n_features_in_`` and the output shape.
    """
    import dask.array as da

    _check_dask_support(estimator)
    _check_feature_names(estimator, X, reset=True)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with shape {X.shape}; {type(estimator).__name__} needs at "
            "least one sample and one feature."
        )
    X = X.rechunk({1: -1})
    y = _as_dask_array(y, "y", X.chunks[0])
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        raise ValueError(
            f"y of shape {y.shape} does not match X with {n_samples} rows."
        )
    if sample_weight is not None:
        if isinstance(sample_weight, Real):
            sample_weight = da.full(n_samples, float(sample_weight), chunks=X.chunks[0])
        sample_weight = _as_dask_array(sample_weight, "sample_weight", X.chunks[0])
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected "
                f"({n_samples},)!"
            )
        sample_weight = sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    estimator.n_features_in_ = n_features
    estimator._y_ndim = y.ndim
    estimator._output_dtype = X.dtype
    y = y.reshape(n_samples, -1).rechunk({0: X.chunks[0], 1: -1})
    return X, y, sample_weight


def check_dask_predict_input(estimator, X):
    """Check a dask ``X`` for ``predict`` lazily; returns the (float) dask array."""
    _check_feature_names(estimator, X, reset=False)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    return X


# ------------------------------------------------------------------ reduction
def _chunk_gram(x, y, w=None, *, shift_x, shift_y):
    """``Z^T Z`` of one row chunk, ``Z = sqrt(w) [x - shift_x, y - shift_y, 1]``.

    Every ``RowMoments`` field is a block of it (``RowMoments.from_gram``). Blocks
    along the column axes arrive as lists (of one block: columns are not chunked).
    """
    x, y = (b[0] if len(b) == 1 else np.concatenate(b, axis=1) for b in (x, y))
    n_features, n_targets = x.shape[1], y.shape[1]
    z = np.empty((x.shape[0], n_features + n_targets + 1))
    np.subtract(x, shift_x, out=z[:, :n_features])
    np.subtract(y, shift_y, out=z[:, n_features:-1])
    z[:, -1] = 1.0
    if w is not None:
        z *= np.sqrt(np.maximum(w, 0.0))[:, None]  # negative weights: error later
    return (z.T @ z)[None]  # one BLAS syrk (z.T and z share their buffer)


def _row_moment_graph(X, y, sample_weight, shift_x, shift_y):
    """Lazy augmented Gram of the rows of ``X``, ``y`` (n, t) and smallest weight."""
    import dask.array as da

    size = X.shape[1] + y.shape[1] + 1
    arrays = [X, "ij", y, "ik"]
    if sample_weight is not None:
        arrays += [sample_weight, "i"]
    chunk_grams = da.blockwise(
        _chunk_gram,
        "iab",
        *arrays,
        shift_x=shift_x,
        shift_y=shift_y,
        new_axes={"a": size, "b": size},
        adjust_chunks={"i": 1},
        concatenate=False,
        dtype=np.float64,
    )
    smallest = 0.0 if sample_weight is None else sample_weight.min()
    return {"min_weight": smallest, "gram": chunk_grams.sum(axis=0)}


def _shift(X, y, fit_intercept):
    """Mean of the first row chunk (only that chunk is read); 0 without intercept."""
    import dask

    if not fit_intercept:
        return np.zeros(X.shape[1]), np.zeros(y.shape[1])
    rows = X.chunks[0][0]
    return dask.compute(
        X[:rows].astype(np.float64).mean(axis=0),
        y[:rows].astype(np.float64).mean(axis=0),
    )


def row_moments(X, y, sample_weight=None, fit_intercept=True, row_sets=()):
    """``RowMoments`` of all rows and of each row set, in one ``dask.compute``.

    Each chunk of ``X`` is therefore produced once however many row sets are asked
    for (plus the first chunk once more for the shift).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples, n_targets)
    sample_weight : dask array of shape (n_samples,) or None
    fit_intercept : bool
        Whether to take the moments about the first chunk's mean (else about 0).
    row_sets : sequence of (indices, weighted)
        Integer row indices and whether to weight those rows by ``sample_weight``.

    Returns
    -------
    full : RowMoments
    subsets : list of RowMoments, one per row set

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from sksam._dask import row_moments
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    >>> full, (first,) = row_moments(X, X[:, :1], row_sets=[(np.arange(4), True)])
    >>> float(full.sum_weights), float((full - first).sum_weights)
    (6.0, 2.0)
    """
    import dask

    shift_x, shift_y = _shift(X, y, fit_intercept)
    graphs = [_row_moment_graph(X, y, sample_weight, shift_x, shift_y)]
    for rows, weighted in row_sets:
        rows = np.sort(np.asarray(rows))  # the moments do not depend on the order
        sw = sample_weight[rows] if weighted and sample_weight is not None else None
        graphs.append(_row_moment_graph(X[rows], y[rows], sw, shift_x, shift_y))
    computed = dask.compute(graphs)[0]
    if computed[0]["min_weight"] < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    moments = [
        RowMoments.from_gram(parts["gram"], shift_x, shift_y) for parts in computed
    ]
    for name, value in (("X", moments[0].xx), ("y", moments[0].yy)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"Input {name} contains NaN or infinity.")
    return moments[0], moments[1:]


def _scaled_fit_from_moments(estimator, moments, n_samples):
    """``ScaledFit`` of the spectral solver (no ``y_scaled``/weights: never needed)."""
    gram, xty, x_mean, y_mean = moments.centred(estimator.fit_intercept)
    op = GramDesign(gram, xty, float(moments.sum_weights), n_samples)
    factor = op.factor()
    return x_mean, ScaledFit(
        op, None, y_mean, None, None, factor, factor.lam_max, "spectral"
    )


def dask_scaled_fit(estimator, X, y, sample_weight, solver=None):
    """``BaseSAM._scaled_fit`` for validated dask input: one pass of dask reduction.

    The returned ``ScaledFit`` has ``y_scaled``, ``sw`` and ``sqrt_sw`` set to None:
    the spectral solution needs only the factor, and ``X`` never sits here.
    """
    _check_dask_support(estimator, solver)
    moments, _ = row_moments(X, y, sample_weight, estimator.fit_intercept)
    x_mean, fit = _scaled_fit_from_moments(estimator, moments, X.shape[0])
    estimator._x_offset = x_mean
    return fit


# --------------------------------------------------------- cross-validation
def _moment_metric(vectorised):
    metric = None if vectorised is None else _MOMENT_METRICS.get(vectorised[0])
    if metric is None:
        raise ValueError(
            "With dask arrays SAMRegressorCV scores from the reduced moments and "
            "supports only the squared-error scorings None, 'r2', "
            "'explained_variance', 'neg_mean_squared_error' and "
            "'neg_root_mean_squared_error'."
        )
    return metric, vectorised[1]


def reduces_dask(estimator, *arrays):
    """Whether ``estimator`` takes the dask route for ``arrays`` (linear models only).

    Kernel models need the ``n x n`` kernel: they compute dask input into memory,
    as ``SAMKernelRidge.fit`` does (for large kernels use ``Nystroem`` features and
    ``SAMRegressor``).
    """
    linear = "kernel" not in estimator.get_params()
    return linear and any(map(is_dask_collection, arrays))


def dask_split_scores(estimator, X, y, splits, sample_weight, score_params, grid):
    """CV scores (n_iters, n_rhos, n_splits) with every fold reduced in one pass.

    ``splits`` are ``(train, test)`` index arrays and ``grid`` is
    ``(n_iters, rhos, scorer, vectorised)`` as in ``_cv_search``. The training
    moments of a split are the full moments minus those of its test rows when the
    training rows are the complement of the test rows (K-fold and the like), else
    they are reduced directly; the validation scores come from the test-fold
    moments, weighted iff ``score_params`` holds the ``sample_weight``.
    """
    if set(score_params) - {"sample_weight"}:
        raise ValueError(
            "With dask arrays the scorer takes no metadata besides sample_weight; "
            f"got {sorted(score_params)}."
        )
    score_weighted = "sample_weight" in score_params
    estimator = clone(estimator)
    n_iters, rhos, _, vectorised = grid
    metric, sign = _moment_metric(vectorised)
    X, y, sample_weight = validate_dask_fit_data(estimator, X, y, sample_weight)
    n_samples = X.shape[0]
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    unweighted_scores = sample_weight is not None and not score_weighted
    complements, row_sets = [], []
    for train, test in splits:
        complement = train.size + test.size == n_samples and np.array_equal(
            np.union1d(train, test), np.arange(n_samples)
        )
        complements.append(complement)
        row_sets.append((test, True) if complement else (train, True))
        if not complement or unweighted_scores:
            row_sets.append((test, not unweighted_scores))
    full, subsets = row_moments(X, y, sample_weight, estimator.fit_intercept, row_sets)
    subsets = iter(subsets)
    scores = np.full((n_iters.size, rhos.size, len(splits)), np.nan)
    for split, ((train, _), complement) in enumerate(
        zip(splits, complements, strict=True)
    ):
        first = next(subsets)
        train_moments = full - first if complement else first
        scored = next(subsets) if not complement or unweighted_scores else first
        x_mean, fit = _scaled_fit_from_moments(estimator, train_moments, train.size)
        for j, rho in enumerate(rhos):
            learning_rate = estimator._resolve_learning_rate(fit.lam_max, float(rho))
            with np.errstate(over="ignore", invalid="ignore"):
                coefs = coef_path(
                    fit.factor, learning_rate, rho, n_iters, estimator.variant
                )
                values = sign * squared_error_scores(
                    metric, scored, coefs, x_mean, fit.y_offset
                )
            finite = np.isfinite(coefs).all(axis=(0, 1)) & np.isfinite(values)
            scores[finite, j, split] = values[finite]
    return scores


def dask_gcv_inputs(estimator, X, y, sample_weight):
    """``(ScaledFit, S, ||y_s||^2)`` for ``_cv_search._gcv_scores``, from one pass."""
    X, y, sample_weight = validate_dask_fit_data(estimator, X, y, sample_weight)
    moments, _ = row_moments(X, y, sample_weight, estimator.fit_intercept)
    _, fit = _scaled_fit_from_moments(estimator, moments, X.shape[0])
    y_sq_norm = moments.centred_y_sq_norm(estimator.fit_intercept)
    return fit, float(moments.sum_weights), y_sq_norm
