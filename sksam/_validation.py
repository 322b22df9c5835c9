"""Validation of the data, shared by the estimators and the paths.

The estimators, searches and classifiers reach the dask and array API routes only
through this module (and the problem builders of ``_problem``): ``check_fit_data``
and ``check_predict_data`` validate the training and test data of any namespace
(numpy, sparse, dask, torch, array-api-strict, ...), ``takes_dask_route`` tells the
dask route apart, ``labels_on_host`` brings class labels to the host, ``as_output``
casts a model's arrays to the data's dtype in their namespace; ``like_input``,
``to_namespace``, ``to_numpy``, ``array_namespace`` and ``check_same_namespace``
(from ``_array_api``) move results between the host and the data's namespace.
"""

from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_X_y, validate_data

from ._array_api import (
    array_namespace,
    check_same_namespace,
    compute_dtype,
    like_input,
    to_namespace,
    to_numpy,
)
from ._array_api import check_supported as check_array_api_supported
from ._core._namespaces import astype, is_numpy
from ._dask import (
    check_dask_predict_input,
    check_supported,
    dask_labels,
    dask_rows,
    is_dask_collection,
    validate_dask_fit_data,
)
from ._dask_splits import RowGroups, Splits

__all__ = [
    "FitData",
    "RowGroups",
    "Splits",
    "array_namespace",
    "as_output",
    "check_fit_data",
    "check_predict_data",
    "check_same_namespace",
    "dask_labels",
    "dask_rows",
    "labels_on_host",
    "like_input",
    "takes_dask_route",
    "to_namespace",
    "to_numpy",
]


class FitData(NamedTuple):
    """Validated training data.

    ``y`` has shape (n_samples, n_targets) (the compute dtype: float64, or the
    widest float of the device); ``y_ndim`` is the dimension
    the user gave (predictions take it); ``dtype`` is that of ``X`` (float32 input
    gives float32 predictions). ``labels`` is the fitted ``LabelBinarizer`` of a
    classifier (``y`` then holds its +/-1 indicator columns), ``None`` otherwise.
    """

    X: object
    y: object
    sample_weight: object
    y_ndim: int
    dtype: object
    labels: object = None
    #: The array namespace of the data (numpy's module for numpy, sparse, dask).
    xp: object = np
    #: Dask route of a classifier: the rows' classes as ``_dask_splits.RowGroups`` (the
    #: per-class moments of each training part of a search), else ``None``.
    row_groups: object = None


def check_fit_data(
    X,
    y,
    sample_weight,
    *,
    estimator=None,
    accept_sparse=("csr", "csc", "coo"),
    accept_dask=False,
    dask_options=None,
    array_api_options=None,
):
    """Validate ``X``, ``y`` and ``sample_weight`` for a fit or a path.

    With an ``estimator``, ``validate_data`` records ``n_features_in_`` and the
    feature names on it, as scikit-learn estimators do in ``fit``. With
    ``accept_dask``, dask input stays lazy (``_dask``); ``dask_options`` are the
    settings checked against what dask input supports (``_dask.check_supported``).

    One route for every array namespace: ``X`` of another namespace (torch, CuPy,
    ... under ``array_api_dispatch``) stays there, ``y`` and ``sample_weight`` are
    moved to its namespace and device, and ``y`` and ``sample_weight`` are in the
    compute dtype (float64, or the widest float of the device) whatever the dtype
    of ``X``: a float32 ``X`` gives the model of its float64 values, in float32.
    ``array_api_options`` are the settings checked against what only numpy
    supports (``_array_api.check_supported``).
    """
    xp, device = array_namespace(X)
    if not is_numpy(xp):
        check_array_api_supported(**(array_api_options or {}))
        y = to_namespace(y, xp, device)
        sample_weight = to_namespace(sample_weight, xp, device)
        accept_sparse = False
    elif accept_dask and any(map(is_dask_collection, (X, y, sample_weight))):
        check_supported(**(dask_options or {}))
        X, y, sample_weight, y_ndim = validate_dask_fit_data(
            X, y, sample_weight, estimator
        )
        return FitData(X, y, sample_weight, y_ndim, X.dtype)
    options = dict(
        accept_sparse=accept_sparse,
        dtype=[xp.float64, xp.float32],
        multi_output=True,
        y_numeric=True,
    )
    if estimator is None:
        X, y = check_X_y(X, y, **options)
    else:
        X, y = validate_data(estimator, X, y, **options)
    dtype = compute_dtype(xp, device)
    y_ndim = y.ndim
    y = xp.reshape(astype(xp, y, dtype), (y.shape[0], -1))
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=dtype, ensure_non_negative=True
        )
    return FitData(X, y, sample_weight, y_ndim, X.dtype, xp=xp)


def check_predict_data(
    estimator, X, *, attribute, method="predict", accept_sparse=("csr", "csc", "coo")
):
    """Validate test rows ``X`` for a fitted ``estimator`` (``reset=False``).

    A dask ``X`` stays lazy (its predictions are a dask array); ``X`` of another
    namespace must be that of ``fit`` (``attribute``: a fitted array; ``method``:
    the public method named in the error) and is predicted there; numpy and
    sparse ``X`` as scikit-learn validates them.
    """
    if is_dask_collection(X):
        return check_dask_predict_input(estimator, X)
    check_same_namespace(X, estimator, attribute=attribute, method=method)
    xp, _ = array_namespace(X)
    return validate_data(
        estimator,
        X,
        accept_sparse=accept_sparse if is_numpy(xp) else False,
        dtype=[xp.float64, xp.float32],
        reset=False,
    )


def takes_dask_route(*arrays):
    """Whether these arrays take the dask route (row moments; linear models)."""
    return any(map(is_dask_collection, arrays))


def labels_on_host(X, y, sample_weight):
    """``(y, sample_weight)`` on the host for ``X`` of another namespace (class
    labels are encoded by numpy, as scikit-learn's ``RidgeClassifier`` does);
    unchanged for numpy ``X``."""
    if is_numpy(array_namespace(X)[0]):
        return y, sample_weight
    return to_numpy(y), None if sample_weight is None else to_numpy(sample_weight)


def as_output(data, array):
    """A model's ``array`` in the dtype of the training data ``X`` (its namespace
    kept): float32 data give float32 coefficients, as scikit-learn's do."""
    return astype(data.xp, array, data.dtype)
