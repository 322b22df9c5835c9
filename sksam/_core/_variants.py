"""The SAM variants as a declared family: what a variant is, in one place.

A variant fixes the ascent step of SAM, ``c <- c - eta grad(c + p(c))``, and what
follows from it on a quadratic loss:

- ``ascent(op, grad, rho)``: the image ``A p`` of the perturbation ``p`` for the
  explicit loops (``_iterative``), given the gradient direction ``grad``;
- ``filter(factor, learning_rate, rho, steps)``: the exact filter values ``psi``
  after each of ``steps`` from one eigendecomposition (``_spectral``), and
  ``iter_filter`` for a whole path in chunks; ``has_filter = False`` for a variant
  that has none (the searches then score it with the loop);
- ``linear_in_y``: whether the iterate is a linear smoother of ``y`` (GCV, the
  information criteria and the exact bias-variance decomposition apply);
- the step size: ``auto_learning_rate``, ``largest_stable_learning_rate`` and the
  stability condition the divergence warning names; ``rho_unit``, the scale of
  ``rho`` (``relative_rho``); ``direction_growth`` for the indefiniteness check.

``SpectralVariant`` is the family of linear variants whose step is gradient descent
on a transformed spectrum, ``r_i = 1 - eta mu(lam_i)``: a new one declares
``effective_eigenvalues`` and ``perturbation`` and gets the rest. Unnormalized SAM
(``mu = lam (1 + rho lam)``, ``p = rho g``) is one; normalized SAM (Foret et al.:
``p = rho g / ||g||``) is not linear in ``y`` and runs an exact O(rank)-per-step
recursion in the same eigenbasis. An estimator's ``variant`` is a name of
``VARIANTS`` or a ``SAMVariant`` instance. Pure: imports nothing from scikit-learn.
"""

from abc import ABC, abstractmethod

import numpy as np

from ._namespaces import (
    asarray_like,
    eps_of,
    frexp_exponent,
    full,
    is_numpy,
    ldexp,
    power_of_two_above,
    to_floats,
    zeros,
)

__all__ = [
    "GRADIENT_FLOOR_ULPS",
    "Normalized",
    "RESIDUAL_FLOOR",
    "SAMVariant",
    "SpectralVariant",
    "Unnormalized",
    "VARIANTS",
    "filter_psi",
    "get_variant",
    "iter_psi_chunks",
]


class SAMVariant(ABC):
    """What a SAM variant declares (see the module docstring)."""

    #: The name used in messages and ``variant=`` (a key of ``VARIANTS`` for the
    #: built-in variants).
    name: str = ""
    #: Whether the iterate is linear in ``y`` (a smoother with exact dof).
    linear_in_y: bool = True
    #: Whether ``filter`` gives the exact iterate from one decomposition.
    has_filter: bool = True

    def __repr__(self):
        return repr(self.name) if self.name in VARIANTS else type(self).__name__

    def __eq__(self, other):
        if isinstance(other, str):
            return self.name == other and self.name in VARIANTS
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash((type(self).__name__, self.name))

    @abstractmethod
    def ascent(self, op, grad, rho):
        """``A p``: the image of the perturbation for gradient direction ``grad``
        (n_params, n_targets), ``rho > 0``; ``op`` (a ``RowOperator``) has
        ``xp``, ``apply_gradient``, ``apply``, ``adjoint``, ``rkhs`` and (full
        batch) ``sum_weights``."""

    @abstractmethod
    def auto_learning_rate(self, lam_max, rho):
        """The step of ``learning_rate="auto"``."""

    @abstractmethod
    def largest_stable_learning_rate(self, lam_max, rho):
        """The supremum of the learning rates at which the iteration converges."""

    @abstractmethod
    def stability_condition(self, learning_rate, lam_max, rho):
        """The violated condition, in words, for the divergence warning."""

    def filter(self, factor, learning_rate, rho, steps, progress=None):
        """Filter values ``psi``: (rank, K), or (rank, n_targets, K) when they
        depend on the target."""
        raise NotImplementedError(f"The SAM variant {self!r} has no exact filter.")

    def iter_filter(self, factor, learning_rate, rho, n_iter, chunk_size=256):
        """Yield ``(steps, psi)`` for steps ``1..n_iter`` in chunks; ``psi`` of
        shape (rank, n_targets or 1, len(steps))."""
        for start in range(0, n_iter, chunk_size):
            steps = np.arange(start + 1, min(start + chunk_size, n_iter) + 1)
            psi = self.filter(factor, learning_rate, rho, steps)
            yield steps, (psi[:, None, :] if psi.ndim == 2 else psi)

    def grows_with_steps(self, rho):
        """Whether the exact filter's cost grows with the number of steps."""
        return False

    def rho_unit(self, problem):
        """The scale of ``rho`` on ``problem`` (what ``relative_rho`` multiplies)."""
        lam_max = float(problem.lam_max)
        return 1.0 / lam_max if lam_max > 0.0 else 1.0

    def direction_growth(self, lam, learning_rate, rho):
        """``|r_i|`` of (negative) eigenvalues ``lam`` (numpy, on the host), or
        None when every negative direction grows."""
        return None


class SpectralVariant(SAMVariant):
    """A linear variant whose step is gradient descent on a transformed spectrum.

    On the eigen-direction of eigenvalue ``lam`` the residual is multiplied by
    ``r = 1 - eta mu(lam)`` each step; ``mu`` (``effective_eigenvalues``) must be
    increasing on ``lam >= 0``. A subclass declares ``effective_eigenvalues`` and
    ``perturbation`` (the loop's ascent, consistent with ``mu``).
    """

    @abstractmethod
    def effective_eigenvalues(self, lam, rho):
        """``mu(lam)`` (any namespace, or floats)."""

    @abstractmethod
    def perturbation(self, op, grad, rho):
        """The perturbation ``p`` of the coefficients for gradient ``grad``."""

    def ascent(self, op, grad, rho):
        return op.apply_gradient(self.perturbation(op, grad, rho))

    def auto_learning_rate(self, lam_max, rho):
        # The monotone regime: every direction contracts, none changes sign.
        if lam_max <= 0.0:
            return 1.0
        return 1.0 / self.effective_eigenvalues(lam_max, rho)

    def largest_stable_learning_rate(self, lam_max, rho):
        if lam_max <= 0.0:
            return np.inf
        return 2.0 / self.effective_eigenvalues(lam_max, rho)

    def stability_condition(self, learning_rate, lam_max, rho):
        value = learning_rate * self.effective_eigenvalues(lam_max, rho)
        return f"eta * mu(lam_max) = {value:.6g} >= 2"

    def filter(self, factor, learning_rate, rho, steps, progress=None):
        lam = factor.lam
        return landweber_psi(
            factor.xp,
            lam,
            self.effective_eigenvalues(lam, float(rho)),
            learning_rate,
            steps,
        )

    def direction_growth(self, lam, learning_rate, rho):
        return np.abs(1.0 - learning_rate * self.effective_eigenvalues(lam, rho))


class Unnormalized(SpectralVariant):
    """``c <- c - eta grad(c + rho grad(c))``: ``mu = lam (1 + rho lam)``."""

    name = "unnormalized"

    def effective_eigenvalues(self, lam, rho):
        return lam * (1.0 + rho * lam)

    def perturbation(self, op, grad, rho):
        return rho * grad

    def stability_condition(self, learning_rate, lam_max, rho):
        value = learning_rate * lam_max * (1.0 + rho * lam_max)
        return f"eta * lam_max * (1 + rho * lam_max) = {value:.6g} >= 2"


def landweber_psi(xp, lam, effective, learning_rate, steps):
    """``(1 - r^k) / lam``, ``r = 1 - eta mu``, for each ``k`` of ``steps``; (rank, K).

    ``effective`` is ``mu`` per eigenvalue ``lam`` (``lam (1 + rho lam)`` for
    unnormalized SAM). In the namespace ``xp`` of ``lam``, with the roundoff of
    its dtype. ``1 - r^k = -expm1(k log1p(-a))`` (``a = eta mu``) keeps the digits of
    tiny ``a``; for ``a >= 1`` the direct power is exact enough.
    """
    # Python floats: a numpy scalar would turn another namespace's array into numpy's.
    a = (float(learning_rate) * effective)[:, None]
    if is_numpy(xp):
        k = np.asarray(steps, dtype=float)[None, :]
    else:
        k = asarray_like(xp, [float(v) for v in steps], lam)[None, :]
    eps = eps_of(xp, lam.dtype)
    if bool(xp.all(a <= 1.0 + 4 * eps)):  # the usual (monotone) regime: no masks
        # The auto step gives a = 1 (r = 0) on the top direction, up to rounding: a
        # few ulps above 1 (|r| < 1e-15) count as r = 0. log r = -inf is clipped to a
        # finite value so that k = 0 still gives r^0 = 1, not 0 * inf.
        largest = float(xp.finfo(lam.dtype).max)
        with np.errstate(divide="ignore", over="ignore"):
            log_r = xp.clip(xp.log1p(-xp.clip(a, None, 1.0)), -largest, None)
            psi = log_r * k  # one (rank, K) array; numpy updates it in place
        psi = np.expm1(psi, out=psi) if is_numpy(xp) else xp.expm1(psi)
        psi /= -lam[:, None]
        return psi
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        small = a < 1.0
        log_r = xp.log1p(-xp.where(small, a, xp.zeros_like(a)))
        one_minus_rk = xp.where(small, -xp.expm1(k * log_r), 1.0 - (1.0 - a) ** k)
        one_minus_rk = xp.where(k == 0.0, xp.zeros_like(one_minus_rk), one_minus_rk)
    return one_minus_rk / lam[:, None]


# Unit roundoff of float64, 2^-53: the smallest residual fraction ``|1 - lam psi|``
# that a float64 iterate resolves (see ``Normalized._steps``).
RESIDUAL_FLOOR = 2.0**-53


def gradient_norm(xp, grad, fitted_step, rkhs):
    """Per-column norm of the gradient, ``sqrt(sum g^2)`` or ``sqrt(g^T A g)`` (RKHS).

    Each factor is divided by a power of two near its largest magnitude before the
    squares are summed, so that the norm neither overflows nor underflows where the
    squares would (the gradient scales like ``c^2``, the RKHS product like ``c^4``,
    under data ``(c X, c y)``); the scaling is exact, so elsewhere the norm is the
    plain one, bit for bit. A nonpositive RKHS square (indefinite kernel) gives 0.
    """
    g_exp = frexp_exponent(xp, xp.max(xp.abs(grad), axis=0))
    unit = ldexp(xp, grad, -g_exp)
    if not rkhs:
        return ldexp(xp, xp.sqrt(xp.sum(unit * unit, axis=0)), g_exp)
    f_exp = frexp_exponent(xp, xp.max(xp.abs(fitted_step), axis=0))
    sq = xp.sum(unit * ldexp(xp, fitted_step, -f_exp), axis=0)
    sq = xp.where(sq > 0.0, sq, xp.zeros_like(sq))
    # sqrt(sq 2^total) = sqrt(sq 2^(total & 1)) 2^(total >> 1), each factor exact.
    total = g_exp + f_exp
    return ldexp(xp, xp.sqrt(ldexp(xp, sq, total & 1)), total >> 1)


#: A gradient norm at most ``GRADIENT_FLOOR_ULPS`` unit roundoffs of the targets'
#: scale (``_problem.Problem.gradient_floor``) is rounding and counts as zero.
GRADIENT_FLOOR_ULPS = 64.0


def perturbation_radius(xp, rho, grad, fitted_step, rkhs, floor=None):
    """``rho / ||g||`` per column (0 where ``||g|| <= floor``, default 0: no
    perturbation; ``floor`` per column, see ``GRADIENT_FLOOR_ULPS``)."""
    norm = gradient_norm(xp, grad, fitted_step, rkhs)
    positive = norm > (0.0 if floor is None else floor)
    safe = xp.where(positive, norm, xp.ones_like(norm))
    return xp.where(positive, rho / safe, xp.zeros_like(norm))


class Normalized(SAMVariant):
    """Normalized SAM (Foret et al.): ``p = rho g / ||g||`` (RKHS norm for kernels).

    Not linear in ``y``, but diagonal in the same eigenbasis: only the scalar
    ``||g_k||`` couples the directions, so the exact iterate is an O(rank)-per-step
    recursion (``filter``) after one decomposition.
    """

    name = "normalized"
    linear_in_y = False

    def ascent(self, op, grad, rho):
        # A gradient at rounding level (``op.gradient_floor``) counts as zero: its
        # direction is noise, and normalizing it would take a full rho step.
        xp = op.xp
        floor = op.gradient_floor() if op.gradient_floor is not None else None
        if op.rkhs:  # the RKHS norm needs A g first
            fitted_step = op.apply_gradient(grad)
            radius = perturbation_radius(xp, rho, grad, fitted_step, True, floor)
            return fitted_step * radius
        radius = perturbation_radius(xp, rho, grad, None, False, floor)
        return op.apply_gradient(radius * grad)

    def auto_learning_rate(self, lam_max, rho):
        return 1.0 / lam_max if lam_max > 0.0 else 1.0

    def largest_stable_learning_rate(self, lam_max, rho):
        return 2.0 / lam_max if lam_max > 0.0 else np.inf

    def stability_condition(self, learning_rate, lam_max, rho):
        return f"eta * lam_max = {learning_rate * lam_max:.6g} >= 2"

    def grows_with_steps(self, rho):
        return rho > 0.0

    def rho_unit(self, problem):
        """The length ``||g_0|| / lam_max`` of the first gradient step at
        ``learning_rate="auto"`` (root mean square over targets)."""
        lam_max = float(problem.lam_max)
        if not lam_max > 0.0:
            return 1.0
        factor = problem.factor
        grad_sq = to_floats(factor.xp, factor.xp.sum(factor.grad_weight, axis=0))
        return float(np.sqrt(np.mean(grad_sq))) / lam_max or 1.0 / lam_max

    # ------------------------------------------------------------- the filter
    def filter(self, factor, learning_rate, rho, steps, progress=None):
        """Exact recursion in eigen-coordinates; shape (rank, n_targets, K).

        With ``rho_k = rho / ||g_k||`` (per target column) every direction follows
        ``psi <- psi + eta (1 + rho_k lam) (1 - lam psi)``, O(rank) a step; see
        ``_steps`` for how the residual ``1 - lam psi`` is carried. Any order of
        ``steps``.
        """
        if rho == 0.0:
            return Unnormalized().filter(factor, learning_rate, 0.0, steps)
        steps = [int(k) for k in steps]
        order = sorted(set(steps))
        state = self._start(factor)
        psi = self._steps(factor, learning_rate, rho, order, state, 0, progress)
        if order == steps:
            return psi
        values = dict(zip(order, range(len(order)), strict=True))
        xp = factor.xp
        return xp.stack([psi[:, :, values[k]] for k in steps], axis=-1)

    def iter_filter(self, factor, learning_rate, rho, n_iter, chunk_size=256):
        if rho == 0.0:
            yield from Unnormalized().iter_filter(
                factor, learning_rate, 0.0, n_iter, chunk_size
            )
            return
        # The state (lam psi, residual) carries over: a chunked path is the same
        # recursion, bit for bit, as one call.
        state = self._start(factor)
        for start in range(0, n_iter, chunk_size):
            steps = list(range(start + 1, min(start + chunk_size, n_iter) + 1))
            psi = self._steps(factor, learning_rate, rho, steps, state, start)
            yield np.asarray(steps), psi

    @staticmethod
    def _start(factor):
        """``[unit, scale, fitted, residual]`` at step 0.

        ``grad_weight`` per column is ``scale**2 * unit``, ``max |unit| <= 1``, with
        ``scale`` the power of two just above the largest ``grad_root`` and ``unit``
        carrying the sign of ``grad_weight`` (negative for the negative eigenvalues
        of an indefinite kernel). Neither squares the data scale, so the gradient
        norm ``scale * sqrt(unit @ e**2)`` neither overflows nor underflows where
        ``sqrt(grad_weight @ e**2)`` would.
        """
        xp, grad_root, grad_weight = factor.xp, factor.grad_root, factor.grad_weight
        n_targets = grad_weight.shape[1]
        if grad_root.shape[0]:
            largest = to_floats(xp, xp.max(grad_root, axis=0))
        else:
            largest = [0.0] * n_targets
        scale = asarray_like(xp, [power_of_two_above(v) for v in largest], grad_root)
        unit = grad_root / scale[None, :]
        unit = unit * unit
        unit = xp.where(grad_weight < 0.0, -unit, unit)
        fitted = zeros(xp, grad_weight.shape, grad_root)
        residual = full(xp, grad_weight.shape, 1.0, grad_root)
        return [unit, scale, fitted, residual]

    @staticmethod
    def _steps(factor, learning_rate, rho, steps, state, start, progress=None):
        """Advance the recursion from ``start``; psi (rank, t, K) at sorted ``steps``.

        ``state`` = ``[unit, scale, fitted, residual]`` is updated in place (the
        last two: ``lam psi`` and ``e = 1 - lam psi``). The residual fraction ``e``
        of each eigen-coordinate is advanced as the iteration advances it,
        multiplicatively:

            a = eta lam (1 + rho_k lam),   lam psi <- lam psi + a e,   e <- e - a e

        ``e`` is never recomputed as ``1 - lam psi``: that difference rounds to 0
        once ``lam psi`` is within half an ulp of 1 (after ~20 steps on the top
        direction at the auto step), and 0 is a fixed point, while the iteration
        itself keeps a residual that grows back once ``rho_k`` makes the top
        direction unstable: normalized SAM then bounces across it.

        ``|e|`` is kept at or above the unit roundoff of the compute dtype
        (``2^-53`` in float64; sign kept): a float64 iterate carries at least that
        much residual in every direction, as rounding noise, and it is what the
        instability amplifies, so the bouncing starts when it does in float64. All
        targets advance together, with no host synchronisation per step.
        ``progress`` (a ``_progress.Progress`` of ``steps[-1] - start`` steps) is
        told of the work every ``progress.block`` steps.
        """
        xp, lam = factor.xp, factor.lam
        learning_rate, rho = float(learning_rate), float(rho)
        unit, scale, fitted, e = state
        eta_lam = (learning_rate * lam)[:, None]
        eta_lam2 = eta_lam * lam[:, None]
        floor_value = max(RESIDUAL_FLOOR, eps_of(xp, lam.dtype) / 2)
        floor = asarray_like(xp, floor_value, lam)
        zero = asarray_like(xp, 0.0, lam)
        # A gradient at rounding level counts as zero (as in ``ascent``): with
        # ||g|| = scale sqrt(sq), ||g|| > floor is sq > (floor / scale)^2. The
        # smallest normal number under the root keeps every division finite.
        grad_floor = getattr(factor, "gradient_floor", None)
        sq_floor = zero if grad_floor is None else (grad_floor / scale) ** 2
        tiny = asarray_like(xp, float(xp.finfo(lam.dtype).smallest_normal), lam)
        out = zeros(xp, (lam.shape[0], fitted.shape[1], len(steps)), lam)
        step = start
        for index, target in enumerate(steps):
            while step < target:
                stop = (
                    target if progress is None else min(target, step + progress.block)
                )
                while step < stop:
                    # Few array calls a step (their overhead is the cost at small
                    # ranks); in-place where the standard allows it.
                    sq_norm = xp.sum(unit * (e * e), axis=0)
                    radius = rho / (scale * xp.sqrt(xp.maximum(sq_norm, tiny)))
                    radius = xp.where(sq_norm > sq_floor, radius, zero)
                    ae = eta_lam2 * radius
                    ae += eta_lam
                    ae *= e
                    fitted += ae
                    e -= ae
                    e = xp.copysign(xp.maximum(xp.abs(e), floor), e)
                    step += 1
                if progress is not None:
                    progress.update(step - start)
            out[:, :, index] = fitted / lam[:, None]
        state[2], state[3] = fitted, e
        return out


#: The built-in variants by name (the estimators' ``variant`` strings).
VARIANTS = {"unnormalized": Unnormalized(), "normalized": Normalized()}


def get_variant(variant):
    """The ``SAMVariant`` of ``variant`` (a name of ``VARIANTS`` or an instance)."""
    if isinstance(variant, SAMVariant):
        return variant
    try:
        return VARIANTS[variant]
    except (KeyError, TypeError):
        raise ValueError(
            f"variant must be one of {sorted(VARIANTS)} or a SAMVariant instance; "
            f"got {variant!r}."
        ) from None


def filter_psi(factor, learning_rate, rho, steps, variant, progress=None):
    """Filter values of ``variant`` for each step count in ``steps`` (see
    ``SAMVariant.filter``)."""
    variant = get_variant(variant)
    return variant.filter(factor, learning_rate, rho, steps, progress)


def iter_psi_chunks(factor, learning_rate, rho, n_iter, variant, chunk_size=256):
    """Yield ``(steps, psi)`` for steps ``1..n_iter`` in chunks; ``psi`` of shape
    (rank, n_targets or 1, len(steps)) (see ``SAMVariant.iter_filter``)."""
    variant = get_variant(variant)
    yield from variant.iter_filter(factor, learning_rate, rho, n_iter, chunk_size)
