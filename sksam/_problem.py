"""The weighted, centred least-squares problem: built once, decomposed once.

Every route of sksam (``fit``, ``staged_predict``, the paths, early stopping, the CV
and IC searches, the bias-variance curves, dask) goes through a ``Problem``. It is
built by the pure functions ``linear_problem``, ``kernel_problem`` and
``moment_problem`` from validated data, and owns what the data fix: the weights, the
centring, the target offsets, the map from the scaled coefficients to the model's
(``coef_`` or ``dual_coef_``, and ``intercept_``), and the one eigendecomposition
(``factor``, made on first use and kept). Nothing else decomposes.

With ``D = diag(s)`` and ``S = sum(s)`` the scaled problem is

    minimise  ||A c - y_s||^2 / (2 S),     y_s = D^1/2 (y - y_mean),

``A = D^1/2 (X - 1 x_mean^T)`` for the linear model and ``A = D^1/2 K_c D^1/2`` for
the kernel model (see the user guide, "Update rules and conventions").

One implementation for every array namespace: the data's arrays (numpy, torch,
CuPy, array-api-strict) stay in their namespace and on their device, and every
check (weights, finiteness, cancellation, the negative-eigenvalue floor, the range
of the eigenvalues, divergence) is written once, here and in ``_stability``.
"""

import copy
import weakref

import numpy as np
from scipy import sparse

from ._array_api import array_namespace, to_numpy
from ._core._namespaces import asarray_like, astype, eps_of, full, index_array, zeros
from ._core._operators import GramDesign, ScaledDesign, ScaledKernel
from ._core._spectral import coef_path, dof_path, rss_path
from ._core._variants import GRADIENT_FLOOR_ULPS, get_variant
from ._dask import is_dask_collection
from ._dask_moments import reduce_row_moments
from ._kernel_matrix import kernel_origin, kernel_precision, training_kernel
from ._outputs import KernelOutput, LinearOutput
from ._stability import (
    NEGATIVE_TOL,
    check_eigenvalue_range,
    diverged_message,
    resolve_learning_rate,
    warn_if_indefinite,
)
from ._warnings import warn

__all__ = [
    "KernelOutput",
    "LinearOutput",
    "Problem",
    "kernel_data_problem",
    "kernel_problem",
    "linear_problem",
    "moment_problem",
]


class Problem:
    """A weighted, centred least-squares problem and its one decomposition.

    Built by ``linear_problem``, ``kernel_problem`` or ``moment_problem``.

    Parameters
    ----------
    op : ScaledOperator
        The scaled operator ``A`` (``ScaledDesign``, ``ScaledKernel`` or, for data
        known through its moments, ``GramDesign``).
    y_scaled : ndarray of shape (n_samples, n_targets) or None
        ``y_s`` (None when only moments are known).
    y_offset : ndarray of shape (n_targets,)
        Weighted target means (zeros without an intercept).
    output : LinearOutput or KernelOutput
    fit_intercept : bool
    y_sq_norm : ndarray of shape (n_targets,), default=None
        ``||y_s||^2`` (computed from ``y_scaled`` when None).
    sample_weight : ndarray of shape (n_samples,), default=None
        The sample weights (None: unit weights); the problem owns them (the
        mini-batches of stochastic SAM draw from them).

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._problem import linear_problem
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> problem = linear_problem(X, np.array([[1.0], [2.0], [3.0]]), None, True)
    >>> coef = problem.spectral_coefs(1.0, 0.0, [1000], "unnormalized")[:, :, 0]
    >>> coefficients, intercept = problem.to_model(coef)
    >>> round(float(coefficients[0, 0]), 6), round(float(intercept[0]), 6)
    (1.0, 1.0)
    """

    def __init__(
        self,
        op,
        y_scaled,
        y_offset,
        output,
        fit_intercept,
        y_sq_norm=None,
        sample_weight=None,
    ):
        self.op = op
        self.sample_weight = sample_weight
        self.y_scaled = y_scaled
        self.y_offset = y_offset
        self.output = output
        self.fit_intercept = fit_intercept
        self._y_sq_norm = y_sq_norm
        self._factor = None
        self._lam_max = None
        #: Eigenvalues below ``-negative_tol * lam_max`` are a real loss of positive
        #: semi-definiteness (not rounding of the data's precision).
        self.negative_tol = NEGATIVE_TOL
        #: Eigenvalues above ``-negative_floor`` are rounding (absolute level; that
        #: of a kernel's centring, see ``kernel_problem``).
        self.negative_floor = 0.0
        #: Whether ``check_definite`` found growing negative directions.
        self.indefinite = False
        self._gradient_floor = None
        if op is not None:
            op.gradient_floor = _GradientFloor(self)

    # -------------------------------------------------------------- the data
    @property
    def n_samples(self):
        return self.op.n_samples

    @property
    def n_targets(self):
        return self.y_offset.shape[0]

    @property
    def sum_weights(self):
        return float(self.op.sum_weights)

    @property
    def rkhs(self):
        """Whether this is a kernel problem (gradients in the RKHS metric)."""
        return self.op.rkhs

    @property
    def xp(self):
        """The array namespace of the problem's arrays."""
        return self.output.xp

    @property
    def y_sq_norm(self):
        """``||y_s||^2`` per target: the weighted centred total sum of squares."""
        if self._y_sq_norm is None:
            # inf where the squares overflow (|y| > 1e154): the true value, which
            # the criteria then read as such; no stray numpy warning.
            with np.errstate(over="ignore"):
                self._y_sq_norm = self.xp.sum(self.y_scaled**2, axis=0)
        return self._y_sq_norm

    def gradient_floor(self):
        """Per target, the gradient norm that is rounding: normalized SAM takes no
        perturbation at or below it (``_variants.GRADIENT_FLOOR_ULPS``).

        The (RKHS) gradient ``A^T diag(s) r / S`` has norm at most
        ``sqrt(lam_max) * rms(r)``; the centred residual carries rounding of the
        order of the unit roundoff times the targets' weighted root mean square
        *before* centring (a constant target centres to rounding, not to zero).
        """
        if self._gradient_floor is None:
            xp = self.xp
            if self.y_scaled is None:  # a moments problem: ||y_s||^2 is all there is
                scale = 1.0
                mean_sq = self.y_sq_norm / self.sum_weights
            else:  # scaled by max |y|: the root mean square stays finite
                y = self.y_scaled
                scale = xp.max(xp.abs(y), axis=0) if y.shape[0] else 0.0
                scale = xp.where(scale > 0.0, scale, xp.ones_like(scale))
                mean_sq = xp.sum((y / scale) ** 2, axis=0) / self.sum_weights
            if self.fit_intercept:
                offset = asarray_like(xp, self.y_offset, mean_sq) / scale
                mean_sq = mean_sq + offset * offset
            lam_max = max(float(self.lam_max), 0.0)
            unit = GRADIENT_FLOOR_ULPS * eps_of(xp, mean_sq.dtype) * lam_max**0.5
            self._gradient_floor = unit * scale * xp.sqrt(mean_sq)
        return self._gradient_floor

    # -------------------------------------------------------- decomposition
    @property
    def factor(self):
        """The ``SpectralFactor``: the one eigendecomposition, made on first use."""
        if self._factor is None:
            self._factor = self._decompose(lambda: self.op.factor(self.y_scaled))
            self._factor.gradient_floor = self.gradient_floor()
        return self._factor

    def _decompose(self, compute):
        """``compute()`` (an eigendecomposition), or a clear error when the data's
        squares overflow float64 (the Gram or kernel matrix is then not finite)."""
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return compute()
        # numpy's LinAlgError, torch's (a RuntimeError), ...
        except (np.linalg.LinAlgError, ValueError, ArithmeticError, RuntimeError):
            if self.op is None or self.op.max_abs() < _SQRT_MAX:
                raise
            check_eigenvalue_range(np.inf, self.op.max_abs)

    @property
    def decomposed(self):
        return self._factor is not None

    @property
    def lam_max(self):
        """The top eigenvalue (from the factor if there is one, else Lanczos)."""
        if self._factor is not None:
            return self._factor.lam_max
        if self._lam_max is None:
            self._lam_max = self._decompose(self.op.top_eigenvalue)
        return self._lam_max

    def rho_unit(self, variant):
        """The scale of ``rho`` on this problem (what ``relative_rho`` multiplies).

        ``1 / lam_max`` for unnormalized SAM; for normalized SAM the length
        ``||g_0|| / lam_max`` of the first gradient step at ``learning_rate="auto"``
        (root mean square over targets; it needs the decomposition). ``1.0`` for a
        constant design, on which ``rho`` changes nothing. See
        ``SAMVariant.rho_unit``.
        """
        return get_variant(variant).rho_unit(self)

    def step_size(self, learning_rate, rho, variant):
        """The learning rate used for ``learning_rate`` ("auto" or a float).

        Warns (``ConvergenceWarning``) past the stability limit; raises a
        ``ValueError`` when the eigenvalues (and with them the step) are not
        representable in float64.
        """
        lam_max = self.lam_max
        if self.op is not None:
            check_eigenvalue_range(lam_max, self.op.max_abs, kernel=self.rkhs)
        return resolve_learning_rate(learning_rate, lam_max, rho, variant)

    def check_definite(self, learning_rate, rho, variant, n_iter):
        """Warn when a decomposed kernel grows along negative eigen-directions.

        Every spectral route (fit, paths, CV, IC, bias-variance) comes here through
        ``plan_run``; ``n_iter`` is the largest step count it will use.
        """
        if self.rkhs and self._factor is not None:
            self.indefinite = warn_if_indefinite(
                self._factor.host_eigenvalues(),
                self._factor.lam_max,
                learning_rate,
                rho,
                variant,
                self.negative_tol,
                n_iter,
                self.negative_floor,
            )

    def diverged_message(self, learning_rate, rho, variant, dtype="float64"):
        """The error for non-finite coefficients (or beyond ``dtype``'s range),
        naming the actual cause."""
        return diverged_message(
            learning_rate, self.lam_max, rho, variant, self.indefinite, dtype
        )

    # ------------------------------------------------------------ the paths
    def filter(self, learning_rate, rho, steps, variant):
        """Filter values ``psi`` of ``variant`` (see ``SAMVariant.filter``)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return get_variant(variant).filter(self.factor, learning_rate, rho, steps)

    def spectral_coefs(self, learning_rate, rho, steps, variant, progress=None):
        """Scaled coefficients after each of ``steps``: (n_params, n_targets, K).

        ``progress``: see ``SAMVariant.filter``.
        """
        variant = get_variant(variant)
        with np.errstate(over="ignore", invalid="ignore"):
            return coef_path(self.factor, learning_rate, rho, steps, variant, progress)

    def spectral_coef_chunks(self, learning_rate, rho, steps, variant, chunk_size):
        """Yield ``(index, coefs)``: ``spectral_coefs`` of ``steps[index]`` for
        consecutive slices of at most ``chunk_size`` step counts, so that memory is
        bounded by the model size times ``chunk_size`` (the normalized recursion
        runs once: its filter values, of size ``rank x len(steps)``, are kept)."""
        steps = np.asarray(steps)
        psi = None
        if get_variant(variant).grows_with_steps(rho):
            psi = self.filter(learning_rate, rho, steps, variant)
        factor = self.factor
        xp = factor.xp
        for start in range(0, steps.size, max(int(chunk_size), 1)):
            index = slice(start, min(start + chunk_size, steps.size))
            if psi is None:
                yield (
                    index,
                    self.spectral_coefs(learning_rate, rho, steps[index], variant),
                )
                continue
            weighted = psi[..., index] * factor.proj[:, :, None]
            rank, n_targets, n_steps = weighted.shape
            with np.errstate(over="ignore", invalid="ignore"):
                flat = factor.map_basis(
                    xp.reshape(weighted, (rank, n_targets * n_steps))
                )
            yield index, xp.reshape(flat, (flat.shape[0], n_targets, n_steps))

    def rss(self, learning_rate, rho, steps, variant="unnormalized", psi=None):
        """Weighted training residual sums of squares, shape (n_targets, K).

        Computed in the factor's namespace; returned as a numpy array on the host
        (a few numbers per step: the criteria and GCV are formed there).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            rss = rss_path(
                self.factor,
                learning_rate,
                rho,
                steps,
                y_sq_norm=self.y_sq_norm,
                sum_weights=self.sum_weights,
                variant=get_variant(variant),
                psi=psi,
            )
        return to_numpy(rss)

    def dof(self, learning_rate, rho, steps, psi=None, variant="unnormalized"):
        """Degrees of freedom (trace of the training smoother, +1 with an intercept)
        of a variant linear in ``y``.

        A numpy array on the host, as ``rss``.
        """
        variant = get_variant(variant)
        with np.errstate(over="ignore", invalid="ignore"):
            dof = dof_path(
                self.factor, learning_rate, rho, steps, variant=variant, psi=psi
            )
        return to_numpy(dof) + float(self.fit_intercept)

    def select_targets(self, columns):
        """The problem of the target columns ``columns`` (host integers) alone.

        It shares the operator's data, the weights, the output map and the
        decomposition (made here first for a problem known through its moments,
        whose operator holds every target's ``X^T y``): each column is the problem
        it would be if it were the only target (``Multi-output y``: each column is
        fitted exactly as if alone). The searches' per-target selection refits
        and scores target groups through it.
        """
        if self.y_scaled is None:
            self.factor  # noqa: B018 -- the moments' decomposition, all targets
        xp = self.xp
        index = index_array(xp, columns, self.y_offset)

        def take(array):
            return None if array is None else xp.take(array, index, axis=-1)

        op = None if self.op is None else copy.copy(self.op)  # own gradient floor
        sub = Problem(
            op,
            None if self.y_scaled is None else xp.take(self.y_scaled, index, axis=1),
            take(self.y_offset),
            self.output,
            self.fit_intercept,
            y_sq_norm=None if self._y_sq_norm is None else take(self._y_sq_norm),
            sample_weight=self.sample_weight,
        )
        sub._lam_max = self._lam_max
        sub.negative_tol, sub.negative_floor = self.negative_tol, self.negative_floor
        sub.indefinite = self.indefinite
        if self._factor is not None:
            sub._factor = self._factor.select_targets(index)
            sub._factor.gradient_floor = sub.gradient_floor()
        return sub

    # ---------------------------------------------------------- the model
    def to_model(self, coef):
        """``(coefficients, intercept)`` of the model for scaled ``coef``.

        ``coef`` has shape (n_params, n_targets, ...); the intercept has shape
        (n_targets, ...).
        """
        shift = self.output.intercept_shift(coef)
        offset = self.y_offset[(slice(None),) + (None,) * (shift.ndim - 1)]
        return self.output.coefficients(coef), offset + shift

    def test_map(self, features, overwrite=False):
        """``c -> centred predictions`` on test ``features`` (rows, or test kernel);
        ``overwrite``: the features are a private buffer (numpy outputs only)."""
        return self.output.test_map(features, overwrite=overwrite)

    def centred_design(self, features):
        return self.output.centred_design(features)

    def without_data(self):
        """The same problem keeping only its factor (what a spectral model needs).

        A fitted spectral model keeps this instead of the operator, so that it
        holds no copy of the training data (a basis mapped through the design,
        ``n < d``, keeps the operator's private copy).
        """
        kept = Problem(
            None,
            None,
            self.y_offset,
            self.output,
            self.fit_intercept,
            self._y_sq_norm,
            self.sample_weight,
        )
        kept._factor = self._factor
        kept.indefinite = self.indefinite
        return kept


class _GradientFloor:
    """``problem.gradient_floor`` for the problem's operator, through a weak
    reference: the problem owns its operator, and a bound method would be a
    reference cycle, which keeps every dropped problem (a fold's, with its copy
    of the data) alive until the garbage collector runs.

    An operator can outlive its problem only inside a fitted model's factor
    (``MappedBasis``), which maps coefficients and takes no SAM step; it pickles
    without the problem then (``None``).
    """

    def __init__(self, problem):
        self._problem = None if problem is None else weakref.ref(problem)

    def __call__(self):
        problem = None if self._problem is None else self._problem()
        if problem is None:
            raise RuntimeError("The problem of this operator no longer exists.")
        return problem.gradient_floor()

    def __reduce__(self):
        problem = None if self._problem is None else self._problem()
        return _GradientFloor, (problem,)


# ----------------------------------------------------------------- builders
def _weights(xp, sample_weight, n_samples, like):
    """``(s, S, sqrt(s) or None)`` in ``like``'s namespace, dtype and device; unit
    weights when ``sample_weight`` is None."""
    sw = full(xp, (n_samples,), 1.0, like) if sample_weight is None else sample_weight
    with np.errstate(over="ignore"):  # an overflowing sum is named just below
        sum_weights = float(xp.sum(sw))
    if not sum_weights > 0.0:
        raise ValueError("The sum of sample_weight must be positive.")
    _check_weight_sum(sum_weights)
    return sw, sum_weights, None if sample_weight is None else xp.sqrt(sw)


def _check_weight_sum(sum_weights):
    if not np.isfinite(sum_weights):
        raise ValueError(
            "The sum of sample_weight overflows float64. Only the relative weights "
            "matter (the loss is divided by their sum): rescale sample_weight, e.g. "
            "divide it by its largest value."
        )


_SQRT_MAX = float(np.sqrt(np.finfo(np.float64).max))

# Centring a kernel in feature space cancels its constant part; past this ratio
# of the raw kernel's magnitude to the centred one's (6 of float64's 16 digits)
# the centred kernel, and the model, lose digits that matter.
_CANCELLATION_WARNING = 1e6


def _warn_cancellation(ratio):
    digits = int(np.floor(np.log10(ratio)))
    warn(
        "The kernel matrix is dominated by a constant part: centring it in feature "
        f"space (fit_intercept=True) cancels about {digits} of its 16 significant "
        "digits, and the fitted model loses them. The usual cause is features "
        "with a large common offset (timestamps, say) and a kernel that is not "
        "translation-invariant (the linear and RBF kernels are computed from "
        "centred inputs and do not lose them), or an RBF gamma far below the "
        "inverse of the features' variance. Standardise X first, e.g. "
        "make_pipeline(StandardScaler(), SAMKernelRidge(...)).",
        UserWarning,
    )


def _centred_targets(xp, y, sw, sum_weights, sqrt_sw, fit_intercept):
    if fit_intercept:
        y_offset = (sw @ y) / sum_weights
    else:
        y_offset = zeros(xp, (y.shape[1],), y)
    y_scaled = y - y_offset[None, :]
    if sqrt_sw is not None:
        y_scaled *= sqrt_sw[:, None]
    return y_offset, y_scaled


def _max_abs(xp, array):
    if 0 in array.shape:
        return 0.0
    return max(float(xp.max(array)), -float(xp.min(array)))


def linear_problem(X, y, sample_weight, fit_intercept, overwrite_X=False):
    """The problem of a linear model, in the namespace of ``X``.

    ``y`` and ``sample_weight`` carry the compute dtype (float64, or the widest
    float of the device; see ``_validation``); a dense ``X`` of another dtype is
    copied into it once (that copy is the problem's buffer). With ``overwrite_X``
    a dense ``X`` of the compute dtype is the problem's private buffer, centred
    and scaled in place (the same values as the copy made otherwise).

    Parameters
    ----------
    X : array, sparse matrix or dask array of shape (n_samples, n_features)
        A dask array is reduced to its weighted row moments (``_dask_moments``), and the
        problem is then known through its Gram matrix only.
    y : array (or dask array) of shape (n_samples, n_targets)
    sample_weight : array of shape (n_samples,) or None
    fit_intercept : bool
    overwrite_X : bool, default=False
    """
    if is_dask_collection(X):
        moments = reduce_row_moments(X, y, sample_weight, fit_intercept)
        return moment_problem(moments, fit_intercept, X.shape[0])
    xp, _ = array_namespace(X, y)
    sw, sum_weights, sqrt_sw = _weights(xp, sample_weight, X.shape[0], y)
    y_offset, y_scaled = _centred_targets(
        xp, y, sw, sum_weights, sqrt_sw, fit_intercept
    )
    is_sparse = sparse.issparse(X)
    if not is_sparse and X.dtype != y.dtype:  # the one copy, in the compute dtype
        X, overwrite_X = astype(xp, X, y.dtype), True
    x_mean = None
    if fit_intercept:
        # One matrix-vector product (np.average would form sw * X first).
        x_mean = X.T @ sw
        x_mean = (np.asarray(x_mean).ravel() if is_sparse else x_mean) / sum_weights
    op = ScaledDesign(
        X, sqrt_sw, x_mean, sum_weights, overwrite_X, xp=xp, dtype=y.dtype
    )
    output = LinearOutput(zeros(xp, (X.shape[1],), y) if x_mean is None else x_mean, xp)
    return Problem(
        op, y_scaled, y_offset, output, fit_intercept, sample_weight=sample_weight
    )


def kernel_problem(K, y, sample_weight, fit_intercept, precision=np.float64):
    """The problem of a kernel model; ``K`` is a private buffer, centred in place.

    ``precision`` is the dtype the kernel's values were computed in (a precomputed
    float32 kernel is rounded at ~1e-7): the indefiniteness check tolerates
    negative eigenvalues down to its rounding level.

    Parameters
    ----------
    K : array of shape (n_samples, n_samples)
        The training kernel (compute dtype, symmetric), owned by the problem from
        here on.
    y : array of shape (n_samples, n_targets)
    sample_weight : array of shape (n_samples,) or None
    fit_intercept : bool
    precision : dtype, default=float64
    """
    xp, _ = array_namespace(K, y)
    sw, sum_weights, sqrt_sw = _weights(xp, sample_weight, K.shape[0], y)
    y_offset, y_scaled = _centred_targets(
        xp, y, sw, sum_weights, sqrt_sw, fit_intercept
    )
    raw_max = _max_abs(xp, K)
    if not np.isfinite(raw_max):
        raise ValueError(
            "The kernel matrix has non-finite values (NaN or inf): the kernel is "
            "not defined on this data with these parameters (e.g. a 'poly' kernel "
            "with a non-integer degree on negative inner products), or it "
            "overflows float64."
        )
    if fit_intercept:
        # Weighted centring in feature space: K_c = (I - 1 s^T/S) K (I - s 1^T/S),
        # K_c[i, j] = K[i, j] - kbar_i - kbar_j + kbarbar (two passes over K).
        col_mean = (K @ sw) / sum_weights
        grand_mean = float(sw @ col_mean) / sum_weights
        K -= col_mean[:, None]
        K -= (col_mean - grand_mean)[None, :]
        centred_max = _max_abs(xp, K)
        if raw_max > _CANCELLATION_WARNING * centred_max and centred_max > 0.0:
            _warn_cancellation(raw_max / centred_max)
    else:
        col_mean, grand_mean = zeros(xp, (K.shape[0],), y), 0.0
    output = KernelOutput(
        sqrt_sw, sw / sum_weights, col_mean, grand_mean, fit_intercept, xp=xp
    )
    op = ScaledKernel(K, sqrt_sw, sum_weights, xp=xp)
    problem = Problem(
        op, y_scaled, y_offset, output, fit_intercept, sample_weight=sample_weight
    )
    problem.negative_tol = max(NEGATIVE_TOL, np.sqrt(eps_of(xp, precision)))
    # Rounding of the raw kernel's entries (eps max|K|), carried through the
    # centring and the weights to D^1/2 K_c D^1/2 / S: an error matrix of norm up
    # to n times its largest entry. Negative eigenvalues above it are rounding
    # (one weight of 1e300 leaves a one-sample problem whose centred kernel is
    # rounding only).
    largest_weight = _max_abs(xp, sw)
    problem.negative_floor = (4.0 * eps_of(xp, K.dtype) * raw_max * largest_weight) * (
        K.shape[0] / sum_weights
    )
    return problem


def kernel_data_problem(X, y, sample_weight, fit_intercept, kernel, params):
    """The problem of a kernel model on training rows ``X`` (the square training
    kernel for ``kernel="precomputed"``): the one builder of ``SAMKernelRidge``,
    the kernel classifiers and ``sam_kernel_path``.

    The kernel is computed in the compute dtype from inputs shifted to
    ``kernel_origin`` (digits of a large common offset kept; ``X`` is read only,
    the kernel is the problem's own buffer), then centred and weighted by
    ``kernel_problem``.
    """
    origin = kernel_origin(X, kernel, fit_intercept)
    K = training_kernel(X, kernel, params, origin)
    precision = kernel_precision(X, kernel)
    return kernel_problem(K, y, sample_weight, fit_intercept, precision)


def moment_problem(moments, fit_intercept, n_samples):
    """The linear problem known through its row moments (``_core._moments``)."""
    gram, xty, x_mean, y_mean = moments.centred(fit_intercept)
    if not float(moments.sum_weights) > 0.0:
        raise ValueError("The sum of sample_weight must be positive.")
    _check_weight_sum(float(moments.sum_weights))
    op = GramDesign(gram, xty, float(moments.sum_weights), n_samples)
    y_sq_norm = moments.centred_y_sq_norm(fit_intercept)
    return Problem(
        op, None, y_mean, LinearOutput(x_mean), fit_intercept, y_sq_norm=y_sq_norm
    )
