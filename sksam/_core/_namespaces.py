"""Array namespaces for the numerical core: numpy is one namespace among others.

Every function of ``_core`` takes the arrays of one namespace ``xp`` (numpy's own
module for numpy arrays; torch, CuPy or array-api-strict under scikit-learn's
``array_api_dispatch``) and computes there, on the arrays' device. The core is
written in the vocabulary that numpy (from 1.23) and the array API standard share;
what one of them lacks or spells differently has one small adapter here, and
nowhere else:

- creation on a device (``zeros_like_shape``, ``full``, ``asarray_like``) and dtype
  casts (``astype``): numpy < 2 has no ``device=`` and no ``np.astype``;
- the symmetric eigensolver (``symmetric_eigh``, ``largest_eigenvalue``): numpy goes
  through LAPACK's ``syevd`` (numpy's up to ``NUMPY_LAPACK_MAX_SIZE``, scipy's in
  place above), other namespaces through their ``linalg.eigh``;
- power-of-two scaling (``frexp_exponent``, ``ldexp``): not in the standard;
- a few numbers to the host (``to_floats``); joining arrays (``concat``: numpy < 2
  spells it ``concatenate``);
- ``HoldsNamespace``: objects holding a namespace (a module) pickle it by name.

Pure: imports nothing from scikit-learn.
"""

import importlib
import math
import types

import numpy as np
from scipy import linalg

__all__ = [
    "HoldsNamespace",
    "NUMPY_LAPACK_MAX_SIZE",
    "concat",
    "copy_of",
    "bool_array",
    "index_array",
    "permute_dims",
    "asarray_like",
    "astype",
    "device_of",
    "eps_of",
    "frexp_exponent",
    "full",
    "is_numpy",
    "largest_eigenvalue",
    "ldexp",
    "namespace_of_array",
    "symmetric_eigh",
    "to_floats",
    "zeros",
]


def is_numpy(xp):
    """Whether ``xp`` is numpy (the module itself)."""
    return xp is np


def namespace_of_array(array):
    """The namespace of a core array: numpy for numpy arrays, else its own.

    The core is handed its namespace by the layer above (``_array_api``); this is
    for the few functions that see a lone array (the checks of ``_stability``).
    """
    if isinstance(array, (np.ndarray, np.generic, float, int)):
        return np
    try:
        return array.__array_namespace__()
    except AttributeError:
        return np


def device_of(array):
    """The device of an array (``None`` for numpy, which has one)."""
    if isinstance(array, np.ndarray):
        return None
    return array.device


def _creation(xp, like):
    """Keyword arguments creating arrays of ``like``'s dtype on its device."""
    if is_numpy(xp):
        return {"dtype": like.dtype}
    return {"dtype": like.dtype, "device": like.device}


def zeros(xp, shape, like):
    """Zeros of ``like``'s dtype and device."""
    return xp.zeros(shape, **_creation(xp, like))


def full(xp, shape, value, like):
    """An array filled with ``value``, of ``like``'s dtype and device."""
    return xp.full(shape, value, **_creation(xp, like))


def asarray_like(xp, values, like):
    """Host values (a list or numpy array) as an array of ``like``'s dtype and
    device; a 0-d array for a scalar (``where`` needs arrays)."""
    if is_numpy(xp):
        return np.asarray(values, dtype=like.dtype)
    return xp.asarray(values, dtype=like.dtype, device=like.device)


def bool_array(xp, values, like):
    """Host booleans ``values`` as a boolean array on ``like``'s device."""
    if is_numpy(xp):
        return np.asarray(values, dtype=bool)
    return xp.asarray(values, dtype=xp.bool, device=like.device)


def index_array(xp, values, like):
    """Host integers ``values`` as an int64 index array on ``like``'s device."""
    if is_numpy(xp):
        return np.asarray(values, dtype=np.int64)
    return xp.asarray(values, dtype=xp.int64, device=like.device)


def concat(xp, arrays, axis=0):
    """``arrays`` joined along ``axis`` (``np.concatenate`` on numpy < 2)."""
    if is_numpy(xp):
        return np.concatenate(arrays, axis=axis)
    return xp.concat(arrays, axis=axis)


def copy_of(xp, array):
    """A copy of ``array`` (``asarray`` has no ``copy`` on numpy < 2)."""
    if is_numpy(xp):
        return np.array(array, copy=True)
    return xp.asarray(array, copy=True)


def permute_dims(xp, array, axes):
    """``array`` with its axes permuted (``np.transpose`` on numpy < 2)."""
    if is_numpy(xp):
        return np.transpose(array, axes)
    return xp.permute_dims(array, axes)


def astype(xp, array, dtype):
    """``array`` in ``dtype`` (no copy when it already is)."""
    if is_numpy(xp):
        return array.astype(dtype, copy=False)
    if array.dtype == dtype:
        return array
    return xp.astype(array, dtype)


def eps_of(xp, dtype):
    """Machine epsilon of a float dtype of ``xp``."""
    return float(xp.finfo(dtype).eps)


def to_floats(xp, array):
    """The values of a small 1-D array as Python floats (on the host)."""
    if is_numpy(xp):
        return array.tolist()
    return [float(v) for v in xp.reshape(array, (-1,))]


# pip wheels of numpy and scipy each ship an OpenBLAS with its own thread pool. A
# scipy LAPACK call right after numpy's BLAS products (forming the Gram) waits for
# numpy's threads, which keep spinning after each call: on 2 cores one 100 x 100 eigh
# took 5-8 ms instead of 0.9-1.3 ms. Matrices up to this size go through numpy's LAPACK
# (the pool of the products; still 1.4-1.5x faster at 1000 x 1000); larger ones through
# scipy's in-place divide and conquer, which needs no copy of the Gram and is as fast
# or faster there (benchmarks/bench_eigh.py and its section of benchmarks/README.md).
NUMPY_LAPACK_MAX_SIZE = 2000


def symmetric_eigh(xp, gram):
    """Ascending eigenvalues and eigenvectors of a symmetric matrix (may overwrite
    ``gram``)."""
    if not is_numpy(xp):
        return xp.linalg.eigh(gram)
    if gram.shape[0] <= NUMPY_LAPACK_MAX_SIZE:
        return np.linalg.eigh(gram)
    return linalg.eigh(gram, driver="evd", overwrite_a=True, check_finite=False)


def largest_eigenvalue(xp, gram):
    """The largest eigenvalue of a symmetric matrix (may overwrite ``gram``); 0.0
    for an empty one."""
    if gram.shape[0] == 0:
        return 0.0
    if not is_numpy(xp):
        return float(xp.linalg.eigvalsh(gram)[-1])
    if gram.shape[0] <= NUMPY_LAPACK_MAX_SIZE:
        return float(np.linalg.eigvalsh(gram)[-1])
    top = linalg.eigh(
        gram,
        eigvals_only=True,
        subset_by_index=[gram.shape[0] - 1] * 2,
        driver="evr",
        overwrite_a=True,
        check_finite=False,
    )
    return float(top[0])


def frexp_exponent(xp, array):
    """The exponents ``e`` of ``array = f 2^e``, ``0.5 <= |f| < 1`` (0 for 0, inf
    and nan), as an integer array."""
    if is_numpy(xp):
        return np.frexp(array)[1]
    if hasattr(xp, "frexp"):
        return xp.frexp(array)[1]
    magnitude = xp.abs(array)
    regular = xp.isfinite(magnitude) & (magnitude > 0)
    safe = xp.where(regular, magnitude, xp.ones_like(magnitude))
    exponent = xp.floor(xp.log2(safe)) + 1.0
    # log2 may round up just below a power of two: f must stay below 1.
    exponent = xp.where(ldexp(xp, safe, -exponent) >= 1.0, exponent + 1.0, exponent)
    return xp.astype(xp.where(regular, exponent, xp.zeros_like(exponent)), xp.int64)


def ldexp(xp, array, exponent):
    """``array * 2^exponent``, exact (two power-of-two factors, each representable,
    when the namespace has no ``ldexp``)."""
    if is_numpy(xp):
        return np.ldexp(array, exponent)
    if hasattr(xp, "ldexp"):
        return xp.ldexp(array, exponent)
    exponent = xp.astype(xp.asarray(exponent, device=array.device), array.dtype)
    half = xp.floor(exponent / 2.0)
    two = xp.asarray(2.0, dtype=array.dtype, device=array.device)
    return array * xp.pow(two, half) * xp.pow(two, exponent - half)


def power_of_two_above(value):
    """The power of two just above ``|value|`` (``2^e`` of ``math.frexp``)."""
    return math.ldexp(1.0, math.frexp(value)[1])


class _ModuleName(str):
    """The name of a module attribute in a pickled state."""


class HoldsNamespace:
    """Mixin: module-valued attributes are pickled by name.

    An array namespace (``numpy``, ``array_api_strict``, ``array_api_compat.torch``)
    is a module, and modules do not pickle. A fitted model keeps its decomposition
    and operators (for ``staged_predict``), which hold the namespace of their
    arrays; those classes pickle it as its module name and import it again on
    loading.
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        for name, value in state.items():
            if isinstance(value, types.ModuleType):
                state[name] = _ModuleName(value.__name__)
        return state

    def __setstate__(self, state):
        for name, value in state.items():
            if isinstance(value, _ModuleName):
                state[name] = importlib.import_module(value)
        self.__dict__.update(state)
