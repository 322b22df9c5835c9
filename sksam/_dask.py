"""Dask arrays: the one hook through which sksam meets them.

For a ``dask.array`` chunked by rows, dask reduces the weighted row moments of
``_core._moments.RowMoments`` chunk by chunk (on any scheduler: threads, processes or
a ``dask.distributed`` cluster) and only ``d x d`` results reach this process. The
linear problem is then known through its Gram matrix (``_problem.moment_problem``) and
every spectral route (``fit``, ``sam_path``, the CV and IC searches) runs on it as on
numpy data. The cross-validation reduces the moments of every fold in the same single
pass (``fold_moments``). What cannot work without random access to rows is refused
here, in ``check_supported``.

dask is an optional dependency (``pip install sksam[dask]``). Nothing here imports it
at module level: ``is_dask_collection`` only looks at ``sys.modules`` (an object can
only be a dask collection if dask has already been imported), so importing sksam never
imports dask and, without dask installed, nothing changes.
"""

import sys
from numbers import Real

import numpy as np
from sklearn.utils.validation import _check_feature_names

from ._core._moments import RowMoments

__all__ = [
    "check_dask_predict_input",
    "check_supported",
    "fold_moments",
    "is_dask_collection",
    "reduce_row_moments",
    "row_moments",
    "validate_dask_fit_data",
]


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


def check_supported(*, early_stopping=False, batch_size=None, solver=None):
    """Refuse, with the reason, what dask input cannot do (one place for all)."""
    if early_stopping:
        raise ValueError(
            "early_stopping is not supported for dask arrays; select n_iter with "
            "SAMRegressorCV, which reduces all folds in one pass over the data."
        )
    if batch_size is not None:
        raise ValueError(
            "batch_size is not supported for dask arrays: stochastic SAM needs random "
            "access to rows. Fit on a numpy array, or use batch_size=None (the exact "
            "full-batch path from the d x d Gram reduced by dask)."
        )
    if solver == "iterative":
        raise ValueError(
            "solver='iterative' is not supported for dask arrays (each step would be "
            "a pass over the data); use solver='spectral' or 'auto'."
        )


def validate_dask_fit_data(X, y, sample_weight, estimator=None):
    """Lazy counterpart of the numpy validation of ``fit`` data for dask input.

    Returns ``X`` (float dask array, one column chunk), ``y`` as a dask array of
    shape (n_samples, n_targets) with the row chunks of ``X``, the sample weights
    (float64 dask array or None) and ``y.ndim``. With an ``estimator``, records its
    ``n_features_in_`` and feature names (as ``validate_data`` does).
    """
    import dask.array as da

    if estimator is not None:
        _check_feature_names(estimator, X, reset=True)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with shape {X.shape}; at least one sample and one "
            "feature are needed."
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
    if estimator is not None:
        estimator.n_features_in_ = n_features
    y_ndim = y.ndim
    y = y.reshape(n_samples, -1).rechunk({0: X.chunks[0], 1: -1})
    return X, y, sample_weight, y_ndim


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
    smallest = largest = 0.0
    if sample_weight is not None:
        smallest, largest = sample_weight.min(), sample_weight.max()
    return {
        "min_weight": smallest,
        "max_weight": largest,
        "gram": chunk_grams.sum(axis=0),
    }


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
    extremes = np.array([computed[0]["min_weight"], computed[0]["max_weight"]])
    if not np.all(np.isfinite(extremes)):
        # NaN weights make the moments of X NaN too: name the weights.
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if extremes[0] < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    moments = [
        RowMoments.from_gram(parts["gram"], shift_x, shift_y) for parts in computed
    ]
    for name, value in (("X", moments[0].xx), ("y", moments[0].yy)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"Input {name} contains NaN or infinity.")
    return moments[0], moments[1:]


def reduce_row_moments(X, y, sample_weight, fit_intercept):
    """``RowMoments`` of all rows of validated dask ``X``, ``y``: one pass of dask."""
    return row_moments(X, y, sample_weight, fit_intercept)[0]


def fold_moments(X, y, sample_weight, fit_intercept, splits, score_weighted):
    """Training and scored ``RowMoments`` of every split, from one pass of dask.

    ``splits`` are ``(train, test)`` index arrays. The training moments of a split
    are the full moments minus those of its test rows when the training rows are the
    complement of the test rows (K-fold and the like), else they are reduced
    directly. The scored (test) moments are weighted iff ``score_weighted``.

    Returns a list of ``(train_moments, scored_moments, n_train)``.
    """
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
    full, subsets = row_moments(X, y, sample_weight, fit_intercept, row_sets)
    subsets = iter(subsets)
    folds = []
    for (train, _), complement in zip(splits, complements, strict=True):
        first = next(subsets)
        train_moments = full - first if complement else first
        scored = next(subsets) if not complement or unweighted_scores else first
        folds.append((train_moments, scored, train.size))
    return folds
