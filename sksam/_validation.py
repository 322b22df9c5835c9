"""Validation of the training data, shared by the estimators and the paths."""

from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_X_y, validate_data

from ._array_api import check_supported as check_array_api_supported
from ._array_api import namespace_of, to_namespace
from ._dask import check_supported, is_dask_collection, validate_dask_fit_data

__all__ = ["FitData", "check_fit_data"]


class FitData(NamedTuple):
    """Validated training data.

    ``y`` has shape (n_samples, n_targets) (float64); ``y_ndim`` is the dimension
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

    Under ``array_api_dispatch``, ``X`` of another namespace (torch, CuPy, ...)
    stays there: ``y`` and ``sample_weight`` are moved to its namespace and device,
    in the dtype of ``X`` (``_array_api``); ``array_api_options`` are the settings
    checked against what that route supports.
    """
    xp, device = namespace_of(X)
    if xp is not None:
        check_array_api_supported(**(array_api_options or {}))
        return _check_array_api_fit_data(X, y, sample_weight, estimator, xp, device)
    if accept_dask and any(map(is_dask_collection, (X, y, sample_weight))):
        check_supported(**(dask_options or {}))
        X, y, sample_weight, y_ndim = validate_dask_fit_data(
            X, y, sample_weight, estimator
        )
        return FitData(X, y, sample_weight, y_ndim, X.dtype)
    options = dict(
        accept_sparse=accept_sparse,
        dtype=[np.float64, np.float32],
        multi_output=True,
        y_numeric=True,
    )
    if estimator is None:
        X, y = check_X_y(X, y, **options)
    else:
        X, y = validate_data(estimator, X, y, **options)
    y_ndim = y.ndim
    y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return FitData(X, y, sample_weight, y_ndim, X.dtype)


def _check_array_api_fit_data(X, y, sample_weight, estimator, xp, device):
    """``check_fit_data`` for ``X`` of the array namespace ``xp``."""
    options = dict(
        accept_sparse=False,
        dtype=[xp.float64, xp.float32],
        multi_output=True,
        y_numeric=True,
    )
    y = to_namespace(y, xp, device)
    if estimator is None:
        X, y = check_X_y(X, y, **options)
    else:
        X, y = validate_data(estimator, X, y, **options)
    y_ndim = y.ndim
    y = xp.reshape(xp.astype(y, X.dtype), (y.shape[0], -1))
    if sample_weight is not None:
        sample_weight = to_namespace(sample_weight, xp, device)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
    return FitData(X, y, sample_weight, y_ndim, X.dtype)
