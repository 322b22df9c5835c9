"""Exact SAM iterates from one symmetric eigendecomposition (pure numpy/scipy).

On a quadratic loss, full-batch SAM acts diagonally in the eigenbasis of the weighted
Gram (or kernel) matrix (the user guide, "Exact iterates: the spectral filter"). Every
solution is written as

    coef_k = basis @ (psi_k * proj),        psi_k = (1 - r^k) / lam,

where ``lam`` are the nonzero eigenvalues, ``proj`` the targets in eigen-coordinates
and ``basis`` maps eigen-coordinates back to coefficients (primal weights or dual
coefficients). ``psi_k`` is the *spectral filter divided by the eigenvalue*; keeping
the division inside the filter makes small eigenvalues numerically safe.
"""

import math

import numpy as np
from scipy import linalg

__all__ = [
    "MappedBasis",
    "SpectralFactor",
    "auto_learning_rate",
    "coef_path",
    "decompose_dual",
    "decompose_primal",
    "dof_path",
    "filter_psi",
    "iter_psi_chunks",
    "largest_stable_learning_rate",
    "rss_path",
    "spectral_radius",
]


class SpectralFactor:
    """Eigen-representation of a (weighted, centred) least-squares problem.

    Each parameter is stored as the attribute of the same name.

    Parameters
    ----------
    lam : ndarray of shape (rank,)
        Nonzero eigenvalues of the weighted Gram (or kernel) matrix, ascending.
    basis : ndarray of shape (n_params, rank) or MappedBasis
        Maps eigen-coordinates to coefficients. A ``MappedBasis`` is applied without
        being formed (``coef`` then costs one product with the design) and is formed
        on first access of the ``basis`` attribute.
    proj : ndarray of shape (rank, n_targets)
        Targets in eigen-coordinates.
    grad_weight : ndarray of shape (rank, n_targets)
        ``||g_k||^2 = sum_i grad_weight_i * (1 - lam_i * psi_i)^2``: squared (RKHS)
        norm of the gradient written in eigen-coordinates (used by normalized SAM).
    lam_max : float
        Largest eigenvalue (0 for an all-zero design).
    grad_root : ndarray of shape (rank, n_targets), default=None
        ``sqrt(|grad_weight|)`` formed without squaring. ``grad_weight`` scales like
        the fourth power of the data (``(c X, c y)`` multiplies it by ``c^4``) and
        leaves the float64 range for ``|c|`` beyond about ``2^+-256``, where its root
        (``c^2``) is still exact; normalized SAM takes the gradient norm from it.
        ``None``: ``sqrt(|grad_weight|)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._spectral import SpectralFactor
    >>> factor = SpectralFactor(np.array([1.0, 2.0]), np.eye(2), np.ones((2, 1)),
    ...                         np.ones((2, 1)), 2.0)
    >>> factor.coef(np.array([0.5, 0.25])).ravel().tolist()
    [0.5, 0.25]
    """

    #: The array namespace of a factor computed outside numpy (``_xp_spectral``);
    #: the functions below hand such a factor its own route.
    xp = None

    def __init__(self, lam, basis, proj, grad_weight, lam_max, grad_root=None):
        self.lam = lam
        self._basis = basis
        self.proj = proj
        self.grad_weight = grad_weight
        self.lam_max = lam_max
        if grad_root is None:
            grad_root = np.sqrt(np.abs(grad_weight))
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


# pip wheels of numpy and scipy each ship an OpenBLAS with its own thread pool. A
# scipy LAPACK call right after numpy's BLAS products (forming the Gram) waits for
# numpy's threads, which keep spinning after each call: on 2 cores one 100 x 100 eigh
# took 5-8 ms instead of 0.9-1.3 ms. Matrices up to this size go through numpy's LAPACK
# (the pool of the products; still 1.4-1.5x faster at 1000 x 1000); larger ones through
# scipy's in-place divide and conquer, which needs no copy of the Gram and is as fast
# or faster there (benchmarks/bench_eigh.py and its section of benchmarks/README.md).
NUMPY_LAPACK_MAX_SIZE = 2000


def symmetric_eigh(gram):
    """Ascending eigenvalues and eigenvectors of a symmetric matrix (LAPACK syevd).

    ``gram`` may be overwritten.
    """
    if gram.shape[0] <= NUMPY_LAPACK_MAX_SIZE:
        return np.linalg.eigh(gram)
    return linalg.eigh(gram, driver="evd", overwrite_a=True, check_finite=False)


def largest_eigenvalue(gram):
    """The largest eigenvalue of a symmetric matrix (may overwrite ``gram``)."""
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


def _truncated_eigh(gram, size_hint, keep_null_space=False):
    """Eigenpairs of a PSD matrix and how its numerically-zero spectrum is handled.

    Eigenvalues below ``lam_max * eps * size_hint`` carry rounding noise only (the
    ``rcond`` rule of ``numpy.linalg.lstsq``). For a design, iterating on them
    contributes at most ``k * eta * lam`` and they are dropped. A dual
    (kernel) iterate instead grows there like ``k * eta * y_s / S`` (``psi -> k eta``
    as ``lam -> 0``) and test points see it through ``k(x, X)``: with
    ``keep_null_space`` those eigenvalues are kept, floored at the rounding level
    (``psi`` then equals ``k eta`` to ``k eta lam`` relative, as the explicit loop
    gives), and clearly negative ones (an indefinite kernel) are kept as they are.
    """
    lam, vecs = symmetric_eigh(gram)
    lam_max = float(lam[-1]) if lam.size else 0.0
    if keep_null_space:
        lam_max = max(lam_max, 0.0)
        floor = (lam_max if lam_max > 0.0 else 1.0) * np.finfo(float).eps * size_hint
        lam[np.abs(lam) <= floor] = floor
        return lam, vecs, lam_max
    if lam_max <= 0.0:
        return np.zeros(0), vecs[:, :0], 0.0
    # Ascending eigenvalues: the kept ones are a suffix, and a slice copies nothing.
    cutoff = lam_max * np.finfo(float).eps * size_hint
    first = int(np.searchsorted(lam, cutoff, side="right"))
    return lam[first:], vecs[:, first:], lam_max


def decompose_primal(gram, xty):
    """Factor from the ``d x d`` weighted Gram ``H`` and ``z = X^T diag(s) y / S``."""
    lam, vecs, lam_max = _truncated_eigh(gram, gram.shape[0])
    proj = vecs.T @ xty
    with np.errstate(over="ignore", under="ignore"):  # see SpectralFactor.grad_root
        grad_weight = proj**2
    return SpectralFactor(lam, vecs, proj, grad_weight, lam_max, np.abs(proj))


def decompose_dual(gram, y_scaled, sum_weights, to_coef=None, keep_null_space=False):
    """Factor from the ``n x n`` matrix ``M = D^1/2 K D^1/2 / S``.

    ``y_scaled`` is ``D^1/2 y``. ``to_coef(Q)`` maps the eigenvectors to the coefficient
    space; the coefficients are ``to_coef(Q) @ diag(psi) Q^T y_scaled / S``
    (the dual form, with weights; for a linear kernel ``to_coef(Q) = X_s^T Q``). The
    basis stays a ``MappedBasis``: ``to_coef`` is applied to ``Q diag(psi) Q^T y_s``
    only (a fit), and to ``Q`` itself when ``factor.basis`` is first used (a path).
    ``to_coef=None`` is the identity (the kernel's coefficients ``D^-1/2 alpha``):
    the basis ``Q / S`` is then formed in place. ``keep_null_space``: see
    ``_truncated_eigh`` (kernels keep it).
    """
    lam, vecs, lam_max = _truncated_eigh(gram, gram.shape[0], keep_null_space)
    proj = vecs.T @ y_scaled
    if to_coef is None:
        basis = np.divide(vecs, sum_weights, out=vecs)
    else:
        basis = MappedBasis(vecs, to_coef, sum_weights)
    with np.errstate(over="ignore", under="ignore"):  # see SpectralFactor.grad_root
        grad_weight = lam[:, None] * proj**2 / sum_weights
    grad_root = np.abs(proj) * np.sqrt(np.abs(lam) / sum_weights)[:, None]
    return SpectralFactor(lam, basis, proj, grad_weight, lam_max, grad_root)


def spectral_radius(lam_max, learning_rate, rho):
    """``eta * lam_max * (1 + rho * lam_max)``: SAM contracts all directions iff < 2."""
    return learning_rate * lam_max * (1.0 + rho * lam_max)


def largest_stable_learning_rate(lam_max, rho, variant):
    """Supremum of the learning rates for which the iteration does not diverge."""
    if lam_max <= 0.0:
        return np.inf
    if variant == "normalized":
        return 2.0 / lam_max
    return 2.0 / (lam_max * (1.0 + rho * lam_max))


def auto_learning_rate(lam_max, rho, variant):
    """The monotone-regime step: all directions contract, none changes sign."""
    if lam_max <= 0.0:
        return 1.0
    if variant == "normalized":
        return 1.0 / lam_max
    return 1.0 / (lam_max * (1.0 + rho * lam_max))


def _psi_unnormalized(lam, learning_rate, rho, steps, xp=None):
    """``(1 - r^k) / lam``, ``r = 1 - eta * lam * (1 + rho * lam)``; shape (rank, K).

    In the array namespace ``xp`` of ``lam`` (None: numpy), with the roundoff of its
    dtype; every route (numpy, torch, ...) computes the filter here.
    """
    a = (learning_rate * lam * (1.0 + rho * lam))[:, None]
    if xp is None or xp is np:
        xp = np
        k = np.asarray(steps, dtype=float)[None, :]
        eps = np.finfo(np.float64).eps
    else:
        k = xp.asarray([float(v) for v in steps], dtype=lam.dtype, device=lam.device)
        k = k[None, :]
        eps = float(xp.finfo(lam.dtype).eps)
    if bool(xp.all(a <= 1.0 + 4 * eps)):  # the usual (monotone) regime: no masks
        # The auto step gives a = 1 (r = 0) on the top direction, up to rounding: a
        # few ulps above 1 (|r| < 1e-15) count as r = 0. log r = -inf is clipped to a
        # finite value so that k = 0 still gives r^0 = 1, not 0 * inf.
        largest = float(xp.finfo(lam.dtype).max)
        with np.errstate(divide="ignore", over="ignore"):
            log_r = xp.clip(xp.log1p(-xp.clip(a, None, 1.0)), -largest, None)
            psi = log_r * k  # one (rank, K) array; numpy updates it in place
        psi = np.expm1(psi, out=psi) if xp is np else xp.expm1(psi)
        psi /= -lam[:, None]
        return psi
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # 1 - (1 - a)^k = -expm1(k log1p(-a)) is accurate for tiny a (no cancellation);
        # for a >= 1 the factor r is <= 0 and the direct power is exact enough.
        small = a < 1.0
        log_r = xp.log1p(-xp.where(small, a, xp.zeros_like(a)))
        one_minus_rk = xp.where(small, -xp.expm1(k * log_r), 1.0 - (1.0 - a) ** k)
        one_minus_rk = xp.where(k == 0.0, xp.zeros_like(one_minus_rk), one_minus_rk)
    return one_minus_rk / lam[:, None]


# Unit roundoff of float64, 2^-53: the smallest residual fraction ``|1 - lam psi|``
# that a float64 iterate resolves (see ``_normalized_steps``).
RESIDUAL_FLOOR = 2.0**-53


def _normalized_weights(grad_weight, grad_root):
    """``grad_weight`` per column as ``scale**2 * unit``, ``max |unit| <= 1``.

    ``scale`` (n_targets,) is the power of two just above the largest ``grad_root``;
    ``unit`` (rank, n_targets) carries the sign of ``grad_weight`` (negative for the
    negative eigenvalues of an indefinite kernel). Neither squares the data scale, so
    the gradient norm ``scale * sqrt(unit @ e**2)`` neither overflows nor underflows
    where ``sqrt(grad_weight @ e**2)`` would; the scaling is exact, so elsewhere it
    is that norm, bit for bit.
    """
    if grad_root is None:
        grad_root = np.sqrt(np.abs(grad_weight))
    largest = grad_root.max(axis=0) if grad_root.size else np.zeros(grad_root.shape[1])
    exponent = np.frexp(largest)[1]
    unit = np.ldexp(grad_root, -exponent)
    unit *= unit
    return np.copysign(unit, grad_weight), np.ldexp(1.0, exponent)


def _normalized_steps(
    lam, unit, scale, learning_rate, rho, steps, fitted, residual, start, progress=None
):
    """Advance the normalized recursion in place; filter values at sorted ``steps``.

    ``fitted`` (``lam psi``) and ``residual`` (``1 - lam psi``), (rank, n_targets),
    hold the state after ``start`` steps and are updated in place. The residual
    fraction ``e = 1 - lam psi`` of each eigen-coordinate is advanced as the
    iteration advances it, multiplicatively:

        a = eta lam (1 + rho_k lam),   lam psi <- lam psi + a e,   e <- e - a e

    (``e <- e (1 - eta lam (1 + rho_k lam))``). ``e`` is never
    recomputed as ``1 - lam psi``: that difference rounds to exactly 0 once ``lam psi``
    is within half an ulp of 1 (after ~20 steps on the top direction at the auto step
    ``eta lam_max = 1``), and 0 is a fixed point, while the iteration itself keeps a
    residual that grows back once ``rho_k = rho / ||g_k||`` makes the top direction
    unstable: normalized SAM then bounces across it. ``lam psi`` is accumulated, not
    formed as ``1 - e`` (which loses the digits of slow directions, ``e`` near 1).

    ``|e|`` is kept at or above the unit roundoff ``2^-53`` (sign kept). A float64
    iterate (the explicit loop, any float64 SAM optimizer) carries at least that much
    residual in every direction, as rounding noise; it is what the instability
    amplifies, so the bouncing starts when it does in float64, and an exact residual
    that decays geometrically cannot underflow to a sticky 0 (nor a 1e-300 one take
    hundreds of extra steps to grow back). Where the floor holds ``e``, ``lam psi``
    moves by at most ``a 2^-53`` a step, as the loop's rounding moves it.

    ``progress`` (a ``_progress.Progress`` of ``n_targets * (steps[-1] - start)``
    steps, or ``None``) is told of the work done every ``progress.block`` steps.
    """
    out = np.empty((lam.size, fitted.shape[1], len(steps)))
    eta_lam = learning_rate * lam
    eta_lam2 = eta_lam * lam
    floor = np.full_like(lam, RESIDUAL_FLOOR)
    work = np.empty_like(lam)
    span = int(steps[-1]) - start if len(steps) else 0
    for column in range(fitted.shape[1]):
        # One target at a time: the step is then a handful of in-place numpy calls
        # on rank-length vectors and one dot product.
        weight, norm_scale = unit[:, column], float(scale[column])
        col_fitted = fitted[:, column].copy()
        e = residual[:, column].copy()
        step = start
        for idx, target in enumerate(steps):
            while step < target:
                # In blocks only to report progress: one block without it.
                stop = (
                    target if progress is None else min(target, step + progress.block)
                )
                while step < stop:
                    np.multiply(e, e, out=work)
                    sq_norm = float(weight @ work)  # (||g_k|| / norm_scale)^2
                    norm = norm_scale * math.sqrt(sq_norm) if sq_norm > 0.0 else 0.0
                    radius = rho / norm if norm > 0.0 else 0.0
                    np.multiply(eta_lam2, radius, out=work)
                    work += eta_lam
                    work *= e  # a e
                    col_fitted += work
                    e -= work
                    np.abs(e, out=work)
                    np.maximum(work, floor, out=work)
                    np.copysign(work, e, out=e)
                    step += 1
                if progress is not None:
                    progress.update(column * span + step - start)
            np.divide(col_fitted, lam, out=out[:, column, idx])
        fitted[:, column] = col_fitted
        residual[:, column] = e
    return out


def _psi_normalized(
    lam,
    grad_weight,
    learning_rate,
    rho,
    steps,
    psi0=None,
    start=0,
    *,
    grad_root=None,
    progress=None,
):
    """Exact recursion of normalized SAM in eigen-coordinates; shape (rank, t, K).

    With ``rho_k = rho / ||g_k||`` (per target column) every direction follows
    ``psi <- psi + eta (1 + rho_k lam) (1 - lam psi)``, O(rank) a step;
    see ``_normalized_steps`` for how the residual ``1 - lam psi`` is carried.
    ``psi0`` is the state after ``start`` steps (to continue a path in chunks; the
    residual is then recomputed from it, and ``iter_psi_chunks`` carries it instead);
    ``steps`` must all be >= ``start``. ``grad_root``: ``SpectralFactor.grad_root``
    (scale-robust gradient norm). ``progress``: see ``_normalized_steps``.
    """
    steps = np.asarray(steps, dtype=np.int64)
    unit, scale = _normalized_weights(grad_weight, grad_root)
    n_targets = grad_weight.shape[1]
    if psi0 is None:
        fitted = np.zeros((lam.size, n_targets))
    else:
        fitted = lam[:, None] * psi0
    residual = 1.0 - fitted
    order = np.argsort(steps, kind="stable")
    out = np.empty((lam.size, n_targets, steps.size))
    out[:, :, order] = _normalized_steps(
        lam,
        unit,
        scale,
        learning_rate,
        rho,
        steps[order],
        fitted,
        residual,
        start,
        progress,
    )
    return out


def filter_psi(factor, learning_rate, rho, steps, variant, progress=None):
    """Filter values ``psi`` for each step count in ``steps``.

    Returns shape (rank, K) for ``variant="unnormalized"`` (the same for all targets)
    and (rank, n_targets, K) for ``"normalized"``. ``progress``: reported by the
    normalized recursion (the one route whose cost grows with the steps).
    """
    if variant == "normalized" and rho > 0.0:
        if factor.xp is not None:  # another namespace: its vectorised recursion
            return factor.psi_normalized(learning_rate, rho, steps)
        return _psi_normalized(
            factor.lam,
            factor.grad_weight,
            learning_rate,
            rho,
            steps,
            grad_root=factor.grad_root,
            progress=progress,
        )
    return _psi_unnormalized(factor.lam, learning_rate, rho, steps, factor.xp)


def coef_path(factor, learning_rate, rho, steps, variant, progress=None):
    """Coefficients after step count in ``steps``; shape (n_params, n_targets, K).

    ``progress``: see ``filter_psi`` (not reported for another array namespace).
    """
    xp = np if factor.xp is None else factor.xp  # the same in any namespace
    psi = filter_psi(factor, learning_rate, rho, steps, variant, progress)
    if psi.ndim == 2:
        psi = psi[:, None, :]
    weighted = psi * factor.proj[:, :, None]
    rank, n_targets, n_steps = weighted.shape
    flat = factor.map_basis(xp.reshape(weighted, (rank, n_targets * n_steps)))
    return xp.reshape(flat, (flat.shape[0], n_targets, n_steps))


def iter_psi_chunks(factor, learning_rate, rho, n_iter, variant, chunk_size=256):
    """Yield ``(steps, psi)`` for consecutive steps ``1..n_iter`` in chunks.

    ``psi`` has shape (rank, n_targets, len(steps)); the normalized recursion carries
    its state from chunk to chunk, so the whole path costs O(rank * n_iter).
    """
    normalized = variant == "normalized" and rho > 0.0
    if normalized and factor.xp is not None:  # another namespace: its recursion
        yield from factor.iter_psi_normalized(learning_rate, rho, n_iter, chunk_size)
        return
    if normalized:
        unit, scale = _normalized_weights(factor.grad_weight, factor.grad_root)
        fitted = np.zeros(factor.grad_weight.shape)
        residual = np.ones(factor.grad_weight.shape)
    for start in range(0, n_iter, chunk_size):
        steps = np.arange(start + 1, min(start + chunk_size, n_iter) + 1)
        if normalized:
            # The state (lam psi, residual) carries over, updated in place: a
            # chunked path is the same recursion, bit for bit, as one call.
            psi = _normalized_steps(
                factor.lam,
                unit,
                scale,
                learning_rate,
                rho,
                steps,
                fitted,
                residual,
                start,
            )
        else:
            psi = _psi_unnormalized(factor.lam, learning_rate, rho, steps, factor.xp)
            psi = psi[:, None, :]
        yield steps, psi


def dof_path(factor, learning_rate, rho, steps, *, psi=None):
    """Effective degrees of freedom of unnormalized SAM after each of ``steps``.

    ``trace`` of the (training) smoother, ``sum_i (1 - r_i^k)`` over the retained
    eigenvalues (the user guide, "Comparing with Ridge; bias and variance"); a fitted
    intercept adds 1. Shape (K,). Normalized SAM is not linear in ``y`` and has no
    smoother. ``psi``: the filter values ``filter_psi(factor, learning_rate, rho, steps,
    "unnormalized")`` if already computed (shared with ``rss_path``).
    """
    if psi is None:
        psi = filter_psi(factor, learning_rate, rho, steps, "unnormalized")
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
    y_sq_norm : ndarray of shape (n_targets,)
        ``||y_s||^2`` per target column.
    sum_weights : float
        ``S``, the sum of the sample weights.
    variant : {"unnormalized", "normalized"}, default="unnormalized"
    psi : ndarray, default=None
        ``filter_psi(factor, learning_rate, rho, steps, variant)`` if already
        computed (e.g. shared with ``dof_path``).
    """
    if psi is None:
        psi = filter_psi(factor, learning_rate, rho, steps, variant)
    if psi.ndim == 2:
        psi = psi[:, None, :]
    lam = factor.lam
    xp = np if factor.xp is None else factor.xp  # the same formulas in any namespace
    # (u_i^T y_s)^2 = S grad_weight_i / lam_i, from grad_root / sqrt(lam) (which
    # scales like y): grad_weight itself leaves the float64 range first.
    root = factor.grad_root / xp.sqrt(xp.abs(lam))[:, None]
    energy = sum_weights * root * root
    kept = 1.0 - lam[:, None, None] * psi
    if xp is np:
        outside = np.asarray(y_sq_norm, dtype=float) - energy.sum(axis=0)
        outside = np.maximum(outside, 0.0)
        return np.einsum("rt,rtk->tk", energy, kept**2) + outside[:, None]
    outside = y_sq_norm - xp.sum(energy, axis=0)
    outside = xp.where(outside > 0.0, outside, xp.zeros_like(outside))
    return xp.sum(energy[:, :, None] * kept**2, axis=0) + outside[:, None]
