"""Exact SAM iterates from one symmetric eigendecomposition (pure numpy/scipy).

On a quadratic loss, full-batch SAM acts diagonally in the eigenbasis of the weighted
Gram (or kernel) matrix (DESIGN.md section 1, THEORY.md D1, D3, D4). Every solution
is written as

    coef_k = basis @ (psi_k * proj),        psi_k = (1 - r^k) / lam,

where ``lam`` are the nonzero eigenvalues, ``proj`` the targets in eigen-coordinates
and ``basis`` maps eigen-coordinates back to coefficients (primal weights or dual
coefficients). ``psi_k`` is the *spectral filter divided by the eigenvalue*; keeping
the division inside the filter makes small eigenvalues numerically safe.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg

__all__ = [
    "SpectralFactor",
    "auto_learning_rate",
    "coef_path",
    "decompose_dual",
    "decompose_primal",
    "filter_psi",
    "iter_psi_chunks",
    "largest_stable_learning_rate",
    "spectral_radius",
]


@dataclass
class SpectralFactor:
    """Eigen-representation of a (weighted, centred) least-squares problem.

    Attributes
    ----------
    lam : ndarray of shape (rank,)
        Nonzero eigenvalues of the weighted Gram (or kernel) matrix, ascending.
    basis : ndarray of shape (n_params, rank)
        Maps eigen-coordinates to coefficients.
    proj : ndarray of shape (rank, n_targets)
        Targets in eigen-coordinates.
    grad_weight : ndarray of shape (rank, n_targets)
        ``||g_k||^2 = sum_i grad_weight_i * (1 - lam_i * psi_i)^2``: squared (RKHS)
        norm of the gradient written in eigen-coordinates (used by normalized SAM).
    lam_max : float
        Largest eigenvalue (0 for an all-zero design).
    """

    lam: np.ndarray
    basis: np.ndarray
    proj: np.ndarray
    grad_weight: np.ndarray
    lam_max: float

    def coef(self, psi):
        """Coefficients for filter values ``psi`` of shape (rank,) or (rank, n_targets)."""
        if psi.ndim == 1:
            psi = psi[:, None]
        return self.basis @ (psi * self.proj)


def _truncated_eigh(gram, size_hint):
    """Eigenpairs of a PSD matrix, dropping the numerically-zero part of the spectrum.

    Eigenvalues below ``lam_max * eps * size_hint`` carry rounding noise only (the
    ``rcond`` rule of ``numpy.linalg.lstsq``); iterating on them contributes at most
    ``k * eta * lam`` and is dropped (THEORY.md D7).
    """
    lam, vecs = linalg.eigh(gram, driver="evd", overwrite_a=True, check_finite=False)
    lam_max = float(lam[-1]) if lam.size else 0.0
    if lam_max <= 0.0:
        return np.zeros(0), vecs[:, :0], 0.0
    keep = lam > lam_max * np.finfo(float).eps * size_hint
    return lam[keep], vecs[:, keep], lam_max


def decompose_primal(gram, xty):
    """Factor from the ``d x d`` weighted Gram ``H`` and ``z = X^T diag(s) y / S``."""
    lam, vecs, lam_max = _truncated_eigh(gram, gram.shape[0])
    proj = vecs.T @ xty
    return SpectralFactor(lam, vecs, proj, proj**2, lam_max)


def decompose_dual(gram, y_scaled, sum_weights, to_coef):
    """Factor from the ``n x n`` matrix ``M = D^1/2 K D^1/2 / S``.

    ``y_scaled`` is ``D^1/2 y``. ``to_coef(Q)`` maps the eigenvectors to the coefficient
    space; the coefficients are ``to_coef(Q) @ diag(psi) Q^T y_scaled / S``
    (THEORY.md D4 with weights; for a linear kernel ``to_coef(Q) = X_s^T Q``).
    """
    lam, vecs, lam_max = _truncated_eigh(gram, gram.shape[0])
    proj = vecs.T @ y_scaled
    basis = to_coef(vecs) / sum_weights
    return SpectralFactor(lam, basis, proj, lam[:, None] * proj**2 / sum_weights, lam_max)


def spectral_radius(lam_max, learning_rate, rho):
    """``eta * lam_max * (1 + rho * lam_max)``: SAM contracts every direction iff < 2."""
    return learning_rate * lam_max * (1.0 + rho * lam_max)


def largest_stable_learning_rate(lam_max, rho, variant):
    """Supremum of the learning rates for which the iteration does not diverge."""
    if lam_max <= 0.0:
        return np.inf
    if variant == "normalized":
        return 2.0 / lam_max
    return 2.0 / (lam_max * (1.0 + rho * lam_max))


def auto_learning_rate(lam_max, rho, variant):
    """The monotone-regime step of DESIGN.md: every direction contracts without sign flips."""
    if lam_max <= 0.0:
        return 1.0
    if variant == "normalized":
        return 1.0 / lam_max
    return 1.0 / (lam_max * (1.0 + rho * lam_max))


def _psi_unnormalized(lam, learning_rate, rho, steps):
    """``(1 - r^k) / lam`` with ``r = 1 - eta * lam * (1 + rho * lam)``; shape (rank, K)."""
    a = (learning_rate * lam * (1.0 + rho * lam))[:, None]
    k = np.asarray(steps, dtype=float)[None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # 1 - (1 - a)^k = -expm1(k log1p(-a)) is accurate for tiny a (no cancellation);
        # for a >= 1 the factor r is <= 0 and the direct power is exact enough.
        small = a < 1.0
        one_minus_rk = np.where(
            small,
            -np.expm1(k * np.log1p(-np.where(small, a, 0.0))),
            1.0 - np.power(1.0 - a, k),
        )
    one_minus_rk = np.where(k == 0, 0.0, one_minus_rk)
    return one_minus_rk / lam[:, None]


def _psi_normalized(lam, grad_weight, learning_rate, rho, steps, psi0=None, start=0):
    """Exact recursion of normalized SAM in eigen-coordinates; shape (rank, t, K).

    With ``rho_k = rho / ||g_k||`` (per target column) every direction follows
    ``psi <- psi + eta (1 + rho_k lam) (1 - lam psi)`` (THEORY.md D3), O(rank) a step.
    ``psi0`` is the state after ``start`` steps (to continue a path in chunks);
    ``steps`` must all be >= ``start``.
    """
    steps = np.asarray(steps, dtype=np.int64)
    out = np.empty((lam.size, grad_weight.shape[1], steps.size))
    psi = np.zeros(grad_weight.shape) if psi0 is None else psi0.copy()
    lam_col = lam[:, None]
    step = start
    for idx in np.argsort(steps, kind="stable"):
        while step < steps[idx]:
            residual = 1.0 - lam_col * psi
            norm = np.sqrt(np.sum(grad_weight * residual**2, axis=0))
            with np.errstate(divide="ignore"):
                radius = np.where(norm > 0.0, rho / norm, 0.0)
            psi = psi + learning_rate * (1.0 + radius * lam_col) * residual
            step += 1
        out[:, :, idx] = psi
    return out


def filter_psi(factor, learning_rate, rho, steps, variant):
    """Filter values ``psi`` for each step count in ``steps``.

    Returns shape (rank, K) for ``variant="unnormalized"`` (the same for all targets)
    and (rank, n_targets, K) for ``"normalized"``.
    """
    if variant == "normalized" and rho > 0.0:
        return _psi_normalized(factor.lam, factor.grad_weight, learning_rate, rho, steps)
    return _psi_unnormalized(factor.lam, learning_rate, rho, steps)


def coef_path(factor, learning_rate, rho, steps, variant):
    """Coefficients after each step count in ``steps``: shape (n_params, n_targets, K)."""
    psi = filter_psi(factor, learning_rate, rho, steps, variant)
    if psi.ndim == 2:
        psi = psi[:, None, :]
    weighted = psi * factor.proj[:, :, None]
    n_targets, n_steps = factor.proj.shape[1], len(steps)
    flat = factor.basis @ weighted.reshape(factor.lam.size, n_targets * n_steps)
    return flat.reshape(factor.basis.shape[0], n_targets, n_steps)


def iter_psi_chunks(factor, learning_rate, rho, n_iter, variant, chunk_size=256):
    """Yield ``(steps, psi)`` for consecutive steps ``1..n_iter`` in chunks.

    ``psi`` has shape (rank, n_targets, len(steps)); the normalized recursion carries its
    state from chunk to chunk, so the whole path costs O(rank * n_iter).
    """
    normalized = variant == "normalized" and rho > 0.0
    state = None
    for start in range(0, n_iter, chunk_size):
        steps = np.arange(start + 1, min(start + chunk_size, n_iter) + 1)
        if normalized:
            psi = _psi_normalized(
                factor.lam, factor.grad_weight, learning_rate, rho, steps, state, start
            )
            state = psi[:, :, -1]
        else:
            psi = _psi_unnormalized(factor.lam, learning_rate, rho, steps)[:, None, :]
        yield steps, psi
