"""Scores of every ``(n_iter, rho)`` on a split from one decomposition.

``rho`` and ``n_iter`` only change the spectral filter, so a split costs one
``Problem`` of its training part (decomposed once) and one path per ``rho``, where
``GridSearchCV`` refits every candidate. The scores are those ``GridSearchCV`` gives
the same estimator, grid, splits and scorer.
"""

from functools import partial

import numpy as np
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from .._core._moments import squared_error_scores
from .._dask import fold_moments, validate_dask_fit_data
from .._problem import moment_problem
from .._scores import path_scores
from .._warnings import warn

__all__ = ["dask_split_scores", "gcv_scores", "split_scores"]


class ScoringFailure:
    """The first exception a scorer raised, kept to name the cause if all fail."""

    def __init__(self):
        self.error = None


def _score_point(scorer, estimator, X_test, y_test, score_params, failures):
    """The scorer on one fitted grid point; ``nan`` (and a warning) if it fails."""
    try:
        return float(scorer(estimator, X_test, y_test, **score_params))
    except Exception as exc:  # as GridSearchCV with error_score=np.nan
        if failures.error is None:
            failures.error = exc
        warn(
            f"Scoring failed; the score of n_iter={estimator.n_iter_}, "
            f"rho={estimator.rho} on this split is set to nan. Details: {exc!r}",
            UserWarning,
        )
        return np.nan


def split_scores(estimator, X, y, train, test, fit_params, score_params, grid):
    """Scores of every grid point on one split, shape (n_iters, n_rhos).

    ``grid = (n_iters, rhos, scorer, vectorised)``; for a classifier (whose
    ``FitData`` has ``labels``) ``vectorised`` scores decision values against the
    labels (``_labels.accuracy_path``). The models are those
    ``estimator.set_params(n_iter=k, rho=r).fit`` on the training part would give;
    non-finite (diverged) ones score ``nan``, as failed fits do in ``GridSearchCV``.
    Returns ``(scores, n_diverged, scoring_error)``.
    """
    n_iters, rhos, scorer, vectorised = grid
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    fit_params = _check_method_params(X, params=fit_params, indices=train)
    score_params = _check_method_params(X, params=score_params, indices=test)
    data = estimator._validate_fit_data(
        X_train, y_train, fit_params.get("sample_weight")
    )
    problem = estimator._build_problem(data.X, data.y, data.sample_weight)
    score_weight = score_params.get("sample_weight")
    if set(score_params) - {"sample_weight"} or data.dtype != np.float64:
        vectorised = None
    if vectorised is not None:
        X_eval = estimator._validate_predict_input(X_test)
        test_map = problem.test_map(estimator._test_features(X_eval, data.X))
        if data.labels is None:
            y_true = np.asarray(y_test, dtype=float).reshape(len(test), -1)
            score_path = partial(path_scores, vectorised[0], y_true)
        else:  # a classifier: decision values against the labels
            score_path = partial(vectorised[0], data.labels, y_test)
    scores = np.full((n_iters.size, rhos.size), np.nan)
    failures, n_diverged = ScoringFailure(), 0
    for j, rho in enumerate(rhos):
        estimator.set_params(rho=rho)
        run = estimator._plan_run(problem, int(n_iters.max()), None, solver="spectral")
        coefs = problem.spectral_coefs(run.learning_rate, run.rho, n_iters, run.variant)
        finite = np.flatnonzero(np.isfinite(coefs).all(axis=(0, 1)))
        n_diverged += n_iters.size - finite.size
        if vectorised is not None:
            sign = vectorised[1]
            with np.errstate(over="ignore", invalid="ignore"):
                flat = coefs[:, :, finite].reshape(coefs.shape[0], -1)
                pred = test_map(flat).reshape(len(test), coefs.shape[1], -1)
                pred += problem.y_offset[:, None]
            ok = np.isfinite(pred).all(axis=(0, 1))
            n_diverged += int(np.sum(~ok))
            if ok.any():
                values = score_path(pred[:, :, ok], score_weight)
                scores[finite[ok], j] = sign * values
            continue
        for i in finite:
            estimator.set_params(n_iter=int(n_iters[i]))
            estimator._set_fitted(data, run, coefs[:, :, i], int(n_iters[i]))
            scores[i, j] = _score_point(
                scorer, estimator, X_test, y_test, score_params, failures
            )
    return scores, n_diverged, failures.error


def dask_split_scores(estimator, X, y, splits, sample_weight, score_params, grid):
    """CV scores (n_iters, n_rhos, n_splits) with every fold reduced in one pass.

    The validation scores come from the test-fold moments (``_dask.fold_moments``),
    weighted iff ``score_params`` holds the ``sample_weight``; only squared-error
    metrics can be scored so.
    """
    if set(score_params) - {"sample_weight"}:
        raise ValueError(
            "With dask arrays the scorer takes no metadata besides sample_weight; "
            f"got {sorted(score_params)}."
        )
    n_iters, rhos, _, vectorised = grid
    metric, sign = _moment_metric(vectorised)
    X, y, sample_weight, _ = validate_dask_fit_data(X, y, sample_weight)
    folds = fold_moments(
        X,
        y,
        sample_weight,
        estimator.fit_intercept,
        splits,
        "sample_weight" in score_params,
    )
    scores = np.full((n_iters.size, rhos.size, len(folds)), np.nan)
    n_diverged = 0
    for split, (train_moments, scored, n_train) in enumerate(folds):
        if not float(scored.sum_weights) > 0.0:
            continue  # an empty or zero-weight test fold: no score (nan)
        problem = moment_problem(train_moments, estimator.fit_intercept, n_train)
        for j, rho in enumerate(rhos):
            estimator.set_params(rho=rho)
            run = estimator._plan_run(problem, int(n_iters.max()), None, "spectral")
            coefs = problem.spectral_coefs(
                run.learning_rate, run.rho, n_iters, run.variant
            )
            with np.errstate(over="ignore", invalid="ignore"):
                values = sign * squared_error_scores(
                    metric, scored, coefs, problem.output.x_mean, problem.y_offset
                )
            finite = np.isfinite(coefs).all(axis=(0, 1)) & np.isfinite(values)
            n_diverged += int(np.sum(~finite))
            scores[finite, j, split] = values[finite]
    return scores, n_diverged


_MOMENT_METRICS = {
    "r2": "r2",
    "explained_variance": "explained_variance",
    "mean_squared_error": "mean_squared_error",
    "root_mean_squared_error": "root_mean_squared_error",
}


def _moment_metric(vectorised):
    name = None if vectorised is None else vectorised[0].__name__
    metric = None if name is None else _MOMENT_METRICS.get(name.removesuffix("_score"))
    if metric is None:
        raise ValueError(
            "With dask arrays SAMRegressorCV scores from the reduced moments and "
            "supports only the squared-error scorings None, 'r2', "
            "'explained_variance', 'neg_mean_squared_error' and "
            "'neg_root_mean_squared_error'."
        )
    return metric, vectorised[1]


def gcv_scores(problem, n_iters, rhos, plan):
    """Minus the generalized cross-validation criterion, shape (n_iters, n_rhos).

    ``GCV_k = (RSS_k / S) / (1 - dof_k / S)^2`` with the weighted training residual
    sum of squares and ``dof_k = trace`` of the smoother (+1 with an intercept),
    averaged over targets; ``dof_k >= S`` gives ``GCV = inf``. ``plan(problem, rho)``
    gives the ``SAMRun`` of each ``rho``.
    """
    total = problem.sum_weights
    scores = np.empty((n_iters.size, rhos.size))
    for j, rho in enumerate(rhos):
        run = plan(problem, rho)
        eta = run.learning_rate
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rss = problem.rss(eta, run.rho, n_iters)
            dof = problem.dof(eta, run.rho, n_iters)
            gcv = (rss / total) / (1.0 - dof / total) ** 2
        scores[:, j] = -np.where(dof < total, gcv, np.inf).mean(axis=0)
    return scores
