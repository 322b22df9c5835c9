"""Shared skeleton of the SAM estimators: the estimator protocol, fit, prediction.

``fit`` = validated data -> a ``Problem`` (``_problem``) -> a ``SAMRun`` at
``n_iter`` (``_run``) -> the fitted state, set in one place (``_set_fitted``) at the
end. Building the problem has no side effect on the estimator.

``BaseSAM`` declares the hooks through which early stopping, the searches
(``_selection``, ``_classification``) and ``bias_variance_decomposition`` drive an
estimator; nothing outside the estimators reads their private state.
"""

from abc import ABCMeta, abstractmethod
from time import perf_counter

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._core._namespaces import astype
from ._doc_link import DocLinkMixin
from ._early_stopping import early_stopping
from ._linear_smoother import SpectralSmoother
from ._params import SAM_CONSTRAINTS
from ._run import plan_run
from ._stability import check_output_range

__all__ = ["BaseSAM"]


class BaseSAM(DocLinkMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the SAM estimators, and the protocol the rest of sksam uses.

    ``BaseSAM`` is neither a regressor nor a classifier: the regressors add
    ``_regression.SAMRegressorMixin``, the classifiers
    ``_classification._classifier.SAMClassifierMixin``, each with its
    ``_score_path``. The model hooks (the data, the problem, the stored model) come
    from ``_linear.LinearSAM`` or ``_kernel.KernelSAM``.

    Hooks each estimator implements (abstract):

    - ``_validate_fit_data(X, y, sample_weight)`` -> ``FitData``: the validated
      training data (``y`` encoded: a classifier's +/-1 indicators). Called by
      ``fit``, the CV and IC searches (``_selection._cv``, ``_selection._ic``), the
      per-split scoring (``_selection._split_scores``) and ``_linear_smoother``.
    - ``_build_problem(X, y, sample_weight, overwrite_X=False)`` -> ``Problem``:
      the weighted, centred problem of validated data (``overwrite_X``: ``X`` is a
      private copy the problem may use as its buffer). Called by ``fit``, early
      stopping, the searches, the per-split scoring and ``_linear_smoother``.
    - ``_test_features(X, X_fit=None)``: what multiplies the model's coefficients
      for validated test rows ``X`` (``X`` itself, or its kernel with the training
      rows ``X_fit``, default ``X_fit_``). Called by ``staged_predict``, early
      stopping, the per-split scoring and ``_linear_smoother``.
    - ``_validate_predict_input(X, method="predict")``: the validated test rows
      (``method`` names the public method in the namespace check). Called by
      ``predict``, ``staged_predict``, the per-split scoring and
      ``_linear_smoother``.
    - ``_store_model(coefficients, intercept, data)``: the model's fitted
      attributes. Called by ``_set_fitted`` only.
    - ``_predict(X)``: the predictions of validated rows. Called by ``predict``.
    - ``_score_path(scoring)`` -> ``ScorePath`` or ``None``: how held-out
      predictions of every step are scored for ``scoring`` (``None``: the
      estimator's ``score``), bound to held-out targets by ``ScorePath.bind``;
      ``None`` where ``scoring`` cannot be scored so (``_score_path``). Called by
      early stopping (``scoring=None``) and the per-split scoring.

    Hooks with a shared implementation (overridable):

    - ``_plan_run(problem, n_iter, solver=None, rho=None)`` ->
      ``SAMRun``: the run of this estimator's settings. Called by ``fit``, early
      stopping, the searches and ``_linear_smoother``.
    - ``_fold_fit_data(data, rows)``: the ``FitData`` of some rows taken from
      validated data, or ``None``. Called by the per-split scoring.
    - ``_reduces_dask(*arrays)``: whether dask input takes the one-pass moment
      route. Called by the CV search.
    - ``_split_feature_maps(data, splits)``: ``None``, or the feature maps
      ``(full_map, split_maps)`` through which the one-pass moment route sees all
      the rows and each split's rows (a Nystroem model's, whose landmarks each
      split draws from its training rows). Called by the CV search on dask.
    - ``_set_fitted(data, run, coef, n_iter, ...)``: the one writer of fitted
      state. Called by ``fit``, the per-candidate scoring and the searches' refit.
    - ``_linear_smoother(X_train, y_train, X_test, sample_weight=None)`` ->
      ``SpectralSmoother``: this estimator as a linear smoother of ``y``, in the
      eigenbasis of its training problem. Called by ``bias_variance_decomposition``
      (``method="exact"``).
    - ``_initial_offset()``: the prediction after 0 steps (the intercept-only
      model), per target. Called by ``bias_variance_decomposition``'s staged
      curves.
    """

    _parameter_constraints: dict = dict(SAM_CONSTRAINTS)

    # ------------------------------------------------------- the abstract hooks
    @abstractmethod
    def _validate_fit_data(self, X, y, sample_weight):
        """The validated training data: a ``_validation.FitData``."""

    @abstractmethod
    def _build_problem(self, X, y, sample_weight, overwrite_X=False):
        """The ``Problem`` of validated training data."""

    @abstractmethod
    def _test_features(self, X, X_fit=None):
        """What multiplies the coefficients for the validated test rows ``X``."""

    @abstractmethod
    def _validate_predict_input(self, X, method="predict"):
        """The validated test rows ``X``."""

    @abstractmethod
    def _store_model(self, coefficients, intercept, data):
        """Set the model's attributes from its coefficients and intercept."""

    @abstractmethod
    def _predict(self, X):
        """The predictions of the validated rows ``X``."""

    @abstractmethod
    def _score_path(self, scoring):
        """The (unbound) ``ScorePath`` of ``scoring``, or ``None``."""

    # -------------------------------------------------------------------- fit

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_iter`` SAM steps from zero.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; each column is fitted as if alone.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is averaged by their sum.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        start = perf_counter()
        data = self._validate_fit_data(X, y, sample_weight)
        problem = self._build_problem(data.X, data.y, data.sample_weight)
        # ``rho`` in absolute units (``rho_unit_`` times ``rho``), from all the
        # training data: early stopping's held-out fit uses the same radius.
        rho_unit = self._rho_unit(problem)
        rho = float(self.rho) * rho_unit
        n_iter, validation_score = int(self.n_iter), None
        if self.early_stopping:
            n_iter, validation_score = early_stopping(self, data, rho)
        run = self._plan_run(problem, n_iter, rho=rho)
        coef = run.coef(n_iter)
        if self.verbose > 0 and not run.grows_with_steps():
            print(
                f"[{type(self).__name__}] spectral solver: n_iter={n_iter} from one "
                f"decomposition, fit in {perf_counter() - start:.2f} s",
                flush=True,
            )
        return self._set_fitted(
            data, run, coef, n_iter, validation_score, rho_unit=rho_unit
        )

    def _rho_unit(self, problem):
        """What ``rho`` is multiplied by: ``problem.rho_unit`` with
        ``relative_rho``, else 1."""
        if not self.relative_rho:
            return 1.0
        return problem.rho_unit(self.variant)

    def _plan_run(self, problem, n_iter, solver=None, rho=None):
        """The ``SAMRun`` of this estimator's settings on ``problem``.

        ``rho``: the absolute radius (default: ``self.rho`` in the units of
        ``problem``, see ``relative_rho``).
        """
        if rho is None:
            rho = float(self.rho) * self._rho_unit(problem)
        return plan_run(
            problem,
            rho=rho,
            learning_rate=self.learning_rate,
            variant=self.variant,
            solver=self.solver if solver is None else solver,
            n_iter=n_iter,
            batch_size=self.batch_size,
            random_state=self.random_state,
            verbose=self.verbose,
            label=type(self).__name__,
        )

    def _fold_fit_data(self, data, rows):
        """``_validate_fit_data`` of the rows ``rows`` of the validated ``data``,
        taken from it, or ``None`` where only validating those rows can tell.

        A search validates its data once and takes each split's rows from it: for a
        dense numpy ``X`` validation is elementwise (dtype, finiteness), as it is
        for ``y`` and ``sample_weight``, so the rows of the validated arrays are
        what validating the rows would give. ``X`` of the rows is a fresh copy
        (``X[rows]``, as ``GridSearchCV`` splits it), which ``_build_problem``
        may overwrite. ``rows`` are integer indices.
        """
        rows = np.asarray(rows)
        if type(data.X) is not np.ndarray or rows.dtype.kind not in "iu":
            return None
        if rows.ndim != 1 or rows.size == 0:
            return None  # validation names the problem
        weights = data.sample_weight
        return data._replace(
            X=data.X[rows],
            y=data.y[rows],
            sample_weight=None if weights is None else weights[rows],
        )

    def _reduces_dask(self, *arrays):
        """Whether these arrays take the dask route (row moments; linear only)."""
        return False

    def _split_feature_maps(self, data, splits):
        """``None``: the one-pass route reduces the rows themselves."""
        return None

    def _linear_smoother(self, X_train, y_train, X_test, sample_weight=None):
        """This estimator as a linear smoother of ``y_train``: a ``SpectralSmoother``.

        The problem of the training data (as ``fit`` builds it) and the test rows
        seen through its eigenbasis; the smoother gives the spectral filter of any
        point of a curve over ``n_iter``, ``rho`` or ``learning_rate`` from that
        one decomposition. The estimator is not fitted (its parameters are
        validated).
        """
        self._validate_params()
        train = self._validate_fit_data(X_train, y_train, sample_weight)
        problem = self._build_problem(train.X, train.y, train.sample_weight)
        X_test = self._validate_predict_input(X_test)
        features = self._test_features(X_test, train.X)
        return SpectralSmoother(self, problem, features)

    def _initial_offset(self):
        """The predictions after 0 steps, per target (shape (n_targets,))."""
        check_is_fitted(self)
        return self._run.problem.y_offset

    def _set_fitted(self, data, run, coef, n_iter, validation_score=None, rho_unit=1.0):
        """Set every fitted attribute, from the scaled ``coef`` after ``n_iter``.

        ``rho_unit``: what ``rho`` was multiplied by to give the run's absolute
        radius (1 unless ``relative_rho``). A per-target search's refit passes
        one ``n_iter`` per target and its ``_per_target.PerTargetRun`` (arrays of
        learning rates and radii).

        The one place that writes fitted state (``fit``, the CV scoring of custom
        scorers and the IC estimators' selected model all come here).
        """
        coefficients, intercept = run.problem.to_model(coef)
        # Computed in float64, returned in X's dtype: beyond its range they
        # would be inf (a divergence, reported as float64's is).
        check_output_range(
            (coefficients, intercept),
            run.problem.xp,
            data.dtype,
            lambda dtype: run.problem.diverged_message(
                run.learning_rate, run.rho, run.variant, dtype
            ),
        )
        self._y_ndim = data.y_ndim
        self._output_dtype = data.dtype
        self._store_model(coefficients, intercept, data)
        # An array of one stopping time per target from a per-target search.
        self.n_iter_ = int(n_iter) if np.ndim(n_iter) == 0 else n_iter
        self.learning_rate_ = run.learning_rate
        self.rho_ = run.rho
        self.rho_unit_ = float(rho_unit)
        self.solver_ = run.solver
        self.validation_score_ = validation_score
        self._run = run.for_replay()
        return self

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
        X = self._validate_predict_input(X, "staged_predict")
        features = self._test_features(X)
        run = self._run
        test_map = run.problem.test_map(features)
        offset = run.problem.y_offset
        xp, dtype = run.problem.xp, self._prediction_dtype(X)
        for _, pred in run.prediction_chunks(test_map, self.n_iter_):
            for j in range(pred.shape[2]):
                stage = astype(xp, pred[:, :, j] + offset[None, :], dtype)
                yield stage[:, 0] if self._y_ndim == 1 else stage

    def _prediction_dtype(self, X):
        """The dtype ``predict(X)`` returns (float32 only for float32 data)."""
        return self._run.problem.xp.result_type(X.dtype, self._output_dtype)
