"""Shared skeleton of the SAM estimators: parameters, validation, solver choice."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._iterative import sam_loop, sam_iterates
from ._spectral import (
    auto_learning_rate,
    filter_psi,
    iter_psi_chunks,
    largest_stable_learning_rate,
    spectral_radius,
)

__all__ = ["BaseSAM"]

# Cost of one step of the exact normalized recursion (numpy call overhead), in ns.
_NS_RECURSION_STEP = 10_000.0


class BaseSAM(RegressorMixin, BaseEstimator):
    """Base class: fits SAM on the scaled problem given by ``_make_operator``.

    Subclasses implement ``_validate_fit_input``, ``_make_operator``, ``_store_solution``
    and ``_test_map`` (see ``SAMRegressor`` and ``SAMKernelRidge``).
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
    }

    # ------------------------------------------------------------------ fitting
    def _fit_full(self, X, y, sample_weight):
        """Validate, build the scaled problem, solve; returns the operator state."""
        X, y = self._validate_fit_input(X, y)
        self._y_ndim = y.ndim
        y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        sw = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
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

        solver = self._resolve_solver(op, y.shape[1])
        rho = float(self.rho)
        factor = None
        if solver == "spectral":
            factor = op.factor(y_scaled)
            lam_max = factor.lam_max
        else:
            lam_max = op.top_eigenvalue()
        learning_rate = self._resolve_learning_rate(lam_max, rho)

        if factor is not None:
            psi = filter_psi(factor, learning_rate, rho, [self.n_iter], self.variant)
            coef = factor.coef(psi[..., 0])
        else:
            coef = sam_loop(
                op, y_scaled, learning_rate, rho, self.n_iter, self.variant
            )
        self._check_finite(coef)

        self.learning_rate_ = learning_rate
        self.n_iter_ = int(self.n_iter)
        self.solver_ = solver
        self._y_offset = y_offset
        self._path_state = (op, y_scaled, factor)
        self._store_solution(coef, X, sw, sqrt_sw, y_offset)
        return self

    def _resolve_solver(self, op, n_targets):
        if self.batch_size is not None:
            raise NotImplementedError("batch_size is not implemented yet.")
        if self.solver != "auto":
            if self.solver == "spectral" and self.batch_size is not None:
                raise ValueError("solver='spectral' does not support batch_size.")
            return self.solver
        products_per_step = (2 if self.rho > 0 else 1) * (1 if op.rkhs else 2)
        lanczos_products = 60 * (1 if op.rkhs else 2)
        iterative = (self.n_iter * products_per_step + lanczos_products) * (
            op.product_cost(n_targets)
        )
        spectral = op.spectral_cost()
        if self.variant == "normalized" and self.rho > 0:
            spectral += self.n_iter * _NS_RECURSION_STEP
        return "spectral" if spectral <= iterative else "iterative"

    def _resolve_learning_rate(self, lam_max, rho):
        if self.learning_rate == "auto":
            return auto_learning_rate(lam_max, rho, self.variant)
        learning_rate = float(self.learning_rate)
        limit = largest_stable_learning_rate(lam_max, rho, self.variant)
        if learning_rate >= limit:
            radius = spectral_radius(lam_max, learning_rate, rho)
            warnings.warn(
                f"learning_rate={learning_rate:.6g} is not stable for rho={rho:.6g}: "
                f"eta * lam_max * (1 + rho * lam_max) = {radius:.6g} >= 2, so the "
                "iterates do not converge and grow geometrically. The largest stable "
                f"learning rate is {limit:.6g} (use learning_rate='auto' for the "
                "monotone regime).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return learning_rate

    @staticmethod
    def _check_finite(coef):
        if not np.all(np.isfinite(coef)):
            raise ValueError(
                "SAM diverged: the coefficients are not finite. Lower learning_rate "
                "below the largest stable value named in the ConvergenceWarning, or "
                "use learning_rate='auto'."
            )

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
        if factor is not None:
            projected = test_map(factor.basis)
            for _, psi in iter_psi_chunks(
                factor, self.learning_rate_, self.rho, self.n_iter_, self.variant
            ):
                weighted = psi * factor.proj[:, :, None]
                rank, n_targets, n_steps = weighted.shape
                pred = projected @ weighted.reshape(rank, n_targets * n_steps)
                pred = pred.reshape(-1, n_targets, n_steps)
                for j in range(n_steps):
                    yield self._format_prediction(pred[:, :, j] + offset)
        else:
            for _, coef in sam_iterates(
                op, y_scaled, self.learning_rate_, self.rho, self.n_iter_, self.variant
            ):
                yield self._format_prediction(test_map(coef) + offset)

    def _format_prediction(self, pred):
        return pred[:, 0] if self._y_ndim == 1 else pred
