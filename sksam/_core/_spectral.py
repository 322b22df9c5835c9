"""Exact SAM iterates from one symmetric eigendecomposition, in any array namespace.

On a quadratic loss, full-batch SAM acts diagonally in the eigenbasis of the weighted
Gram (or kernel) matrix (the user guide, "Exact iterates: the spectral filter"). Every
solution is written as

    coef_k = basis @ (psi_k * proj),        psi_k = (1 - r^k) / lam,

where ``lam`` are the nonzero eigenvalues, ``proj`` the targets in eigen-coordinates
and ``basis`` maps eigen-coordinates back to coefficients (primal weights or dual
coefficients). ``psi_k`` is the *spectral filter divided by the eigenvalue*; keeping
the division inside the filter makes small eigenvalues numerically safe. The filter
values come from the variant (``_variants``); the arrays live in the namespace
``xp`` of the factor (numpy, torch, ...), through the adapters of ``_namespaces``.
"""

import numpy as np

from ._namespaces import (
    HoldsNamespace,
    astype,
    eps_of,
    full,
    is_numpy,
    namespace_of_array,
    symmetric_eigh,
)
from ._variants import get_variant

__all__ = [
    "MappedBasis",
    "SpectralFactor",
    "coef_path",
    "decompose_dual",
    "decompose_primal",
    "dof_path",
    "rss_path",
]


class SpectralFactor(HoldsNamespace):
    """Eigen-representation of a (weighted, centred) least-squares problem.

    Each parameter is stored as the attribute of the same name.

    Parameters
    ----------
    lam : array of shape (rank,)
        Nonzero eigenvalues of the weighted Gram (or kernel) matrix, ascending.
    basis : array of shape (n_params, rank) or MappedBasis
        Maps eigen-coordinates to coefficients. A ``MappedBasis`` is applied without
        being formed (``coef`` then costs one product with the design) and is formed
        on first access of the ``basis`` attribute.
    proj : array of shape (rank, n_targets)
        Targets in eigen-coordinates.
    grad_weight : array of shape (rank, n_targets)
        ``||g_k||^2 = sum_i grad_weight_i * (1 - lam_i * psi_i)^2``: squared (RKHS)
        norm of the gradient written in eigen-coordinates (used by normalized SAM).
    lam_max : float
        Largest eigenvalue (0 for an all-zero design).
    grad_root : array of shape (rank, n_targets), default=None
        ``sqrt(|grad_weight|)`` formed without squaring. ``grad_weight`` scales like
        the fourth power of the data (``(c X, c y)`` multiplies it by ``c^4``) and
        leaves the float64 range for ``|c|`` beyond about ``2^+-256``, where its root
        (``c^2``) is still exact; normalized SAM takes the gradient norm from it.
        ``None``: ``sqrt(|grad_weight|)``.
    xp : namespace, default=None
        The array namespace of the arrays above (``None``: that of ``lam``).

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._spectral import SpectralFactor
    >>> factor = SpectralFactor(np.array([1.0, 2.0]), np.eye(2), np.ones((2, 1)),
    ...                         np.ones((2, 1)), 2.0)
    >>> factor.coef(np.array([0.5, 0.25])).ravel().tolist()
    [0.5, 0.25]
    """

    def __init__(self, lam, basis, proj, grad_weight, lam_max, grad_root=None, xp=None):
        self.xp = namespace_of_array(lam) if xp is None else xp
        if grad_root is None:
            grad_root = self.xp.sqrt(self.xp.abs(grad_weight))
        self.lam = lam
        self._basis = basis
        self.proj = proj
        self.grad_weight = grad_weight
        self.lam_max = lam_max
        self.grad_root = grad_root

    @property
    def basis(self):
        """The basis as an array of shape (n_params, rank) (formed once if mapped)."""
        if isinstance(self._basis, MappedBasis):
            self._basis = self._basis.toarray()
        return self._basis

    def map_basis(self, weights):
        """``basis @ weights`` for ``weights`` (rank, m), without forming the basis."""
        return self._basis @ weights

    def coef(self, psi):
        """Coefficients for filter values ``psi`` (rank,) or (rank, n_targets)."""
        if psi.ndim == 1:
            psi = psi[:, None]
        return self.map_basis(psi * self.proj)

    def select_targets(self, index):
        """The factor of the target columns ``index`` (an index array of the
        factor's namespace) alone: the eigenpairs and the basis are shared, the
        targets' coordinates taken."""
        xp = self.xp
        sub = SpectralFactor(
            self.lam,
            self._basis,
            xp.take(self.proj, index, axis=1),
            xp.take(self.grad_weight, index, axis=1),
            self.lam_max,
            xp.take(self.grad_root, index, axis=1),
            xp,
        )
        return sub

    def host_eigenvalues(self):
        """The eigenvalues as a float64 numpy array (for the host-side checks)."""
        if is_numpy(self.xp):
            return self.lam
        return np.asarray([float(v) for v in self.xp.reshape(self.lam, (-1,))])


class MappedBasis:
    """The basis ``to_coef(vecs) / scale`` of a dual factor, applied without forming it.

    Forming ``X_s^T Q`` costs a product of the design with all ``n`` eigenvectors;
    one fit needs only ``X_s^T (Q m) / S`` for a few columns ``m``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._spectral import MappedBasis
    >>> X = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    >>> basis = MappedBasis(np.eye(2), lambda q: X.T @ q, 2.0)
    >>> (basis @ np.array([[2.0], [0.0]])).ravel().tolist()
    [1.0, 0.0, 2.0]
    >>> basis.toarray().shape
    (3, 2)
    """

    def __init__(self, vecs, to_coef, scale):
        self.vecs = vecs
        self.to_coef = to_coef
        self.scale = scale

    def __matmul__(self, weights):
        return self.to_coef(self.vecs @ weights) / self.scale

    def toarray(self):
        """The basis as an array of shape (n_params, rank)."""
        return self.to_coef(self.vecs) / self.scale


def _truncated_eigh(xp, gram, keep_null_space=False):
    """Eigenpairs of a PSD matrix and how its numerically-zero spectrum is handled.

    Eigenvalues below ``lam_max * eps * size`` carry rounding noise only (the
    ``rcond`` rule of ``numpy.linalg.lstsq``; ``eps`` of the compute dtype). For a
    design, iterating on them contributes at most ``k * eta * lam`` and they are
    dropped. A dual (kernel) iterate instead grows there like ``k * eta * y_s / S``
    (``psi -> k eta`` as ``lam -> 0``) and test points see it through ``k(x, X)``:
    with ``keep_null_space`` those eigenvalues are kept, floored at the rounding
    level (``psi`` then equals ``k eta`` to ``k eta lam`` relative, as the explicit
    loop gives), and clearly negative ones (an indefinite kernel) are kept as they
    are.
    """
    size = gram.shape[0]
    lam, vecs = symmetric_eigh(xp, gram)
    lam_max = float(lam[-1]) if size else 0.0
    eps = eps_of(xp, lam.dtype)
    if keep_null_space:
        lam_max = max(lam_max, 0.0)
        floor = (lam_max if lam_max > 0.0 else 1.0) * eps * size
        lam = xp.where(xp.abs(lam) <= floor, full(xp, (), floor, lam), lam)
        return lam, vecs, lam_max
    if lam_max <= 0.0:
        return lam[:0], vecs[:, :0], 0.0
    # Ascending eigenvalues: the kept ones are a suffix, and a slice copies nothing.
    first = int(xp.sum(astype(xp, lam <= lam_max * eps * size, xp.int64)))
    return lam[first:], vecs[:, first:], lam_max


def decompose_primal(gram, xty, xp=None):
    """Factor from the ``d x d`` weighted Gram ``H`` and ``z = X^T diag(s) y / S``
    (in their namespace ``xp``; ``None``: that of ``gram``)."""
    xp = namespace_of_array(gram) if xp is None else xp
    lam, vecs, lam_max = _truncated_eigh(xp, gram)
    proj = vecs.T @ xty
    with np.errstate(over="ignore", under="ignore"):  # see SpectralFactor.grad_root
        grad_weight = proj**2
    return SpectralFactor(lam, vecs, proj, grad_weight, lam_max, xp.abs(proj), xp)


def decompose_dual(
    gram, y_scaled, sum_weights, to_coef=None, keep_null_space=False, xp=None
):
    """Factor from the ``n x n`` matrix ``M = D^1/2 K D^1/2 / S``.

    ``y_scaled`` is ``D^1/2 y``. ``to_coef(Q)`` maps the eigenvectors to the coefficient
    space; the coefficients are ``to_coef(Q) @ diag(psi) Q^T y_scaled / S``
    (the dual form, with weights; for a linear kernel ``to_coef(Q) = X_s^T Q``). The
    basis stays a ``MappedBasis``: ``to_coef`` is applied to ``Q diag(psi) Q^T y_s``
    only (a fit), and to ``Q`` itself when ``factor.basis`` is first used (a path).
    ``to_coef=None`` is the identity (the kernel's coefficients ``D^-1/2 alpha``):
    the basis ``Q / S`` is then formed in place. ``keep_null_space``: see
    ``_truncated_eigh`` (kernels keep it). ``xp``: the namespace (``None``: that of
    ``gram``).
    """
    xp = namespace_of_array(gram) if xp is None else xp
    lam, vecs, lam_max = _truncated_eigh(xp, gram, keep_null_space)
    proj = vecs.T @ y_scaled
    if to_coef is None:
        vecs /= sum_weights
        basis = vecs
    else:
        basis = MappedBasis(vecs, to_coef, sum_weights)
    with np.errstate(over="ignore", under="ignore"):  # see SpectralFactor.grad_root
        grad_weight = lam[:, None] * proj**2 / sum_weights
    grad_root = xp.abs(proj) * xp.sqrt(xp.abs(lam) / sum_weights)[:, None]
    return SpectralFactor(lam, basis, proj, grad_weight, lam_max, grad_root, xp)


def _as_3d(psi):
    """Filter values as (rank, n_targets or 1, K)."""
    return psi[:, None, :] if psi.ndim == 2 else psi


def coef_path(factor, learning_rate, rho, steps, variant, progress=None):
    """Coefficients after each step count in ``steps``; shape (n_params, n_targets, K).

    ``variant``: a name or a ``_variants.SAMVariant``; ``progress``: see its
    ``filter``.
    """
    xp, variant = factor.xp, get_variant(variant)
    psi = _as_3d(variant.filter(factor, learning_rate, rho, steps, progress))
    weighted = psi * factor.proj[:, :, None]
    rank, n_targets, n_steps = weighted.shape
    flat = factor.map_basis(xp.reshape(weighted, (rank, n_targets * n_steps)))
    return xp.reshape(flat, (flat.shape[0], n_targets, n_steps))


def dof_path(factor, learning_rate, rho, steps, *, variant="unnormalized", psi=None):
    """Effective degrees of freedom of a linear variant after each of ``steps``.

    ``trace`` of the (training) smoother, ``sum_i lam_i psi_i`` over the retained
    eigenvalues (``sum_i (1 - r_i^k)`` for unnormalized SAM; the user guide,
    "Comparing with Ridge; bias and variance"); a fitted intercept adds 1. Shape
    (K,). A variant that is not linear in ``y`` has no smoother. ``psi``: the filter
    values if already computed (shared with ``rss_path``).
    """
    if psi is None:
        psi = get_variant(variant).filter(factor, learning_rate, rho, steps)
    return factor.lam @ psi


def rss_path(
    factor,
    learning_rate,
    rho,
    steps,
    *,
    y_sq_norm,
    sum_weights,
    variant="unnormalized",
    psi=None,
):
    """Residual sums of squares ``||y_s - A c_k||^2`` per target after ``steps``.

    Shape (n_targets, K); on the scaled problem this is the weighted training RSS
    ``sum_i s_i (y_i - f_k(x_i))^2``. With ``u_i`` the orthonormal fitted-value
    directions, direction ``i`` keeps the fraction ``1 - lam_i psi_i`` (``= r_i^k``
    unnormalized) of ``u_i^T y_s``, and ``(u_i^T y_s)^2 = S grad_weight_i / lam_i``
    (the gradient norm of ``SpectralFactor`` is ``sum_i lam_i (u_i^T y_s)^2
    (1 - lam_i psi_i)^2 / S``). The part of ``y_s`` outside the retained eigenspace,
    ``||y_s||^2 - sum_i (u_i^T y_s)^2``, is never fitted and is added at every step.

    Parameters
    ----------
    factor : SpectralFactor
    learning_rate, rho : float
    steps : array-like of int
    y_sq_norm : array of shape (n_targets,)
        ``||y_s||^2`` per target column (in the factor's namespace).
    sum_weights : float
        ``S``, the sum of the sample weights.
    variant : str or SAMVariant, default="unnormalized"
    psi : array, default=None
        The variant's filter values if already computed (e.g. shared with
        ``dof_path``).
    """
    xp, lam = factor.xp, factor.lam
    if psi is None:
        psi = get_variant(variant).filter(factor, learning_rate, rho, steps)
    psi = _as_3d(psi)
    # (u_i^T y_s)^2 = S grad_weight_i / lam_i, from grad_root / sqrt(lam) (which
    # scales like y): grad_weight itself leaves the float64 range first.
    root = factor.grad_root / xp.sqrt(xp.abs(lam))[:, None]
    energy = sum_weights * root * root
    kept = 1.0 - lam[:, None, None] * psi
    kept *= kept
    outside = y_sq_norm - xp.sum(energy, axis=0)
    outside = xp.where(outside > 0.0, outside, xp.zeros_like(outside))
    return xp.sum(energy[:, :, None] * kept, axis=0) + outside[:, None]
