"""What of the spectral route and the explicit loop stays specific to array API inputs.

The shared mathematics is namespace-generic and lives in ``_spectral`` (the filter
``psi_k = -expm1(k log1p(-a)) / lam``, the coefficient paths, residuals and degrees
of freedom) and ``_outputs`` (the output maps); for torch, CuPy or array-api-strict
arrays they run in that namespace and on its device (a GPU). Kept here, because
the numpy versions are tuned to numpy and LAPACK in ways that have no array API
counterpart (in-place updates, scipy's eigh drivers, sparse and dask operators,
exact power-of-two scalings, one target at a time):

- the decomposition (``XPFactor``, ``XPDesign``, ``XPKernel``): one Gram product and
  one ``xp.linalg.eigh``;
- the exact recursion of normalized SAM, vectorised over targets with no host
  synchronisation per step (numpy's loops over targets with in-place updates);
- the explicit full-batch loop (products only).

Every array stays in the namespace ``xp`` passed in; only scalars (``lam_max``, the
rank, the exponents of a few per-target maxima) come to the host. Pure: imports
nothing from scikit-learn.
"""

import math
from types import SimpleNamespace

from ._namespaces import HoldsNamespace
from ._operators import ScaledOperator
from ._spectral import RESIDUAL_FLOOR, MappedBasis, SpectralFactor

__all__ = [
    "XPDesign",
    "XPFactor",
    "XPKernel",
    "xp_iter_psi_normalized",
    "xp_psi_normalized",
    "xp_sam_iterates",
]


def _device(x):
    return x.device


def _scalar(xp, value, like):
    """A 0-d array of ``like``'s dtype and device (``where`` needs arrays)."""
    return xp.asarray(value, dtype=like.dtype, device=_device(like))


class XPFactor(HoldsNamespace, SpectralFactor):
    """A ``SpectralFactor`` whose arrays live in the array namespace ``xp``."""

    def __init__(self, xp, lam, basis, proj, grad_weight, lam_max, grad_root):
        super().__init__(lam, basis, proj, grad_weight, lam_max, grad_root)
        self.xp = xp

    def on_host(self):
        """The eigenvalues as a float64 numpy view (for the indefiniteness check)."""
        import numpy as np

        lam = np.asarray(
            [float(v) for v in self.xp.reshape(self.lam, (-1,))], dtype=np.float64
        )
        return SimpleNamespace(lam=lam, lam_max=self.lam_max)

    # The functions of ``_spectral`` (namespace-generic otherwise) hand normalized
    # SAM's recursion of an ``XPFactor`` to these.
    def psi_normalized(self, learning_rate, rho, steps):
        return xp_psi_normalized(self, learning_rate, rho, steps)

    def iter_psi_normalized(self, learning_rate, rho, n_iter, chunk_size):
        return xp_iter_psi_normalized(self, learning_rate, rho, n_iter, chunk_size)


def _eigh(xp, gram):
    lam, vecs = xp.linalg.eigh(gram)
    return lam, vecs


def _truncated_eigh(xp, gram, keep_null_space=False):
    """As ``_spectral._truncated_eigh``, in ``xp`` (eps of the compute dtype)."""
    lam, vecs = _eigh(xp, gram)
    size = gram.shape[0]
    lam_max = float(lam[-1]) if size else 0.0
    eps = float(xp.finfo(lam.dtype).eps)
    if keep_null_space:
        lam_max = max(lam_max, 0.0)
        floor = (lam_max if lam_max > 0.0 else 1.0) * eps * size
        lam = xp.where(xp.abs(lam) <= floor, _scalar(xp, floor, lam), lam)
        return lam, vecs, lam_max
    if lam_max <= 0.0:
        return lam[:0], vecs[:, :0], 0.0
    first = int(xp.count_nonzero(lam <= lam_max * eps * size))
    return lam[first:], vecs[:, first:], lam_max


def decompose_primal(xp, gram, xty):
    """``XPFactor`` of the ``d x d`` weighted Gram ``H`` and ``X^T D y / S``."""
    lam, vecs, lam_max = _truncated_eigh(xp, gram)
    proj = vecs.T @ xty
    return XPFactor(xp, lam, vecs, proj, proj**2, lam_max, xp.abs(proj))


def decompose_dual(
    xp, gram, y_scaled, sum_weights, to_coef=None, keep_null_space=False
):
    """``XPFactor`` of ``M = D^1/2 K D^1/2 / S`` (see ``_spectral.decompose_dual``)."""
    lam, vecs, lam_max = _truncated_eigh(xp, gram, keep_null_space)
    proj = vecs.T @ y_scaled
    if to_coef is None:
        basis = vecs / sum_weights
    else:
        basis = MappedBasis(vecs, to_coef, sum_weights)
    grad_weight = lam[:, None] * proj**2 / sum_weights
    grad_root = xp.abs(proj) * xp.sqrt(xp.abs(lam) / sum_weights)[:, None]
    return XPFactor(xp, lam, basis, proj, grad_weight, lam_max, grad_root)


# ------------------------------------------------------------------ the filter
def _normalized_state(xp, factor):
    """Unit weights and power-of-two scales (``_spectral._normalized_weights``)."""
    grad_root, grad_weight = factor.grad_root, factor.grad_weight
    n_targets = grad_weight.shape[1]
    if grad_root.shape[0]:
        largest = [float(v) for v in xp.max(grad_root, axis=0)]
    else:
        largest = [0.0] * n_targets
    scale_host = [math.ldexp(1.0, math.frexp(v)[1]) for v in largest]
    scale = xp.asarray(scale_host, dtype=grad_root.dtype, device=_device(grad_root))
    unit = grad_root / scale[None, :]
    unit = unit * unit
    unit = xp.where(grad_weight < 0.0, -unit, unit)
    fitted = xp.zeros(grad_weight.shape, dtype=grad_weight.dtype, device=_device(unit))
    residual = xp.ones(grad_weight.shape, dtype=grad_weight.dtype, device=_device(unit))
    return unit, scale, fitted, residual


def _normalized_steps(xp, factor, learning_rate, rho, steps, state, start):
    """Advance the normalized recursion from ``start``; psi at sorted ``steps``.

    ``state`` = ``[unit, scale, fitted, residual]`` is updated (the last two); the
    recursion is ``_spectral._normalized_steps``'s, for all targets at once: the
    residual is carried multiplicatively and floored at the unit roundoff of the
    compute dtype (``2^-53`` in float64).
    """
    lam = factor.lam
    unit, scale, fitted, e = state
    eta_lam = (learning_rate * lam)[:, None]
    eta_lam2 = eta_lam * lam[:, None]
    floor = _scalar(xp, max(RESIDUAL_FLOOR, float(xp.finfo(lam.dtype).eps) / 2), lam)
    zero = _scalar(xp, 0.0, lam)
    out = []
    step = start
    for target in steps:
        while step < target:
            sq_norm = xp.sum(unit * (e * e), axis=0)
            norm = scale * xp.sqrt(xp.where(sq_norm > 0.0, sq_norm, zero))
            safe = xp.where(norm > 0.0, norm, _scalar(xp, 1.0, lam))
            radius = xp.where(norm > 0.0, rho / safe, zero)
            ae = (eta_lam + eta_lam2 * radius[None, :]) * e
            fitted = fitted + ae
            e = e - ae
            magnitude = xp.maximum(xp.abs(e), floor)
            e = xp.where(e < 0.0, -magnitude, magnitude)
            step += 1
        out.append(fitted / lam[:, None])
    state[2], state[3] = fitted, e
    return out


def xp_psi_normalized(factor, learning_rate, rho, steps):
    """Normalized SAM's filter values, shape (rank, n_targets, K), any step order."""
    xp = factor.xp
    order = sorted(set(int(k) for k in steps))
    state = list(_normalized_state(xp, factor))
    psi = _normalized_steps(xp, factor, learning_rate, rho, order, state, 0)
    values = dict(zip(order, psi, strict=True))
    return xp.stack([values[int(k)] for k in steps], axis=-1)


def xp_iter_psi_normalized(factor, learning_rate, rho, n_iter, chunk_size=256):
    """``_spectral.iter_psi_chunks`` of normalized SAM for an ``XPFactor`` (the
    recursion's state carried from chunk to chunk)."""
    xp = factor.xp
    state = list(_normalized_state(xp, factor))
    for start in range(0, n_iter, chunk_size):
        steps = list(range(start + 1, min(start + chunk_size, n_iter) + 1))
        psi = _normalized_steps(xp, factor, learning_rate, rho, steps, state, start)
        yield steps, xp.stack(psi, axis=-1)


# ------------------------------------------------------------------ operators
class XPDesign(HoldsNamespace, ScaledOperator):
    """``X_s = D^1/2 (X - 1 x_mean^T)`` as a dense array of namespace ``xp``.

    Parameters
    ----------
    xp : namespace
    X : array of shape (n_samples, n_features)
        Dense, of the compute dtype.
    sqrt_sw : array of shape (n_samples,) or None
    x_mean : array of shape (n_features,) or None
    sum_weights : float
    """

    rkhs = False

    def __init__(self, xp, X, sqrt_sw, x_mean, sum_weights):
        self.xp = xp
        self.sum_weights = sum_weights
        self.n_samples, self.n_params = X.shape
        Xs = X if x_mean is None else X - x_mean[None, :]
        if sqrt_sw is not None:
            Xs = Xs * sqrt_sw[:, None]
        # A private copy when nothing above made one: a fitted model may keep the
        # operator and must not see later in-place changes to X.
        self.X = xp.asarray(Xs, copy=True) if Xs is X else Xs

    def apply(self, coef):
        return self.X @ coef

    def adjoint(self, resid):
        return self.X.T @ resid

    def factor(self, y_scaled):
        """One ``xp.linalg.eigh`` of the smaller Gram matrix (d x d or n x n)."""
        xp, S = self.xp, self.sum_weights
        if self.n_samples >= self.n_params:
            return decompose_primal(
                xp, self.X.T @ self.X / S, self.adjoint(y_scaled) / S
            )
        return decompose_dual(xp, self.X @ self.X.T / S, y_scaled, S, self.adjoint)

    def max_abs(self):
        """The largest magnitude in ``X_s``."""
        xp = self.xp
        return float(xp.max(xp.abs(self.X))) if self.X.shape[0] else 0.0

    def top_eigenvalue(self):
        xp, X = self.xp, self.X
        gram = X.T @ X if self.n_params <= self.n_samples else X @ X.T
        if gram.shape[0] == 0:
            return 0.0
        return max(float(xp.linalg.eigvalsh(gram)[-1]), 0.0) / self.sum_weights


class XPKernel(HoldsNamespace, ScaledOperator):
    """``K_s = D^1/2 K_c D^1/2`` as an array of namespace ``xp``."""

    rkhs = True

    def __init__(self, xp, kernel_centered, sqrt_sw, sum_weights):
        self.xp = xp
        self.sum_weights = sum_weights
        K = kernel_centered
        if sqrt_sw is not None:
            K = K * sqrt_sw[:, None] * sqrt_sw[None, :]
        self.K = K
        self.n_samples = self.n_params = K.shape[0]

    def apply(self, coef):
        return self.K @ coef

    def adjoint(self, resid):
        return resid

    def factor(self, y_scaled):
        S = self.sum_weights
        return decompose_dual(self.xp, self.K / S, y_scaled, S, keep_null_space=True)

    def max_abs(self):
        """The largest magnitude in ``K_s``."""
        xp = self.xp
        return float(xp.max(xp.abs(self.K))) if self.K.shape[0] else 0.0

    def top_eigenvalue(self):
        if self.n_samples == 0:
            return 0.0
        return float(self.xp.linalg.eigvalsh(self.K)[-1]) / self.sum_weights


# ------------------------------------------------------------------- the loop
def xp_sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant):
    """``_iterative.sam_iterates`` (full batch) on an ``XPDesign`` or ``XPKernel``.

    The gradient norm is the plain one (the numpy loop's power-of-two scaling only
    matters for data beyond about ``2^+-256``); no host synchronisation per step.
    """
    xp, S = op.xp, op.sum_weights
    coef = xp.zeros(
        (op.n_params, y_scaled.shape[1]), dtype=y_scaled.dtype, device=_device(y_scaled)
    )
    zero = _scalar(xp, 0.0, y_scaled)
    one = _scalar(xp, 1.0, y_scaled)

    def radius_of(sq):
        norm = xp.sqrt(xp.where(sq > 0.0, sq, zero))
        return xp.where(norm > 0.0, rho / xp.where(norm > 0.0, norm, one), zero)

    normalized = variant == "normalized"
    for step in range(1, n_iter + 1):
        grad = op.adjoint(op.apply(coef) - y_scaled) / S
        if rho > 0.0:
            if normalized and op.rkhs:
                fitted_step = op.apply(grad)
                radius = radius_of(xp.sum(grad * fitted_step, axis=0))
                fitted_step = fitted_step * radius[None, :]
            else:
                if normalized:
                    grad_step = grad * radius_of(xp.sum(grad * grad, axis=0))[None, :]
                else:
                    grad_step = rho * grad
                fitted_step = op.apply(grad_step)
            grad = grad + op.adjoint(fitted_step) / S
        coef = coef - learning_rate * grad
        yield step, coef


def xp_sam_loop(op, y_scaled, learning_rate, rho, n_iter, variant, progress=None):
    """Coefficients after ``n_iter`` full-batch steps (``xp_sam_iterates``);
    ``progress`` as in ``_iterative.sam_loop``."""
    xp = op.xp
    last = xp.zeros(
        (op.n_params, y_scaled.shape[1]), dtype=y_scaled.dtype, device=_device(y_scaled)
    )
    iterates = xp_sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant)
    if progress is not None:
        iterates = progress.iterate(iterates)
    for _, coef in iterates:
        last = coef
    return last
