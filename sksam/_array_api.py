"""The array namespace of the data: numpy, or torch, CuPy, array-api-strict.

Under ``sklearn.set_config(array_api_dispatch=True)`` an input that is not a numpy
array is computed in its own namespace and on its own device, by the same code as
numpy's (``_core`` takes the namespace as an argument; ``_core._namespaces`` holds
the few adapters). ``array_namespace`` names the namespace of the data (numpy's
module for numpy, sparse, dask-free lists and without dispatch), ``compute_dtype``
the float every fit computes in (float64, or the widest float of the device: a
fit on float32 data computes in float64 and returns float32, in every namespace),
``to_namespace`` brings ``y`` and ``sample_weight`` to the namespace and device of
``X`` (everything follows ``X``, as in scikit-learn), and ``check_supported``
refuses clearly what only numpy does. Built on ``sklearn.utils._array_api``.
"""

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import _is_numpy_namespace, get_namespace_and_device

__all__ = [
    "array_namespace",
    "check_same_namespace",
    "compute_dtype",
    "check_supported",
    "like_input",
    "to_namespace",
    "to_numpy",
]


def array_namespace(*arrays):
    """``(xp, device)`` of the data: numpy's module and ``None`` on the numpy route
    (numpy, sparse or list input, or no ``array_api_dispatch``), else the array
    namespace of the inputs (torch, CuPy, array-api-strict) and their device."""
    arrays = [a for a in arrays if a is not None and not sparse.issparse(a)]
    if not arrays or all(isinstance(a, np.ndarray) for a in arrays):
        return np, None
    xp, is_array_api, device = get_namespace_and_device(*arrays)
    if not is_array_api or _is_numpy_namespace(xp):
        return np, None
    return xp, device


def compute_dtype(xp, device=None):
    """The float a fit computes in: float64, or the widest float of ``device``."""
    if xp is np:
        return np.dtype(np.float64)
    from sklearn.utils._array_api import _max_precision_float_dtype

    return _max_precision_float_dtype(xp, device)


def to_namespace(array, xp, device):
    """``array`` in namespace ``xp`` on ``device`` (moved only if it is not there;
    numpy's module: a numpy array of any array-like on the host)."""
    if array is None:
        return None
    if xp is np:
        return (
            to_numpy(array)
            if hasattr(array, "__array_namespace__")
            else (np.asarray(array))
        )
    if sparse.issparse(array):
        raise TypeError(
            "A sparse matrix cannot be combined with array API inputs: pass a "
            "dense array of the same namespace as X."
        )
    try:
        from sklearn.utils._array_api import move_to
    except ImportError:  # scikit-learn < 1.8
        move_to = None
    if move_to is not None and hasattr(array, "__array_namespace__"):
        return move_to(array, xp=xp, device=device)
    if hasattr(array, "__array_namespace__"):
        other, _, other_device = get_namespace_and_device(array)
        if other is xp and other_device == device:
            return array
        array = to_numpy(array)
    return xp.asarray(np.asarray(array), device=device)


def like_input(array, X):
    """Host ``array`` (a fitted attribute of a search) in the namespace and on the
    device of the training data ``X``, as scikit-learn expects of every fitted array;
    unchanged on the numpy route."""
    xp, device = array_namespace(X)
    if xp is np:
        return array
    if array.dtype.kind == "f":
        array = array.astype(np.float64, copy=False)
        return xp.asarray(array, dtype=compute_dtype(xp, device), device=device)
    return xp.asarray(array, device=device)


def to_numpy(array):
    """A numpy copy of an array of any namespace and device (no dispatch needed)."""
    if isinstance(array, np.ndarray):
        return array
    library = type(array).__module__.split(".")[0]
    if library == "torch":
        return array.detach().cpu().numpy()
    if library == "cupy":
        return array.get()
    if library == "array_api_strict":
        import array_api_strict

        return np.asarray(array.to_device(array_api_strict.Device("CPU_DEVICE")))
    return np.asarray(array)


def check_supported(*, batch_size=None, solver=None, early_stopping=False):
    """Refuse what the array API route does not support, with the reason."""
    if batch_size is not None:
        raise ValueError(
            "batch_size (stochastic SAM) is not supported with array API inputs "
            "(array_api_dispatch=True): it draws mini-batches with numpy. Pass "
            "numpy arrays, or use batch_size=None."
        )
    if early_stopping:
        raise ValueError(
            "early_stopping=True is not supported with array API inputs "
            "(array_api_dispatch=True). Choose n_iter with SAMRegressorCV on numpy "
            "arrays, or pass numpy arrays."
        )


def check_same_namespace(X, estimator, attribute, method):
    """``predict`` on the namespace and device of ``fit`` (scikit-learn's check)."""
    if not hasattr(estimator, attribute):  # a search's scoring shell, not fitted
        return
    try:
        from sklearn.utils._array_api import check_same_namespace as check
    except ImportError:  # scikit-learn < 1.9
        check = None
    if check is not None:
        check(X, estimator, attribute=attribute, method=method)
        return
    fitted, _ = array_namespace(getattr(estimator, attribute))
    given, _ = array_namespace(X)
    if fitted.__name__ != given.__name__:
        raise ValueError(
            f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
            "same namespace and the same device as those passed to fit()."
        )
