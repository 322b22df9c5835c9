"""Shared skeleton of the SAM estimators: parameters, validation, solver choice."""

from itertools import islice
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._core._iterative import (
    sam_iterates,
    sam_loop,
    stochastic_sam_iterates,
    stochastic_sam_loop,
)
from ._core._spectral import filter_psi, iter_psi_chunks
from ._early_stopping import early_stopping
from ._stability import (
    check_finite,
    resolve_learning_rate,
    warn_if_indefinite,
    warn_if_kernel_loss_grew,
    warn_if_loss_grew,
)

__all__ = ["BaseSAM"]

# Cost of one step of the exact normalized recursion (numpy call overhead), in ns.
_NS_RECURSION_STEP = 5_000.0
# Iterates of the explicit loop whose test predictions are formed in one product.
_LOOP_CHUNK = 64


class ScaledFit(NamedTuple):
    """The scaled problem of validated data, ready to solve (see ``_design.py``).

    ``factor`` is the ``SpectralFactor`` for the spectral solver and ``None`` for the
    iterative one; ``lam_max`` is the top eigenvalue used by the learning rate.
    """

    op: object
    y_scaled: np.ndarray
    y_offset: np.ndarray
    sw: np.ndarray
    sqrt_sw: np.ndarray | None
    factor: object
    lam_max: float
    solver: str


class BaseSAM(RegressorMixin, BaseEstimator):
    """Base class: fits SAM on the scaled problem given by ``_make_operator``.

    Subclasses implement ``_validate_fit_input``, ``_make_operator``,
    ``_store_solution`` and ``_test_map`` (see ``SAMRegressor`` and ``SAMKernelRidge``).
    """

    _parameter_constraints: dict = {
        "rho": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "variant": [StrOptions({"unnormalized", "normalized"})],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "spectral", "iterative"})],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    }

    # ------------------------------------------------------------------ fitting
    def _fit_full(self, X, y, sample_weight):
        """Validate, build the scaled problem, solve; returns the operator state."""
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight)
        n_iter, self.validation_score_ = int(self.n_iter), None
        if self.early_stopping:
            n_iter, self.validation_score_ = early_stopping(self, X, y, sample_weight)

        fit = self._scaled_fit(X, y, sample_weight)
        op, y_scaled, y_offset, factor = fit.op, fit.y_scaled, fit.y_offset, fit.factor
        sw, sqrt_sw, solver = fit.sw, fit.sqrt_sw, fit.solver
        rho = float(self.rho)
        learning_rate = self._resolve_learning_rate(fit.lam_max, rho)
        rng = None if self.batch_size is None else check_random_state(self.random_state)
        batch_stream = self._batch_stream(rng, sample_weight)

        # Past the stability limit the iterates overflow; that is reported once, by
        # the ConvergenceWarning above and the ValueError of _check_finite.
        with np.errstate(over="ignore", invalid="ignore"):
            if factor is not None:
                psi = filter_psi(factor, learning_rate, rho, [n_iter], self.variant)
                coef = factor.coef(psi[..., 0])
                if op.rkhs:
                    warn_if_indefinite(
                        factor, learning_rate, rho, self.variant, stacklevel=3
                    )
            elif self.batch_size is None:
                coef = sam_loop(op, y_scaled, learning_rate, rho, n_iter, self.variant)
                if op.rkhs:
                    warn_if_kernel_loss_grew(
                        op,
                        y_scaled,
                        coef,
                        learning_rate,
                        fit.lam_max,
                        rho,
                        self.variant,
                    )
            else:
                coef = stochastic_sam_loop(
                    op,
                    y_scaled,
                    learning_rate,
                    rho,
                    n_iter,
                    self.variant,
                    self.batch_size,
                    rng,
                    sample_weight,
                )
                self._check_stochastic_descent(op, y_scaled, coef)
        self._check_finite(coef)

        self.learning_rate_ = learning_rate
        self.n_iter_ = n_iter
        self.solver_ = solver
        self._y_offset = y_offset
        self._path_state = self._light_path_state(op, y_scaled, factor)
        self._batch_stream_state = batch_stream
        self._store_solution(coef, X, sw, sqrt_sw, y_offset)
        return self

    def _resolve_solver(self, op, n_targets):
        if self.batch_size is not None:
            if self.solver == "spectral":
                raise ValueError(
                    "solver='spectral' does not support batch_size: stochastic SAM "
                    "has no closed form. Use solver='iterative' or 'auto' with "
                    "batch_size, or batch_size=None for the exact spectral solver."
                )
            return "iterative"
        if self.solver != "auto":
            return self.solver
        products_per_step = (2 if self.rho > 0 else 1) * (1 if op.rkhs else 2)
        # The loop needs lam_max first (Lanczos on one vector, or a Gram matrix).
        if hasattr(op, "top_eigenvalue_cost"):
            setup = op.top_eigenvalue_cost()
        else:
            setup = 60 * (1 if op.rkhs else 2) * op.product_cost()
        iterative = setup + self.n_iter * products_per_step * op.product_cost(n_targets)
        spectral = op.spectral_cost()
        if self.variant == "normalized" and self.rho > 0:
            spectral += self.n_iter * _NS_RECURSION_STEP
        return "spectral" if spectral <= iterative else "iterative"

    def _batch_stream(self, rng, sample_weight):
        """The mini-batch stream: ``(rng_state, sample_weight)``, None for full batch.

        ``rng_state`` is a snapshot of ``rng`` before any batch is drawn, so that
        ``staged_predict`` replays exactly the batches of ``fit``.
        """
        if self.batch_size is None:
            return None
        return rng.get_state(), sample_weight

    def _loop_iterates(self, op, y_scaled, learning_rate, n_iter, batch_stream):
        """``(step, coef)`` of the explicit loop: full batch, or mini-batch SAM.

        Mini-batches are replayed from the snapshot in ``batch_stream``.
        """
        if batch_stream is None:
            return sam_iterates(
                op, y_scaled, learning_rate, self.rho, n_iter, self.variant
            )
        rng_state, sample_weight = batch_stream
        rng = np.random.RandomState()
        rng.set_state(rng_state)
        return stochastic_sam_iterates(
            op,
            y_scaled,
            learning_rate,
            self.rho,
            n_iter,
            self.variant,
            self.batch_size,
            rng,
            sample_weight,
        )

    def _resolve_learning_rate(self, lam_max, rho):
        # fit -> _fit_full -> here: the warning points at the user's fit call
        return resolve_learning_rate(
            self.learning_rate, lam_max, rho, self.variant, stacklevel=4
        )

    def _check_stochastic_descent(self, op, y_scaled, coef):
        """Warn when mini-batch SAM ends above the training loss of its start.

        The stability limit checked in advance is the full-batch one; mini-batch
        Hessians are larger, so smaller batches may need a smaller step.
        """
        if self.batch_size >= op.n_samples:
            return
        warn_if_loss_grew(
            op,
            y_scaled,
            coef,
            f"Stochastic SAM with batch_size={self.batch_size} ended with a larger "
            "training loss than its starting point (coefficients 0): the step "
            "is too large for mini-batches of this size (they diverge, or their "
            "noise dominates). Lower learning_rate; learning_rate='auto' and "
            "the stability limit are those of full-batch SAM, and smaller "
            "batches need smaller steps.",
            stacklevel=4,
        )

    @staticmethod
    def _light_path_state(op, y_scaled, factor):
        """What ``staged_predict`` needs later: the factor alone when there is one.

        Keeping the operator would keep a centred copy of the training data in every
        fitted model; only the explicit loop (no factor) has to replay from it.
        """
        if factor is None:
            return (op, y_scaled, None)
        return (None, None, factor)

    def _test_design(self, X):
        """The dense matrix of ``_test_map(X)`` where it is one, else None."""
        return None

    _check_finite = staticmethod(check_finite)

    def _validate_fit_data(self, X, y, sample_weight):
        """Validated ``X``, ``y`` of shape (n_samples, n_targets), weights or None."""
        X, y = self._validate_fit_input(X, y)
        self._y_ndim = y.ndim
        self._output_dtype = X.dtype  # float32 input gives float32 predictions
        y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return X, y, sample_weight

    def _scaled_fit(self, X, y, sample_weight, solver=None):
        """Build the scaled problem (DESIGN.md section 1) and factor it if spectral.

        ``X``, ``y`` (n_samples, n_targets) and ``sample_weight`` (array or None) are
        already validated. Shared by ``fit``, early stopping, the paths and the CV
        estimators (``solver="spectral"`` forces one decomposition).
        """
        sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        sum_weights = float(sw.sum())
        if not sum_weights > 0.0:
            raise ValueError("The sum of sample_weight must be positive.")
        sqrt_sw = None if sample_weight is None else np.sqrt(sw)
        if self.fit_intercept:
            y_offset = np.average(y, axis=0, weights=sw)
        else:
            y_offset = np.zeros(y.shape[1])
        op = self._make_operator(X, sw, sqrt_sw, sum_weights)
        y_scaled = y - y_offset
        if sqrt_sw is not None:
            y_scaled = y_scaled * sqrt_sw[:, None]
        if solver is None:
            solver = self._resolve_solver(op, y.shape[1])
        if solver == "spectral":
            factor = op.factor(y_scaled)
            lam_max = factor.lam_max
        else:
            factor, lam_max = None, op.top_eigenvalue()
        return ScaledFit(op, y_scaled, y_offset, sw, sqrt_sw, factor, lam_max, solver)

    def _path_prediction_chunks(
        self, op, y_scaled, factor, test_map, learning_rate, n_iter, batch_stream=None
    ):
        """Yield ``(steps, pred)`` for steps ``1..n_iter`` of the path, in chunks.

        ``pred`` (n_test, n_targets, len(steps)) are the centred predictions
        ``test_map(coef_k)``: from the factor in vectorised chunks (spectral), or by
        stepping the loop (iterative; mini-batches replayed from ``batch_stream``).
        """
        if factor is not None:
            projected = test_map(factor.basis)
            for steps, psi in iter_psi_chunks(
                factor, learning_rate, self.rho, n_iter, self.variant
            ):
                weighted = psi * factor.proj[:, :, None]
                rank, n_targets, n_steps = weighted.shape
                pred = projected @ weighted.reshape(rank, n_targets * n_steps)
                yield steps, pred.reshape(-1, n_targets, n_steps)
        else:
            # Test predictions of a chunk of iterates in one product: a BLAS-3 call,
            # and no switch between the thread pools of scipy's dsymv (the kernel
            # loop) and numpy's products at every step (benchmarks/README.md,
            # bench_eigh.py).
            iterates = self._loop_iterates(
                op, y_scaled, learning_rate, n_iter, batch_stream
            )
            # Copied as they come: mini-batch SAM updates its coef in place.
            while chunk := [(k, c.copy()) for k, c in islice(iterates, _LOOP_CHUNK)]:
                steps = np.array([step for step, _ in chunk])
                stacked = np.stack([coef for _, coef in chunk], axis=-1)
                n_params, n_targets, n_steps = stacked.shape
                pred = test_map(stacked.reshape(n_params, n_targets * n_steps))
                yield steps, pred.reshape(-1, n_targets, n_steps)

    # --------------------------------------------------------------- prediction
    def predict(self, X):
        """Predict with the model after ``n_iter_`` steps.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (for ``kernel="precomputed"``, the kernel between them and the
            training samples).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        return self._predict(self._validate_predict_input(X))

    def staged_predict(self, X):
        """Yield the predictions after steps ``1, 2, ..., n_iter_``.

        The spectral solver evaluates the exact path in vectorised chunks from the
        decomposition made during ``fit`` (no stepping); the iterative solver reruns
        the loop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        test_map = self._test_map(self._validate_predict_input(X))
        op, y_scaled, factor = self._path_state
        offset = self._y_offset
        for _, pred in self._path_prediction_chunks(
            op,
            y_scaled,
            factor,
            test_map,
            self.learning_rate_,
            self.n_iter_,
            self._batch_stream_state,
        ):
            for j in range(pred.shape[2]):
                yield self._format_prediction(pred[:, :, j] + offset)

    def _format_prediction(self, pred):
        pred = pred.astype(self._output_dtype, copy=False)
        return pred[:, 0] if self._y_ndim == 1 else pred
