"""Weighted, centred least-squares problems as linear operators (pure numpy/scipy).

Both estimators reduce to one *scaled* problem: with ``D = diag(s)``, ``S = sum(s)``,

    minimise  ||A c - y_s||^2 / (2 S),     y_s = D^1/2 (y - y_mean),

where ``A`` is ``X_s = D^1/2 (X - 1 x_mean^T)`` for the linear model (``c`` = the weights
``w``) and ``K_s = D^1/2 K_c D^1/2`` for the kernel model (``c = D^-1/2 alpha``, and the
gradient is taken in the RKHS metric, so it is ``(K_s c - y_s) / S`` itself). The SAM
iterations on the scaled problem are exactly those of DESIGN.md on the original one.
"""

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, eigsh

from ._spectral import decompose_dual, decompose_primal

__all__ = ["ScaledDesign", "ScaledKernel"]

# Rough costs in nanoseconds on a 2-core machine (measured with OpenBLAS): a dense
# matrix-vector product per entry, a Gram product per multiply-add, an ``eigh`` per m^3.
_NS_GEMV = 0.25
_NS_GEMM = 0.015
_NS_EIGH = 0.25
_LANCZOS_PRODUCTS = 60


def _top_eigenvalue(matvec, dim, dtype=float):
    """Largest eigenvalue of a PSD operator (Lanczos, to machine precision)."""
    if dim == 1:
        return float(matvec(np.ones(1))[0])
    if dim <= 64:
        dense = np.column_stack([matvec(col) for col in np.eye(dim)])
        return float(np.linalg.eigvalsh((dense + dense.T) / 2)[-1])
    op = LinearOperator((dim, dim), matvec=matvec, dtype=dtype)
    v0 = np.ones(dim) / np.sqrt(dim)
    return float(eigsh(op, k=1, which="LA", tol=0, v0=v0, return_eigenvectors=False)[0])


class ScaledDesign:
    """``X_s = D^1/2 (X - 1 x_mean^T)``; centring is implicit for sparse ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    sqrt_sw : ndarray of shape (n_samples,) or None (unit weights)
    x_mean : ndarray of shape (n_features,) or None (no centring)
    sum_weights : float
    """

    rkhs = False

    def __init__(self, X, sqrt_sw, x_mean, sum_weights):
        self.sum_weights = sum_weights
        self.n_samples, self.n_params = X.shape
        self.sqrt_sw = sqrt_sw
        self.is_sparse = sparse.issparse(X)
        if self.is_sparse:
            self.X = sparse.csr_matrix(X, dtype=np.float64)
            self.x_mean = np.zeros(X.shape[1]) if x_mean is None else x_mean
        else:
            Xs = np.asarray(X, dtype=np.float64)
            if x_mean is not None:
                Xs = Xs - x_mean  # the one private copy, scaled in place below
                if sqrt_sw is not None:
                    Xs *= sqrt_sw[:, None]
            elif sqrt_sw is not None:
                Xs = Xs * sqrt_sw[:, None]
            self.X = Xs
            self.x_mean = None

    def apply(self, coef):
        """``X_s @ coef`` for coef of shape (n_features, t)."""
        if not self.is_sparse:
            return self.X @ coef
        out = self.X @ coef - self.x_mean @ coef
        return out if self.sqrt_sw is None else out * self.sqrt_sw[:, None]

    def adjoint(self, resid):
        """``X_s^T @ resid`` for resid of shape (n_samples, t)."""
        if not self.is_sparse:
            return self.X.T @ resid
        if self.sqrt_sw is not None:
            resid = resid * self.sqrt_sw[:, None]
        return self.X.T @ resid - np.outer(self.x_mean, resid.sum(axis=0))

    def factor(self, y_scaled):
        """One eigendecomposition of the smaller Gram matrix (d x d or n x n)."""
        S = self.sum_weights
        if self.n_samples >= self.n_params:
            return decompose_primal(self._gram_primal() / S, self.adjoint(y_scaled) / S)
        return decompose_dual(self._gram_dual() / S, y_scaled, S, self.adjoint)

    def _gram_primal(self):
        if not self.is_sparse:
            return self.X.T @ self.X
        Xw = self.X if self.sqrt_sw is None else self.X.multiply(self.sqrt_sw[:, None])
        Xw = sparse.csr_matrix(Xw)
        gram = np.asarray((Xw.T @ Xw).todense())
        col_sum = np.asarray(Xw.T @ self._sqrt_weights()).ravel()
        m = self.x_mean
        return gram - np.outer(col_sum, m) - np.outer(m, col_sum) + self.sum_weights * (
            np.outer(m, m)
        )

    def _gram_dual(self):
        if not self.is_sparse:
            return self.X @ self.X.T
        return self.apply(self.adjoint(np.eye(self.n_samples)))

    def _sqrt_weights(self):
        if self.sqrt_sw is None:
            return np.ones(self.n_samples)
        return self.sqrt_sw

    def top_eigenvalue(self):
        """Largest eigenvalue of ``X_s^T X_s / S`` by Lanczos on the smaller side."""
        S = self.sum_weights
        if self.n_params <= self.n_samples:
            return _top_eigenvalue(
                lambda v: self.adjoint(self.apply(v[:, None]))[:, 0] / S, self.n_params
            )
        return _top_eigenvalue(
            lambda v: self.apply(self.adjoint(v[:, None]))[:, 0] / S, self.n_samples
        )

    def product_cost(self, n_targets=1):
        """Estimated nanoseconds of one ``apply`` (or ``adjoint``)."""
        if self.is_sparse:
            return _NS_GEMV * 2 * (self.X.nnz + self.n_samples) * n_targets
        return _NS_GEMV * self.n_samples * self.n_params * n_targets

    def spectral_cost(self):
        """Estimated nanoseconds of the Gram matrix and its eigendecomposition."""
        small, large = sorted((self.n_samples, self.n_params))
        gram = _NS_GEMM * large * small**2
        if self.is_sparse:
            gram = _NS_GEMV * self.X.nnz * small
        return gram + _NS_EIGH * small**3


class ScaledKernel:
    """``K_s = D^1/2 K_c D^1/2`` for a (centred) kernel matrix ``K_c``."""

    rkhs = True

    def __init__(self, kernel_centered, sqrt_sw, sum_weights):
        self.sum_weights = sum_weights
        self.sqrt_sw = sqrt_sw
        K = kernel_centered
        if sqrt_sw is not None:
            K = K * np.outer(sqrt_sw, sqrt_sw)
        self.K = K
        self.n_samples = self.n_params = K.shape[0]

    def apply(self, coef):
        return self.K @ coef

    def adjoint(self, resid):
        # The RKHS gradient of the scaled problem is the residual itself (DESIGN.md:
        # alpha <- alpha - eta (...) diag(s) (K alpha - y) / S).
        return resid

    def factor(self, y_scaled):
        S = self.sum_weights
        return decompose_dual(self.K / S, y_scaled, S, lambda vecs: vecs)

    def top_eigenvalue(self):
        S = self.sum_weights
        return _top_eigenvalue(lambda v: self.K @ v / S, self.n_samples)

    def product_cost(self, n_targets=1):
        return _NS_GEMV * self.n_samples**2 * n_targets

    def spectral_cost(self):
        return _NS_EIGH * self.n_samples**3

