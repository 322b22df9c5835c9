"""Output maps: scaled coefficients to a model, in any array namespace.

A ``Problem`` (``_problem``) solves for scaled coefficients ``c``; its output map
turns them into the model's (``coef_`` or ``dual_coef_``, and the part of
``intercept_`` that depends on them) and builds the map from ``c`` to centred test
predictions. One implementation serves every namespace: ``xp`` is numpy for the
numpy route (the default; numpy's own module, so nothing is wrapped) and the array
namespace of the data otherwise (torch, CuPy, ... under ``array_api_dispatch``),
whose arrays stay on their device. Only the numpy route sees sparse or dask test
rows.
"""

import numpy as np
from scipy import sparse

from ._core._namespaces import HoldsNamespace
from ._dask import is_dask_collection

__all__ = ["FeatureOutput", "KernelOutput", "LinearOutput"]


def _writeable(array):
    """Whether an array may be centred in place (numpy's flag; others: yes)."""
    flags = getattr(array, "flags", None)
    return True if flags is None else bool(flags.writeable)


def _flat(xp, coef):
    """``coef`` (n_params, ...) as a matrix, and how to restore its trailing shape."""
    return xp.reshape(coef, (coef.shape[0], -1)), tuple(coef.shape[1:])


class _InNamespace(HoldsNamespace):
    """``xp``: the namespace given (None, kept as None so that a numpy model
    pickles: modules do not), or numpy."""

    @property
    def xp(self):
        return np if self._xp is None else self._xp


class LinearOutput(_InNamespace):
    """Scaled coefficients to a linear model: ``coef_ = c``, ``b = y_mean - x_mean.c``.

    Parameters
    ----------
    x_mean : array of shape (n_features,)
        Weighted column means (zeros without an intercept).
    xp : namespace, default=None
        The array namespace of ``x_mean`` (None: numpy).
    """

    def __init__(self, x_mean, xp=None):
        self.x_mean = x_mean
        self._xp = None if xp is np else xp

    def coefficients(self, coef):
        """The model's coefficients (``coef_`` layout: n_features first)."""
        return coef

    def intercept_shift(self, coef):
        """The part of the intercept that depends on ``coef`` (``- x_mean . c``)."""
        flat, trailing = _flat(self.xp, coef)
        return self.xp.reshape(-(self.x_mean @ flat), trailing)

    def test_map(self, X, overwrite=False):
        """``c -> (X - x_mean) c``: centred predictions on test rows ``X``.

        With ``overwrite`` a dense float64 numpy ``X`` is centred in place. For a
        numpy ``X`` the map takes ``out=`` (as ``np.matmul``).
        """
        x_mean = self.x_mean
        if sparse.issparse(X):
            return lambda coef: X @ coef - x_mean @ coef
        if not isinstance(X, np.ndarray):  # dask (lazy) or another namespace
            centred = X - x_mean[None, :]
            return lambda coef: centred @ coef
        if overwrite and X.dtype == x_mean.dtype and X.flags.writeable:
            centred = np.subtract(X, x_mean, out=X)
        else:
            centred = X - x_mean
        return lambda coef, out=None: np.matmul(centred, coef, out=out)

    def centred_design(self, X):
        """The dense test matrix of ``test_map`` where it is one, else None."""
        if sparse.issparse(X) or is_dask_collection(X):
            return None
        return X - self.x_mean[None, :]


class KernelOutput(_InNamespace):
    """Scaled coefficients to a kernel model (feature-space centring folded in).

    The scaled coefficients are ``c = D^-1/2 alpha`` on the centred kernel
    ``K_c = (I - 1 w^T) K (I - w 1^T)`` (``w = s / S``); in terms of the raw kernel
    the model is ``f(x) = k(x, X) (alpha - w 1^T alpha) + b``.

    Parameters
    ----------
    sqrt_sw : array of shape (n_samples,) or None
    weights : array of shape (n_samples,)
        ``w = s / S``.
    col_mean : array of shape (n_samples,)
        ``K w`` (zeros without an intercept).
    grand_mean : float
        ``w^T K w``.
    fit_intercept : bool
    xp : namespace, default=None
        The array namespace of the arrays above (None: numpy).
    """

    def __init__(self, sqrt_sw, weights, col_mean, grand_mean, fit_intercept, xp=None):
        self.sqrt_sw = sqrt_sw
        self.weights = weights
        self.col_mean = col_mean
        self.grand_mean = grand_mean
        self.fit_intercept = fit_intercept
        self._xp = None if xp is np else xp

    def _alpha(self, flat):
        return flat if self.sqrt_sw is None else flat * self.sqrt_sw[:, None]

    def coefficients(self, coef):
        """``dual_coef_``: ``alpha - w 1^T alpha``."""
        xp = self.xp
        flat, _ = _flat(xp, coef)
        alpha = self._alpha(flat)
        if self.fit_intercept:
            alpha = alpha - self.weights[:, None] * xp.sum(alpha, axis=0)[None, :]
        return xp.reshape(alpha, tuple(coef.shape))

    def intercept_shift(self, coef):
        """``- col_mean . alpha + grand_mean * sum(alpha)``."""
        xp = self.xp
        flat, trailing = _flat(xp, coef)
        if not self.fit_intercept:
            return xp.reshape(xp.zeros_like(flat[0, :]), trailing)
        alpha = self._alpha(flat)
        shift = self.grand_mean * xp.sum(alpha, axis=0) - self.col_mean @ alpha
        return xp.reshape(shift, trailing)

    def test_map(self, K, overwrite=False):
        """``c -> K_c(x, X) alpha``: centred predictions from the test kernel ``K``
        (centred in place with ``overwrite``; for numpy the map takes ``out=``)."""
        xp = self.xp
        if self.fit_intercept:
            row_mean = K @ self.weights
            if not (overwrite and _writeable(K)):
                K = K - row_mean[:, None]
            else:
                K -= row_mean[:, None]
            K -= self.col_mean[None, :]
            K += self.grand_mean
        if xp is np:
            return lambda coef, out=None: np.matmul(K, self._alpha(coef), out=out)
        return lambda coef: K @ self._alpha(coef)

    def centred_design(self, K):
        return None


class FeatureOutput(_InNamespace):
    """Scaled coefficients to a kernel model known through a finite feature map.

    The problem is the linear one on the features ``phi(x)`` (``LinearOutput``);
    the model is ``f(x) = phi(x) . c + b`` with ``phi(x) = k(x, Z) N``, i.e. the
    kernel model ``k(x, Z) (N c) + b`` on the landmarks ``Z`` (``_nystroem``).

    Parameters
    ----------
    feature_map : NystroemMap
        ``phi`` (``feature_map.features``) and ``N`` (``feature_map.dual``).
    linear : LinearOutput
        The output map of the linear problem on the features.
    """

    def __init__(self, feature_map, linear):
        self.feature_map = feature_map
        self.linear = linear
        self._xp = linear._xp

    def coefficients(self, coef):
        """The dual coefficients on the landmarks, ``N c`` (``dual_coef_``)."""
        return self.feature_map.dual(coef)

    def intercept_shift(self, coef):
        """``- phi_mean . c`` (the weighted mean of the training features)."""
        return self.linear.intercept_shift(coef)

    def test_map(self, X, overwrite=False):
        """``c -> (phi(X) - phi_mean) c`` on test rows ``X`` (a fresh buffer)."""
        return self.linear.test_map(self.feature_map.features(X), overwrite=True)

    def centred_design(self, X):
        return self.linear.centred_design(self.feature_map.features(X))
