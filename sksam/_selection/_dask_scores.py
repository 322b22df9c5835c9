"""Cross-validation scores of dask input: every fold reduced in one pass.

The training problem of each fold and its validation scores come from the fold
moments (``_dask.fold_moments``); only squared-error regression metrics have such a
form (dask input takes this route for ``SAMRegressor`` only: its
``_reduces_dask``).
"""

from time import perf_counter

import numpy as np

from .._core._moments import squared_error_scores
from .._dask import fold_moments, validate_dask_fit_data
from .._problem import moment_problem
from .._regression import PATH_METRICS
from ._cv_scores import SplitScores, grid_chunk_size
from ._dof_guard import fold_dof_fractions
from ._multimetric import MultiScoring

__all__ = ["dask_split_scores"]


def dask_split_scores(estimator, X, y, splits, sample_weight, score_params, grid):
    """``SplitScores`` (n_iters, n_rhos, n_splits) with every fold reduced in one pass.

    The validation scores come from the test-fold moments (``_dask.fold_moments``),
    weighted iff ``score_params`` holds the ``sample_weight``; only squared-error
    metrics can be scored so. Several metrics (a ``MultiScoring`` of such
    metrics) are scored from the same coefficients: ``scores`` is then a dict
    name -> array.
    """
    if set(score_params) - {"sample_weight"}:
        raise ValueError(
            "With dask arrays the scorer takes no metadata besides sample_weight; "
            f"got {sorted(score_params)}."
        )
    n_iters, rhos = grid.n_iters, grid.rhos
    multi = isinstance(grid.scoring, MultiScoring)
    metrics = [
        _moment_metric(spec)
        for spec in (grid.scoring.specs if multi else (grid.scoring,))
    ]
    X, y, sample_weight, _ = validate_dask_fit_data(X, y, sample_weight)
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    # As scikit-learn's metrics: R^2 and explained variance of one sample are nan.
    one_sample = ("r2", "explained_variance")
    tic = perf_counter()
    folds = fold_moments(
        X,
        y,
        sample_weight,
        estimator.fit_intercept,
        splits,
        "sample_weight" in score_params,
    )
    shape = (n_iters.size, rhos.size, len(folds))
    scores = np.full(shape + (len(metrics),), np.nan)
    # The one pass of dask is shared by the splits and their candidates.
    fit_time = np.full(shape, (perf_counter() - tic) / max(len(folds), 1))
    score_time = np.zeros(shape)
    dof = np.full(shape, np.nan)  # over the fold's rows (_dof_guard)
    n_diverged = 0
    for split, (train_moments, scored, n_train) in enumerate(folds):
        problem = moment_problem(train_moments, estimator.fit_intercept, n_train)
        problem.factor  # noqa: B018 -- the fold's one decomposition
        fractions = fold_dof_fractions(estimator, problem, n_iters, rhos, n_train)
        if fractions is None or dof is None:  # (no smoother: normalized SAM)
            dof = None
        else:
            dof[:, :, split] = fractions
        if not float(scored.sum_weights) > 0.0:
            continue  # an empty or zero-weight test fold: nan
        n_test = splits[split][1].size
        chunk = grid_chunk_size(2 * problem.n_targets * train_moments.xx.shape[0])
        for j, rho in enumerate(rhos):
            tic = perf_counter()
            estimator.set_params(rho=rho)
            run = estimator._plan_run(problem, int(n_iters.max()), "spectral")
            for index, coefs in problem.spectral_coef_chunks(
                run.learning_rate, run.rho, n_iters, run.variant, chunk
            ):
                finite = np.isfinite(coefs).all(axis=(0, 1))
                bad = ~finite
                rows = np.arange(n_iters.size)[index]
                for m, (metric, sign) in enumerate(metrics):
                    if metric in one_sample and n_test < 2:
                        continue  # a one-sample test fold: nan
                    with np.errstate(over="ignore", invalid="ignore"):
                        values = sign * squared_error_scores(
                            metric,
                            scored,
                            coefs,
                            problem.output.x_mean,
                            problem.y_offset,
                        )
                    ok = finite & np.isfinite(values)
                    bad |= ~ok
                    scores[rows[ok], j, split, m] = values[ok]
                n_diverged += int(np.sum(bad))
            elapsed = (perf_counter() - tic) / n_iters.size
            fit_time[:, j, split] += elapsed / 2
            score_time[:, j, split] += elapsed / 2
    if multi:
        scores = {name: scores[..., m] for m, name in enumerate(grid.scoring.names)}
    else:
        scores = scores[..., 0]
    return SplitScores(scores, n_diverged, None, fit_time, score_time, dof)


_MOMENT_METRICS = {
    "r2": "r2",
    "explained_variance": "explained_variance",
    "mean_squared_error": "mean_squared_error",
    "root_mean_squared_error": "root_mean_squared_error",
}


def _moment_metric(scoring):
    """``(moment metric name, sign)`` of a search's ``scoring`` (a regression
    metric of ``PATH_METRICS`` with a squared-error form)."""
    entry = (
        PATH_METRICS.get(scoring)
        if scoring is None or isinstance(scoring, str)
        else None
    )
    name = None if entry is None else entry[0].__name__
    metric = None if name is None else _MOMENT_METRICS.get(name.removesuffix("_score"))
    if metric is None:
        raise ValueError(
            "With dask arrays SAMRegressorCV scores from the reduced moments and "
            "supports only the squared-error scorings None, 'r2', "
            "'explained_variance', 'neg_mean_squared_error' and "
            "'neg_root_mean_squared_error' (for multi-metric scoring: a list or "
            f"dict of these names); got {scoring!r}."
        )
    return metric, entry[1]
