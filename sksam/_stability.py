"""When the SAM iteration diverges: the learning-rate limit, warnings and errors.

Full-batch unnormalized SAM multiplies the residual along eigen-direction ``i`` by
``r_i = 1 - eta lam_i (1 + rho lam_i)`` each step (the spectral filter). It converges
when every ``|r_i| < 1``: for ``lam_i >= 0`` that is the learning-rate limit
``eta lam_max (1 + rho lam_max) < 2``; a negative ``lam_i`` (an indefinite kernel)
gives ``r_i > 1`` at every learning rate (unless ``rho lam_i < -1``). These checks turn
such runs into a ``ConvergenceWarning`` and non-finite coefficients into a
``ValueError``, never silent NaN or inf.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._array_api import array_namespace
from ._core._variants import get_variant
from ._warnings import warn

__all__ = [
    "check_eigenvalue_range",
    "check_output_range",
    "check_finite",
    "diverged_message",
    "resolve_learning_rate",
    "squares_scale",
    "warn_if_indefinite",
    "warn_if_kernel_loss_grew",
    "warn_if_loss_grew",
]

# Eigenvalues below -NEGATIVE_TOL * lam_max are taken as a real loss of positive
# semi-definiteness; rounding in a symmetric eigensolver stays near eps * lam_max.
NEGATIVE_TOL = np.sqrt(np.finfo(np.float64).eps)

_INDEFINITE_HINT = (
    "The SAM loss is then not convex and the iterates grow geometrically along the "
    "negative directions as n_iter grows. Use a positive semi-definite kernel "
    "(sigmoid kernels, for one, are not in general)."
)


_KERNEL_LOSS_GREW = (
    "SAM ended with a larger training loss than its starting point (coefficients 0) "
    "although the learning rate is stable: the kernel matrix is not positive "
    "semi-definite, and the iterates grow along its negative directions. Use a "
    "positive semi-definite kernel (sigmoid kernels, for one, are not in general); "
    "solver='spectral' reports the negative eigenvalues."
)


def resolve_learning_rate(learning_rate, lam_max, rho, variant):
    """The step for ``learning_rate`` ("auto" or a float); warns past the limit."""
    variant = get_variant(variant)
    if isinstance(learning_rate, str) and learning_rate == "auto":
        return float(variant.auto_learning_rate(lam_max, rho))
    learning_rate = float(learning_rate)
    limit = variant.largest_stable_learning_rate(lam_max, rho)
    if learning_rate >= limit:
        condition = variant.stability_condition(learning_rate, lam_max, rho)
        warn(
            f"learning_rate={learning_rate:.6g} is not stable for rho={rho:.6g}: "
            f"{condition}, so the iterates do not converge and grow "
            "geometrically. The largest stable learning rate is "
            f"{limit:.6g} (use learning_rate='auto' for the monotone regime).",
            ConvergenceWarning,
        )
    return learning_rate


_NOT_FINITE = "are not finite"

_UNSTABLE_STEP_TEMPLATE = (
    "SAM diverged: the coefficients {what}. Lower learning_rate below the "
    "largest stable value named in the ConvergenceWarning, or use "
    "learning_rate='auto'."
)
_UNSTABLE_STEP = _UNSTABLE_STEP_TEMPLATE.format(what=_NOT_FINITE)

_INDEFINITE_OVERFLOW = (
    "SAM diverged: the coefficients {what}. The kernel matrix is not "
    "positive semi-definite (see the ConvergenceWarning), and the iterates grew "
    "along its negative eigen-directions until they overflowed; lowering "
    "learning_rate does not help. Use a positive semi-definite kernel."
)

_RANGE_OVERFLOW = (
    "The coefficients {what} although the learning rate is stable "
    "({detail}): the numbers of this problem leave the {dtype} range. Rescale "
    "X and y (e.g. sklearn.preprocessing.StandardScaler){hint}, or lower n_iter."
)


def diverged_message(
    learning_rate, lam_max, rho, variant, indefinite=False, dtype="float64"
):
    """Why SAM's coefficients are not finite, naming the actual cause.

    ``dtype``: the name of the dtype the coefficients left (``"float32"``: they
    are finite in float64 but not representable in the dtype of ``X``, in which
    they are returned; ``check_output_range``).
    """
    what = _NOT_FINITE
    hint = ""
    if dtype != "float64":
        what = f"leave the {dtype} range (the dtype of X, in which they are returned)"
        hint = ", pass float64 X"
    limit = get_variant(variant).largest_stable_learning_rate(lam_max, rho)
    if learning_rate >= limit:
        return _UNSTABLE_STEP_TEMPLATE.format(what=what)
    if indefinite:
        return _INDEFINITE_OVERFLOW.format(what=what)
    return _RANGE_OVERFLOW.format(
        what=what,
        detail=f"learning_rate={learning_rate:.6g} < {limit:.6g}, the limit",
        dtype=dtype,
        hint=hint,
    )


def check_output_range(arrays, xp, dtype, message):
    """Raise a ``ValueError`` when the float64 ``arrays`` of a model (coefficients,
    intercept) do not fit in ``dtype`` (that of ``X``, in which the model is
    returned: float32 would make them ``inf``). ``message(dtype_name)`` is the
    error (``Problem.diverged_message``)."""
    info = xp.finfo(dtype)
    if info.bits >= 64:
        return
    largest = max(float(xp.max(xp.abs(xp.asarray(a)))) for a in arrays)
    if not largest <= float(info.max):
        name = "float16" if info.bits == 16 else "float32"
        raise ValueError(message(name))


def check_finite(coef, message=_UNSTABLE_STEP):
    """Raise a ``ValueError`` (``message``, see ``diverged_message``) on non-finite
    coefficients."""
    xp, _ = array_namespace(coef)
    if not bool(xp.all(xp.isfinite(coef))):
        raise ValueError(message)


def check_eigenvalue_range(lam_max, data_max, kernel=False):
    """Raise a clear error when the problem's eigenvalues are not representable.

    ``lam_max`` is the largest eigenvalue of the scaled Gram (or kernel) matrix,
    ``data_max`` the largest magnitude in the scaled data it was formed from (a
    callable, evaluated only when ``lam_max`` is suspicious). The eigenvalues
    scale like the square of the data (``(c X, c y)``: ``c^2``); beyond about
    ``1e+-154`` they leave the float64 range, and the learning rate, which scales
    like ``1 / c^2``, with them.

    No positive eigenvalue from data whose squares do not underflow is not a range
    problem: a Gram matrix is then zero (a centred design of identical rows; sparse
    ``data_max`` reads the raw, uncentred entries), which is the intercept-only
    model, and a ``kernel`` matrix is negative semi-definite (raises).
    """
    if np.isfinite(lam_max) and lam_max >= _SMALLEST_EIGENVALUE:
        return
    if np.isfinite(lam_max) and lam_max > 0.0:
        cause = (
            f"its largest eigenvalue, {lam_max:.3g}, is below the normal float64 "
            "range (the squares of the data underflow)"
        )
    elif not np.isfinite(lam_max):
        cause = "its eigenvalues overflow float64 (the squares of the data do)"
    else:
        largest = data_max()
        if not largest > 0.0:
            return  # an all-zero (or constant) design: nothing to fit
        if largest >= _SQUARES_UNDERFLOW:
            if not kernel:
                return  # a zero centred design: the intercept-only model
            raise ValueError(
                "The kernel matrix has no positive eigenvalue: it is negative "
                f"semi-definite (largest eigenvalue {lam_max:.3g}, entries up to "
                f"{largest:.3g} in magnitude), so SAM cannot fit it. Is its sign "
                "flipped (e.g. a precomputed -K, or a callable kernel returning "
                "minus a positive semi-definite kernel)? Use a positive "
                "semi-definite kernel."
            )
        cause = (
            f"its eigenvalues underflow to 0 although the data do not (largest "
            f"magnitude {largest:.3g}; their squares underflow)"
        )
    raise ValueError(
        f"The Gram (or kernel) matrix of the data is not representable in float64: "
        f"{cause}. SAM's iterates are invariant to rescaling the data (with the "
        "learning rate and rho rescaled), so rescale X, e.g. with "
        "sklearn.preprocessing.StandardScaler."
    )


# Eigenvalues below this are subnormal or close to it (their products with the
# learning rate lose digits): 2^-1000, about 9e-302.
_SMALLEST_EIGENVALUE = 2.0**-1000
# Data at least this large have squares well inside the float64 range: 2^-480,
# about 3e-145 (a sum of squares of n of them, over S, stays above
# _SMALLEST_EIGENVALUE).
_SQUARES_UNDERFLOW = 2.0**-480


def warn_if_indefinite(
    lam, lam_max, learning_rate, rho, variant, tol=NEGATIVE_TOL, n_iter=None, floor=0.0
):
    """Warn when a kernel's eigenvalues ``lam`` (numpy, on the host) have clearly
    negative values that diverge.

    With ``n_iter``, an unnormalized direction counts only if it at least doubles
    over the ``n_iter`` steps (``|r_i|^n_iter > 2``). ``tol``: eigenvalues below
    ``-tol * lam_max`` count (the square root of the
    machine epsilon of the kernel's precision; a float32 kernel is rounded at
    ~1e-7). ``floor``: the absolute rounding level of the eigenvalues (that of
    the kernel's centring, see ``kernel_problem``); eigenvalues above ``-floor``
    never count. A variant with a fixed ``r_i`` (``SAMVariant.direction_growth``):
    directions with ``|r_i| > 1``. Normalized SAM (``r_i`` changes with the gradient
    norm): any eigenvalue below ``-tol * lam_max``. Returns whether it warned.
    """
    negative = lam < -max(tol * max(lam_max, 0.0), floor)
    if not np.any(negative):
        return False
    growth = get_variant(variant if rho > 0.0 else "unnormalized").direction_growth(
        lam[negative], learning_rate, rho
    )
    if growth is not None:
        # Over n_iter steps a direction with |r| = 1 + d behaves as a null direction
        # (psi ~ k eta) while n_iter d << 1: it matters once |r|^n_iter > 2.
        limit = 1.0 if n_iter is None else 2.0 ** (1.0 / max(int(n_iter), 1))
        if not np.any(growth > limit):
            return False
    if lam_max > max(floor, -tol * lam.min()):
        extent = (
            f"{int(np.sum(negative))} of its eigenvalues are negative, the smallest "
            f"{lam.min() / lam_max:.3g} times the largest"
        )
    else:
        extent = (
            f"none of its eigenvalues is clearly positive, and {int(np.sum(negative))}"
            f" are negative, down to {lam.min():.3g} (is the kernel's sign flipped?)"
        )
    warn(
        f"The kernel matrix is not positive semi-definite: {extent}. "
        + _INDEFINITE_HINT,
        ConvergenceWarning,
    )
    return True


def warn_if_kernel_loss_grew(op, y_scaled, coef, learning_rate, lam_max, rho, variant):
    """The explicit loop's check for an indefinite kernel (it has no eigenvalues).

    With a stable step on a positive semi-definite kernel the training loss never
    rises above that of the start, so ending above it means negative directions.
    """
    limit = get_variant(variant).largest_stable_learning_rate(lam_max, rho)
    if learning_rate >= limit:
        return  # already warned about; the loss says nothing more
    xp, _ = array_namespace(coef)
    if bool(xp.all(xp.isfinite(coef))):
        # A rise within the rounding of the targets is no evidence (a constant
        # target centres to rounding): the residual of the gradient floor.
        tol = 0.0
        if op.gradient_floor is not None and lam_max > 0.0:
            floor = op.gradient_floor()
            tol = float(op.sum_weights) * (floor * floor) / lam_max
        warn_if_loss_grew(op, y_scaled, coef, _KERNEL_LOSS_GREW, tol)


def squares_scale(largest):
    """A power of two ``c`` such that sums of squares of numbers up to ``largest``
    times ``c`` stay in the float64 range: 1 where they do already (``largest``
    below ``2^400``), so that the scaling is exact and usually a no-op."""
    largest = float(largest)
    if not (np.isfinite(largest) and largest > _SQUARES_OVERFLOW):
        return 1.0
    return 2.0 ** -int(np.frexp(largest)[1])


# Squares of numbers up to 2^400 (sums of up to 2^200 of them) stay in range.
_SQUARES_OVERFLOW = 2.0**400


def warn_if_loss_grew(op, y_scaled, coef, message, tol=0.0):
    """Warn with ``message`` when ``coef`` has a larger training loss than 0 (by
    more than ``tol``, per target)."""
    xp, _ = array_namespace(coef)
    residual = op.apply(coef) - y_scaled
    # the comparison in a scale whose squares do not overflow (targets near 1e200)
    c = squares_scale(xp.max(xp.abs(y_scaled))) if y_scaled.shape[0] else 1.0
    with np.errstate(over="ignore"):  # a diverged residual: inf, as it should be
        loss = xp.sum((residual * c) ** 2, axis=0)
    if bool(xp.any(loss > xp.sum((y_scaled * c) ** 2, axis=0) + tol * c * c)):
        warn(message, ConvergenceWarning)
