"""Weighted, centred least-squares problems as linear operators (pure numpy/scipy).

Both estimators reduce to one *scaled* problem: with ``D = diag(s)``, ``S = sum(s)``,

    minimise  ||A c - y_s||^2 / (2 S),     y_s = D^1/2 (y - y_mean),

where ``A`` is ``X_s = D^1/2 (X - 1 x_mean^T)`` for the linear model (``c`` = the
weights ``w``) and ``K_s = D^1/2 K_c D^1/2`` for the kernel model (``c = D^-1/2 alpha``,
and the gradient is taken in the RKHS metric, so it is ``(K_s c - y_s) / S`` itself).
The SAM iterations on the scaled problem are exactly those of the user guide's update
rules on the
original one.

Dense operators hold arrays of any namespace ``xp`` (numpy, torch, ...) and compute
there; sparse ``X``, mini-batch rows, BLAS ``dsymv`` and Lanczos are numpy's own.
"""

from abc import ABC, abstractmethod

import numpy as np
from scipy import sparse
from scipy.linalg import blas
from scipy.sparse.linalg import LinearOperator, eigsh

from ._costs import COSTS
from ._namespaces import HoldsNamespace, is_numpy, largest_eigenvalue
from ._spectral import decompose_dual, decompose_primal

__all__ = ["GramDesign", "KernelRows", "ScaledDesign", "ScaledKernel", "ScaledOperator"]

# Lanczos stops when the Ritz residual is below tol * lam_max; the eigenvalue error is
# then below tol * lam_max and below residual^2 / gap, far below what the learning rate
# needs (solvers agree to 1e-8), at about 20% fewer products than tol=0.
_LANCZOS_TOL = 1e-10


class RowOperator(ABC):
    """The products one SAM step needs: ``A c``, ``A^T r`` and the gradient's image.

    ``A`` is the scaled operator of the problem (or a batch of its rows); a step of
    the explicit loops (``_iterative``) uses nothing else.
    """

    #: Whether gradients live in the RKHS metric (the kernel model): the gradient is
    #: then the residual itself, supported on the batch rows, and its norm is
    #: ``sqrt(g^T K g)`` (the loops' normalized perturbation). Declared by each
    #: concrete operator.
    rkhs: bool
    #: The array namespace of the operator's arrays.
    xp = np
    #: Zero-argument callable giving, per target, the gradient norm at or below
    #: which a gradient is rounding (``_problem.Problem.gradient_floor``), or None.
    #: Set by the problem that owns the operator; a normalized step treats such a
    #: gradient as zero.
    gradient_floor = None

    @abstractmethod
    def apply(self, coef):
        """``A @ coef`` for coef of shape (n_params, t): scaled fitted values."""

    @abstractmethod
    def adjoint(self, resid):
        """The gradient direction of scaled residuals (``A^T resid`` for a design)."""

    def apply_gradient(self, grad):
        """Image ``A @ grad`` of a gradient direction."""
        return self.apply(grad)

    def take_step(self, coef, rows, descent):
        """``coef -= descent`` in place; ``rows`` are the batch's (None: all)."""
        coef -= descent


class ScaledOperator(HoldsNamespace, RowOperator):
    """A whole scaled problem ``min ||A c - y_s||^2 / (2 S)``.

    Attributes ``n_samples``, ``n_params`` and ``sum_weights`` (``S``) describe it;
    the methods give the products of the loops, the row batches of stochastic SAM,
    the one eigendecomposition of the spectral route, the top eigenvalue of the
    learning rate, and the cost estimates of ``solver="auto"`` (``_costs``).
    """

    n_samples: int
    n_params: int
    sum_weights: float
    #: Products with the operator that one gradient takes (``A`` then ``A^T``: 2).
    products_per_gradient: int = 2
    #: Whether ``apply``/``adjoint`` exist (the loops); a Gram-only problem has none.
    has_products: bool = True

    @abstractmethod
    def factor(self, y_scaled):
        """The ``SpectralFactor`` of the problem: its one eigendecomposition."""

    @abstractmethod
    def top_eigenvalue(self):
        """Largest eigenvalue of ``A^T A / S`` (the learning rate's ``lam_max``)."""

    @abstractmethod
    def max_abs(self):
        """The largest magnitude in the operator's data (the scale check of
        ``_stability.check_eigenvalue_range``)."""

    def rows(self, batch):
        """The rows ``A[batch]`` (one stochastic SAM batch), as a ``RowOperator``."""
        raise NotImplementedError(
            f"{type(self).__name__} has no rows to draw mini-batches from."
        )

    def product_cost(self, n_targets=1):
        """Estimated nanoseconds of one ``apply`` (or ``adjoint``)."""
        raise NotImplementedError

    def top_eigenvalue_cost(self):
        """Estimated nanoseconds of ``top_eigenvalue``."""
        return COSTS.lanczos_pairs * 2 * self.product_cost()

    def spectral_cost(self):
        """Estimated nanoseconds of ``factor``."""
        raise NotImplementedError


def _top_eigenvalue(matvec, dim, dtype=float, tol=0):
    """Largest eigenvalue of a PSD operator (Lanczos, to machine precision)."""
    if dim == 1:
        return float(matvec(np.ones(1))[0])
    if dim <= 64:
        dense = np.column_stack([matvec(col) for col in np.eye(dim)])
        return float(np.linalg.eigvalsh((dense + dense.T) / 2)[-1])
    op = LinearOperator((dim, dim), matvec=matvec, dtype=dtype)
    v0 = np.ones(dim) / np.sqrt(dim)
    return float(
        eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0]
    )


def _faster_sparse_form(csr, csr_of_transpose):
    """The faster of ``csr`` and its CSC view ``csr_of_transpose.T`` for ``@ v``.

    By the cost model: many short rows favour the CSC view.
    """
    return min(csr, csr_of_transpose.T, key=_sparse_product_cost)


def _sparse_product_cost(matrix):
    """Estimated nanoseconds of ``matrix @ v`` for a CSR or CSC matrix."""
    if matrix.format == "csr":
        return COSTS.sparse_segment * matrix.shape[0] + COSTS.sparse_gather * matrix.nnz
    return COSTS.sparse_segment * matrix.shape[1] + COSTS.sparse_scatter * matrix.nnz


class ScaledDesign(ScaledOperator):
    """``X_s = D^1/2 (X - 1 x_mean^T)``; centring is implicit for sparse ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    sqrt_sw : ndarray of shape (n_samples,) or None (unit weights)
    x_mean : ndarray of shape (n_features,) or None (no centring)
    sum_weights : float
    overwrite_X : bool, default=False
        A dense ``X`` of the compute dtype is the operator's private buffer:
        centred and scaled in place instead of in a copy.
    xp : namespace, default=numpy
        The namespace of a dense ``X`` (sparse ``X`` is numpy's).
    dtype : dtype, default=float64
        The compute dtype (that of ``sqrt_sw`` and ``x_mean``).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> from sksam._core._operators import ScaledDesign
    >>> X = np.array([[1.0, 0.0], [3.0, 2.0]])
    >>> op = ScaledDesign(sparse.csr_matrix(X), None, X.mean(axis=0), 2.0)
    >>> op.apply(np.array([[1.0], [1.0]])).ravel().tolist()  # (X - mean) @ [1, 1]
    [-2.0, 2.0]
    >>> round(op.top_eigenvalue(), 12)  # of (X - mean)^T (X - mean) / 2
    2.0
    """

    rkhs = False

    def __init__(
        self, X, sqrt_sw, x_mean, sum_weights, overwrite_X=False, xp=np, dtype=None
    ):
        self.xp = xp
        self.sum_weights = sum_weights
        self.n_samples, self.n_params = X.shape
        self.sqrt_sw = sqrt_sw
        self.is_sparse = sparse.issparse(X)
        if self.is_sparse:
            # A private copy: a fitted model may keep the operator (the loop's
            # replay, a mapped basis), and must not see later changes to X.
            self.X = sparse.csr_matrix(X, dtype=np.float64, copy=True)
            self.x_mean = np.zeros(X.shape[1]) if x_mean is None else x_mean
            # X^T as CSR too (one pass over X, kept): each product then uses the CSR
            # or the CSC form, whichever is faster (up to 4x apart).
            self._transposed = self.X.T.tocsr()
            self._products = (
                self.X,
                _faster_sparse_form(self.X, self._transposed),
                _faster_sparse_form(self._transposed, self.X),
            )
        else:
            # The one private copy in the compute dtype (or X itself, if it is
            # given as the buffer), scaled in place below: a fitted model may keep
            # the operator, and must not see later changes to X.
            dtype = np.float64 if dtype is None else dtype
            if x_mean is not None and X.dtype == dtype and not overwrite_X:
                Xs = X - x_mean[None, :]  # one pass: the copy is the centring
            else:
                if overwrite_X and X.dtype == dtype and _writeable(X):
                    Xs = X
                elif is_numpy(xp):
                    Xs = np.array(X, dtype=dtype)
                else:
                    Xs = xp.astype(X, dtype, copy=True)
                if x_mean is not None:
                    Xs -= x_mean[None, :]
            if sqrt_sw is not None:
                Xs *= sqrt_sw[:, None]
            self.X = Xs
            self.x_mean = None

    def apply(self, coef):
        """``X_s @ coef`` for coef of shape (n_features, t)."""
        if not self.is_sparse:
            return self.X @ coef
        source, matrix, _ = self._products
        out = (matrix if source is self.X else self.X) @ coef
        out -= self.x_mean @ coef
        if self.sqrt_sw is not None:
            out *= self.sqrt_sw[:, None]
        return out

    def adjoint(self, resid):
        """``X_s^T @ resid`` for resid of shape (n_samples, t)."""
        if not self.is_sparse:
            return self.X.T @ resid
        if self.sqrt_sw is not None:
            resid = resid * self.sqrt_sw[:, None]
        source, _, matrix = self._products
        if source is not self.X:  # a row subset (see ``rows``)
            matrix = self.X.T
        out = matrix @ resid
        out -= np.outer(self.x_mean, resid.sum(axis=0))
        return out

    def rows(self, batch):
        """The rows ``X_s[batch]``, as a ``ScaledDesign`` (a stochastic SAM batch).

        Centring and weights stay the full data's, so a batch is a row subset of
        ``X_s`` (sparse: CSR rows, centring still implicit). ``sum_weights`` is left
        unset: the batch loss is normalised by the batch's own weight sum.
        """
        sub = object.__new__(ScaledDesign)
        sub.__dict__.update(self.__dict__)
        sub.X = self.X[batch] if self.is_sparse else self.X.take(batch, axis=0)
        sub.n_samples = len(batch)
        sub.sqrt_sw = None if self.sqrt_sw is None else self.sqrt_sw[batch]
        sub.sum_weights = None
        return sub

    def factor(self, y_scaled):
        """One eigendecomposition of the smaller Gram matrix (d x d or n x n)."""
        S, xp = self.sum_weights, self.xp
        if self.n_samples >= self.n_params:
            gram, xty = self._gram_primal(), self.adjoint(y_scaled)
            gram /= S
            xty /= S
            return decompose_primal(gram, xty, xp)
        gram = self._gram_dual()
        gram /= S
        return decompose_dual(gram, y_scaled, S, self.adjoint, xp=xp)

    def _gram_primal(self):
        if not self.is_sparse:
            return self.X.T @ self.X
        # (X - 1 m^T)^T D (X - 1 m^T) from the sparse X^T D X
        if self.sqrt_sw is None:
            Xw, XwT = self.X, self._transposed
        else:
            Xw = sparse.csr_matrix(self.X.multiply(self.sqrt_sw[:, None]))
            XwT = Xw.T.tocsr()
        gram = (XwT @ Xw).toarray()
        col_sum = XwT @ self._sqrt_weights()
        m = self.x_mean
        gram -= np.outer(col_sum, m)
        gram -= np.outer(m, col_sum)
        gram += self.sum_weights * np.outer(m, m)
        return gram

    def _gram_dual(self):
        if not self.is_sparse:
            return self.X @ self.X.T
        # D^1/2 (X - 1 m^T)(X - 1 m^T)^T D^1/2 from the sparse X X^T
        Xw = self.X if self.sqrt_sw is None else self.X.multiply(self.sqrt_sw[:, None])
        Xw = sparse.csr_matrix(Xw)
        gram = (Xw @ self._transposed).toarray()
        if self.sqrt_sw is not None:
            gram *= self.sqrt_sw[None, :]
        sqrt_w = self._sqrt_weights()
        shift = np.asarray(Xw @ self.x_mean).ravel()
        gram -= np.outer(shift, sqrt_w)
        gram -= np.outer(sqrt_w, shift)
        gram += (self.x_mean @ self.x_mean) * np.outer(sqrt_w, sqrt_w)
        return gram

    def _sqrt_weights(self):
        if self.sqrt_sw is None:
            return np.ones(self.n_samples)
        return self.sqrt_sw

    def max_abs(self):
        """The largest magnitude in ``X`` (the raw entries for sparse ``X``)."""
        if self.is_sparse:
            values = self.X.data
            return float(np.max(np.abs(values))) if values.size else 0.0
        return _max_abs(self.xp, self.X)

    def top_eigenvalue(self):
        """Largest eigenvalue of ``X_s^T X_s / S`` (the same as of ``X_s X_s^T / S``).

        Lanczos on the smaller side, or the eigenvalues of the smaller Gram matrix
        when forming it is cheaper (``n >> d``: one BLAS-3 pass beats ~70 products).
        """
        S = self.sum_weights
        primal = self.n_params <= self.n_samples
        # Lanczos (scipy's) is numpy's; other namespaces form the smaller Gram.
        if not is_numpy(self.xp) or self._gram_eigvalsh_cost() < self._lanczos_cost():
            gram = self._gram_primal() if primal else self._gram_dual()
            return max(largest_eigenvalue(self.xp, gram), 0.0) / S
        if primal:
            return _top_eigenvalue(
                lambda v: self.adjoint(self.apply(v[:, None]))[:, 0] / S,
                self.n_params,
                tol=_LANCZOS_TOL,
            )
        return _top_eigenvalue(
            lambda v: self.apply(self.adjoint(v[:, None]))[:, 0] / S,
            self.n_samples,
            tol=_LANCZOS_TOL,
        )

    def product_cost(self, n_targets=1):
        """Estimated nanoseconds of one ``apply`` (or ``adjoint``)."""
        if self.is_sparse:
            _, to_fitted, to_gradient = self._products
            matvecs = sum(map(_sparse_product_cost, (to_fitted, to_gradient)))
            vectors = COSTS.vector * (self.n_samples + self.n_params)
            return COSTS.product_call + (matvecs / 2 + vectors) * n_targets
        entries = self.n_samples * self.n_params
        return COSTS.product_call + COSTS.gemv * entries * n_targets

    def top_eigenvalue_cost(self):
        """Estimated nanoseconds of ``top_eigenvalue``."""
        return min(self._gram_eigvalsh_cost(), self._lanczos_cost())

    def spectral_cost(self):
        """Estimated nanoseconds of ``factor``: the Gram matrix and its ``eigh``."""
        eigh = COSTS.eigh * self._small_side() ** 3
        return COSTS.decomposition_call + self._gram_cost() + eigh

    def _small_side(self):
        return min(self.n_samples, self.n_params)

    def _lanczos_cost(self):
        return COSTS.lanczos_pairs * 2 * self.product_cost()

    def _gram_eigvalsh_cost(self):
        eigvalsh = COSTS.eigvalsh * self._small_side() ** 3
        return COSTS.decomposition_call + self._gram_cost() + eigvalsh

    def _gram_cost(self):
        small = self._small_side()
        if not self.is_sparse:
            return COSTS.syrk * max(self.n_samples, self.n_params) * small**2
        # Sparse X^T X: one multiply-add per pair of stored entries in a row (per
        # column for X X^T), then the dense result.
        if self.n_samples >= self.n_params:
            counts = np.diff(self.X.indptr)
        else:
            counts = np.diff(self._transposed.indptr)
        pairs = float(np.dot(counts, counts))
        return COSTS.spgemm * pairs + COSTS.densify * small**2


class ScaledKernel(ScaledOperator):
    """``K_s = D^1/2 K_c D^1/2`` for a (centred) kernel matrix ``K_c``.

    Parameters
    ----------
    kernel_centered : array of shape (n_samples, n_samples)
        The (centred) kernel matrix; a private buffer, scaled in place when weighted.
    sqrt_sw : array of shape (n_samples,) or None (unit weights)
    sum_weights : float
    xp : namespace, default=numpy

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledKernel
    >>> op = ScaledKernel(np.array([[2.0, 1.0], [1.0, 2.0]]), None, 2.0)
    >>> op.top_eigenvalue()  # largest eigenvalue of K_s / S
    1.5
    """

    rkhs = True

    def __init__(self, kernel_centered, sqrt_sw, sum_weights, xp=np):
        self.xp = xp
        self.sum_weights = sum_weights
        self.sqrt_sw = sqrt_sw
        K = kernel_centered
        if sqrt_sw is not None:
            K *= sqrt_sw[:, None]
            K *= sqrt_sw[None, :]
        self.K = K
        self.n_samples = self.n_params = K.shape[0]
        # K is symmetric, so its transpose is a Fortran-ordered view of it that BLAS
        # ``dsymv`` takes without a copy; it reads one triangle: half the memory
        # traffic of a general product, which is what a kernel product costs.
        self._K_fortran = None
        if is_numpy(xp) and K.dtype == np.float64:
            self._K_fortran = K.T if K.flags.c_contiguous else np.asfortranarray(K)

    def max_abs(self):
        """The largest magnitude in ``K_s``."""
        return _max_abs(self.xp, self.K)

    def _product(self, vector):
        if self._K_fortran is None:
            return self.K @ vector
        return blas.dsymv(1.0, self._K_fortran, vector)

    def apply(self, coef):
        """``K_s @ coef`` for coef of shape (n_samples, t)."""
        if coef.shape[1] == 1 and self._K_fortran is not None:
            return self._product(coef[:, 0])[:, None]
        return self.K @ coef

    def adjoint(self, resid):
        # The RKHS gradient of the scaled problem is the residual itself: in dual
        # coefficients alpha <- alpha - eta (...) diag(s) (K alpha - y) / S.
        return resid

    def rows(self, batch):
        """The rows ``K_s[batch, :]`` (a stochastic SAM batch; see ``KernelRows``)."""
        return KernelRows(self.K, batch)

    def factor(self, y_scaled):
        """One eigendecomposition of ``K_s / S``, its numerical null space included.

        Unlike a design's, the kernel's null space is kept: the dual iterate grows
        there and test points see it (see ``_spectral._truncated_eigh``).
        """
        S = self.sum_weights
        return decompose_dual(self.K / S, y_scaled, S, keep_null_space=True, xp=self.xp)

    def top_eigenvalue(self):
        """Largest eigenvalue of ``K_s / S`` (Lanczos for numpy)."""
        S = self.sum_weights
        if not is_numpy(self.xp):
            return largest_eigenvalue(self.xp, self.K) / S
        return _top_eigenvalue(
            lambda v: self._product(v) / S, self.n_samples, tol=_LANCZOS_TOL
        )

    def top_eigenvalue_cost(self):
        """Estimated nanoseconds of ``top_eigenvalue``."""
        return COSTS.kernel_lanczos_products * self.product_cost()

    def product_cost(self, n_targets=1):
        """Estimated nanoseconds of one product ``K_s @ coef`` in the loop."""
        entries = self.n_samples**2 * n_targets
        return COSTS.kernel_product_entry * entries + COSTS.kernel_product_call

    def spectral_cost(self):
        """Estimated nanoseconds of ``factor``."""
        n = self.n_samples
        return COSTS.kernel_eigh_cube * n**3 + COSTS.kernel_eigh_square * n**2


def _max_abs(xp, array):
    """The largest magnitude in a dense array (0.0 when empty)."""
    if 0 in array.shape:
        return 0.0
    return max(float(xp.max(array)), -float(xp.min(array)))


def _writeable(array):
    """Whether a dense array may be written in place (numpy's flag; others: yes)."""
    flags = getattr(array, "flags", None)
    return True if flags is None else bool(flags.writeable)


class KernelRows(RowOperator):
    """Rows ``K_s[B, :]`` of a scaled kernel: one stochastic SAM batch.

    The RKHS gradient of the batch loss is supported on ``B`` (coefficients of
    ``k(x_i, .)``, ``i in B``), so a step only needs ``K_s[B, :] @ c`` and
    ``K_s[B, B] @ g``.

    Examples
    --------
    >>> import numpy as np
    >>> rows = ScaledKernel(np.array([[2.0, 1.0], [1.0, 3.0]]), None, 2.0).rows([1])
    >>> rows.apply(np.array([[1.0], [1.0]])).ravel().tolist()
    [4.0]
    >>> rows.apply_gradient(np.array([[1.0]])).ravel().tolist()
    [3.0]
    """

    rkhs = True

    def __init__(self, K, batch):
        self.batch = batch
        self.kernel_rows = K.take(batch, axis=0)

    def apply(self, coef):
        """Fitted values on the batch, ``K_s[B, :] @ coef``."""
        return self.kernel_rows @ coef

    def adjoint(self, resid):
        """The gradient coefficients on ``B`` are the batch residuals themselves."""
        return resid

    def apply_gradient(self, grad):
        """``K_s[B, B] @ grad`` for a gradient supported on ``B``."""
        return self.kernel_rows.take(self.batch, axis=1) @ grad

    def take_step(self, coef, rows, descent):
        """The gradient is supported on the batch: ``coef[rows] -= descent``."""
        coef[rows] -= descent


class GramDesign(ScaledOperator):
    """The scaled linear problem known only through ``H`` (d x d) and ``z`` (d x t).

    The counterpart of ``ScaledDesign`` when ``X`` itself is out of reach (row
    moments reduced by dask): only the spectral route (``factor``,
    ``top_eigenvalue``); there are no products to take.

    Parameters
    ----------
    gram : ndarray of shape (n_features, n_features)
        ``X_s^T X_s / S``.
    xty : ndarray of shape (n_features, n_targets)
        ``X_s^T y_s / S``.
    sum_weights : float
    n_samples : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import GramDesign
    >>> op = GramDesign(np.diag([2.0, 1.0]), np.ones((2, 1)), 10.0, 10)
    >>> op.top_eigenvalue(), op.factor().lam.tolist()
    (2.0, [1.0, 2.0])
    """

    rkhs = False
    has_products = False

    def __init__(self, gram, xty, sum_weights, n_samples):
        self.gram = gram
        self.xty = xty
        self.sum_weights = sum_weights
        self.n_samples = n_samples
        self.n_params = gram.shape[0]

    def max_abs(self):
        """The largest magnitude in ``H``."""
        return _max_abs(np, self.gram)

    def factor(self, y_scaled=None):
        """Eigendecomposition of ``H`` (``y_scaled`` is unused: ``z`` is known)."""
        return decompose_primal(self.gram.copy(), self.xty, np)

    def top_eigenvalue(self):
        """Largest eigenvalue of ``H``."""
        return float(np.linalg.eigvalsh(self.gram)[-1]) if self.n_params else 0.0

    def apply(self, coef):
        raise NotImplementedError("GramDesign knows X only through its Gram matrix.")

    adjoint = apply
