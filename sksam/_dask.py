"""Dask input: the checks and conversions that estimators and validation call.

Dask arrays are validated lazily for ``fit`` (``validate_dask_fit_data``,
``dask_rows``) and ``predict`` (``check_dask_predict_input``); a classifier's labels
come from one pass over ``y`` (``dask_labels``). What cannot work without random
access to rows is refused here, in ``check_supported``. The row moments are reduced
in ``_dask_moments``, the splits of a cross-validation in ``_dask_splits``.

dask is an optional dependency (``pip install sksam[dask]``). Nothing here imports it
at module level: ``is_dask_collection`` only looks at ``sys.modules`` (an object can
only be a dask collection if dask has already been imported), so importing sksam never
imports dask and, without dask installed, nothing changes.
"""

import sys
from numbers import Real

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_feature_names

from ._warnings import warn

__all__ = [
    "as_dask_array",
    "check_dask_predict_input",
    "check_supported",
    "dask_labels",
    "dask_rows",
    "is_dask_collection",
    "label_rows",
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
def as_dask_array(arr, name, row_chunks=None):
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
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with shape {X.shape}; at least one sample and one "
            "feature are needed."
        )
    X = X.rechunk({1: -1})
    y = as_dask_array(y, "y", X.chunks[0])
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        raise ValueError(
            f"y of shape {y.shape} does not match X with {n_samples} rows."
        )
    if sample_weight is not None:
        if isinstance(sample_weight, Real):
            sample_weight = da.full(n_samples, float(sample_weight), chunks=X.chunks[0])
        sample_weight = as_dask_array(sample_weight, "sample_weight", X.chunks[0])
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


def dask_rows(arr, name, row_chunks):
    """Numeric ``arr`` (numpy, dask or a scalar weight) as a float64 dask array
    chunked as the rows of ``X`` (``row_chunks``)."""
    import dask.array as da

    if isinstance(arr, Real):
        return da.full(sum(row_chunks), float(arr), chunks=(row_chunks,))
    arr = as_dask_array(arr, name, row_chunks)
    return arr.astype(np.float64).rechunk({0: row_chunks})


def dask_labels(X, y):
    """``(X, labels, classes, counts)`` of a classifier's dask input.

    ``X`` as a dask array with one column chunk; ``labels`` the class labels of
    ``y`` (any dtype) as a 1-D dask array chunked as the rows of ``X``; their
    sorted distinct values and the number of rows of each, from one pass over
    ``y`` (``da.unique``). Multilabel targets are refused.
    """
    import dask
    import dask.array as da

    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    if not is_dask_collection(y):
        y = np.asarray(y)
    elif not isinstance(y, da.Array):
        raise TypeError(
            f"y is a {type(y).__name__}; sksam accepts dask arrays only. Convert "
            "it with y.to_dask_array(lengths=True)."
        )
    elif np.isnan(y.shape[0]):
        y = y.compute_chunk_sizes()
    if y.ndim == 2 and y.shape[1] == 1:
        warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y of shape {y.shape}: multilabel and multi-output targets are not "
            "supported with dask arrays; pass 1-D class labels (or fit on numpy "
            "arrays)."
        )
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y of shape {y.shape} does not match X with {X.shape[0]} rows."
        )
    y = label_rows(y, row_chunks)
    classes, counts = dask.compute(*da.unique(y, return_counts=True))
    return X, y, classes, counts


def label_rows(y, row_chunks):
    """Targets of any dtype (e.g. class labels) as a dask array chunked as the rows
    of ``X``, a column vector as 1-D."""
    import dask.array as da

    if not is_dask_collection(y):
        y = np.asarray(y)
        y = da.from_array(y, chunks=(row_chunks,) + y.shape[1:])
    elif np.isnan(y.shape[0]):
        y = y.compute_chunk_sizes()
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y.rechunk({0: row_chunks, **{axis: -1 for axis in range(1, y.ndim)}})


def check_dask_predict_input(estimator, X):
    """Check a dask ``X`` for ``predict`` lazily; returns the (float) dask array."""
    _check_feature_names(estimator, X, reset=False)
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    return X
