"""Validation of the training data, shared by the estimators and the paths."""

from typing import NamedTuple

from sklearn.utils.validation import _check_sample_weight, check_X_y, validate_data

from ._array_api import array_namespace, compute_dtype, to_namespace
from ._array_api import check_supported as check_array_api_supported
from ._core._namespaces import astype, is_numpy
from ._dask import check_supported, is_dask_collection, validate_dask_fit_data

__all__ = ["FitData", "check_fit_data"]


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
    return FitData(X, y, sample_weight, y_ndim, X.dtype)
