"""Cross-validation of dask input: every split reduced in one pass over the data.

``dask_fold_pass`` reduces, in one pass of dask, the moments of all the rows (the
problem of the grid and of the refit) and of every split
(``_dask_splits.split_moments``): each split's training problem is known through its
Gram matrix. ``dask_split_scores`` then scores every candidate of every split: from the
moments of the test rows where the estimator's score path is a function of them (the
squared-error regression metrics: ``ScorePath.moment_metric``), else in one more pass
over the test rows with the score path's chunk scorer (a classifier's accuracy:
``ScorePath.chunk_scorer``). Several squared-error metrics (a multi-metric ``scoring``,
``_multimetric``) are scored from the same coefficients of each candidate; the degrees
of freedom of every candidate over its training fold (``_dof_guard``) come from the
fold's problem.
"""

from time import perf_counter
from typing import NamedTuple

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import UndefinedMetricWarning

from .._core._moments import squared_error_scores
from .._dask_splits import (
    feature_split_moments,
    split_moments,
    split_row_sums,
    weigh_groups,
)
from .._outputs import FeatureOutput
from .._problem import moment_problem
from .._warnings import warn
from ._cv_scores import SplitScores, grid_chunk_size
from ._dof_guard import fold_dof_fractions
from ._multimetric import CombinedScorePath, MultiScoring, score_path_of

__all__ = ["DaskFolds", "dask_fold_pass", "dask_split_scores"]


class DaskFolds(NamedTuple):
    """What the one pass of a search on dask gives: the ``Problem`` of all the rows,
    the ``_dask_splits.SplitMoments`` of the splits, the seconds the pass took and the
    feature map of each split (``None``: the rows themselves)."""

    problem: object
    moments: object
    seconds: float
    split_maps: object = None


def dask_fold_pass(estimator, data, splits, score_params, scoring):
    """``DaskFolds`` of validated dask ``data`` and ``splits``: one pass of dask.

    The scored (test) moments are reduced too where the score path of ``scoring``
    has a moment form, weighted iff ``score_params`` holds the ``sample_weight``.
    Raises before the pass if ``scoring`` cannot be scored on dask (several
    metrics: each must have a moment form).
    """
    if set(score_params) - {"sample_weight"}:
        raise ValueError(
            "With dask arrays the scorer takes no metadata besides sample_weight; "
            f"got {sorted(score_params)}."
        )
    paths = _score_paths(estimator, scoring)
    metric = None if paths is None else paths[0].moment_metric
    if paths is None or (metric is None and paths[0].chunk_scorer(data) is None):
        raise ValueError(_unsupported(estimator, scoring))
    tic = perf_counter()
    groups = data.row_groups
    score_weighted = None if metric is None else "sample_weight" in score_params
    maps = estimator._split_feature_maps(data, splits)
    rows = (data.y, data.sample_weight, estimator.fit_intercept, splits)
    if maps is None:
        moments = split_moments(data.X, *rows, score_weighted, groups)
        split_maps = None
    else:  # each split sees the rows through its own features (Nystroem)
        full_map, split_maps = maps
        split_features = [feature_map.features(data.X) for feature_map in split_maps]
        moments = feature_split_moments(
            full_map.features(data.X), split_features, *rows, score_weighted, groups
        )
    full = weigh_groups(moments.full, moments.full_counts, groups)
    problem = moment_problem(full, estimator.fit_intercept, data.X.shape[0])
    if maps is not None:
        problem.output = FeatureOutput(full_map, problem.output)
    return DaskFolds(problem, moments, perf_counter() - tic, split_maps)


def dask_split_scores(
    estimator, X, y, splits, sample_weight, score_params, grid, data=None, folds=None
):
    """``SplitScores`` (n_iters, n_rhos, n_splits) of every split of dask input.

    ``data`` (the validated data) and ``folds`` (their ``dask_fold_pass``) are
    computed here when not given. Squared-error metrics are scored from the test
    moments (weighted iff ``score_params`` holds the ``sample_weight``); other
    score paths in one pass over the test rows.
    """
    if data is None:
        data = estimator._validate_fit_data(X, y, sample_weight)
    if folds is None:
        folds = dask_fold_pass(estimator, data, splits, score_params, grid.scoring)
    paths = _score_paths(estimator, grid.scoring)
    n_iters, rhos = grid.n_iters, grid.rhos
    n_splits = len(folds.moments.folds)
    shape = (n_iters.size, rhos.size, n_splits)
    # The one pass of dask is shared by the splits and their candidates.
    fit_time = np.full(shape, folds.seconds / max(n_splits, 1))
    score_time = np.zeros(shape)
    problems = _fold_problems(estimator, data, folds)
    if paths[0].moment_metric is not None:
        scores, n_diverged = _moment_scores(
            estimator, paths, problems, folds, grid, fit_time, score_time
        )
        if isinstance(grid.scoring, MultiScoring):
            names = grid.scoring.names
            scores = {name: scores[..., m] for m, name in enumerate(names)}
        else:
            scores = scores[..., 0]
    else:
        scores, n_diverged, seconds = _chunk_scores(
            estimator, paths[0], problems, data, folds, y, score_params, grid, fit_time
        )
        score_time += seconds / scores.size
    dof = _fold_dofs(estimator, problems, folds, grid)
    return SplitScores(scores, n_diverged, None, fit_time, score_time, dof)


def _score_paths(estimator, scoring):
    """The score paths of ``scoring``: a tuple of one, or of each metric of a
    ``MultiScoring`` (then each a moment metric's); ``None`` if unsupported."""
    path = score_path_of(estimator, scoring)
    if not isinstance(path, CombinedScorePath):
        return None if path is None else (path,)
    if any(one.moment_metric is None for one in path.paths):
        return None
    return path.paths


def _fold_dofs(estimator, problems, folds, grid):
    """Degrees of freedom of every candidate over each training fold's rows,
    shape (n_iters, n_rhos, n_splits) (``_dof_guard``); ``None`` without a
    smoother (normalized SAM)."""
    dofs = []
    for problem, fold in zip(problems, folds.moments.folds, strict=True):
        fractions = fold_dof_fractions(
            estimator, problem, grid.n_iters, grid.rhos, fold.n_train_positive
        )
        if fractions is None:
            return None
        dofs.append(fractions)
    shape = (grid.n_iters.size, grid.rhos.size, 0)
    return np.stack(dofs, axis=-1) if dofs else np.empty(shape)


def _fold_problems(estimator, data, folds):
    """The training ``Problem`` of each split (``None``: nothing to fit)."""
    groups = data.row_groups
    problems = []
    for split, fold in enumerate(folds.moments.folds):
        if groups is not None and np.any(fold.train_counts == 0):
            missing = data.labels.classes_[fold.train_counts == 0]
            raise ValueError(
                f"The training part of split {split} has no sample of the classes "
                f"{missing.tolist()}: on dask every training part must hold every "
                "class (its model would know fewer classes). Use a stratified "
                "splitter."
            )
        train = weigh_groups(fold.train, fold.train_counts, groups)
        problems.append(moment_problem(train, estimator.fit_intercept, fold.n_train))
    return problems


def _candidate_coefs(estimator, problem, grid, fit_time, split):
    """``(index, j, coefs)`` chunks of the candidates of ``rhos[j]`` on a split's
    training problem (coefficients of ``x - x_mean``, see ``squared_error_scores``),
    each ``rho``'s time added to ``fit_time``."""
    n_iters, rhos = grid.n_iters, grid.rhos
    chunk = grid_chunk_size(2 * problem.n_targets * problem.output.x_mean.shape[0])
    for j, rho in enumerate(rhos):
        tic = perf_counter()
        estimator.set_params(rho=rho)
        run = estimator._plan_run(problem, int(n_iters.max()), "spectral")
        for index, coefs in problem.spectral_coef_chunks(
            run.learning_rate, run.rho, n_iters, run.variant, chunk
        ):
            yield np.arange(n_iters.size)[index], j, coefs
        fit_time[:, j, split] += (perf_counter() - tic) / n_iters.size


def _moment_scores(estimator, paths, problems, folds, grid, fit_time, score_time):
    """Scores of every candidate from the moments of each split's test rows.

    Shape (n_iters, n_rhos[, n_targets], n_splits, n_metrics): one column of each
    of ``paths`` (their moment metrics), scored from the same coefficients.
    """
    # Per-target selection: a target axis before the splits' (each column scored
    # as if alone).
    targets = (problems[0].n_targets,) if grid.per_target else ()
    shape = fit_time.shape[:2] + targets + fit_time.shape[2:] + (len(paths),)
    scores = np.full(shape, np.nan)
    n_diverged = 0
    for split, (problem, fold) in enumerate(
        zip(problems, folds.moments.folds, strict=True)
    ):
        scored = fold.scored
        if not float(scored.sum_weights) > 0.0:
            continue  # an empty or zero-weight test fold: nan
        # As scikit-learn's metrics: R^2 and explained variance of one sample are
        # nan.
        metrics = []
        for m, path in enumerate(paths):
            metric = path.moment_metric
            if metric == "r2" and fold.n_test < 2:
                warn(
                    "R^2 score is not well-defined with less than two samples.",
                    UndefinedMetricWarning,
                )
            if not (metric in ("r2", "explained_variance") and fold.n_test < 2):
                metrics.append((m, metric, path.sign))
        if not metrics:
            continue
        for rows, j, coefs in _candidate_coefs(
            estimator, problem, grid, fit_time, split
        ):
            tic = perf_counter()
            if grid.per_target:  # (n_targets, K): each column's own
                bad = ~np.isfinite(coefs).all(axis=0)
            else:
                bad = ~np.isfinite(coefs).all(axis=(0, 1))
            for m, metric, sign in metrics:
                with np.errstate(over="ignore", invalid="ignore"):
                    values = sign * squared_error_scores(
                        metric,
                        scored,
                        coefs,
                        problem.output.x_mean,
                        problem.y_offset,
                        average=not grid.per_target,
                    )
                ok = ~bad & np.isfinite(values)
                if grid.per_target:
                    scores[rows, j, :, split, m] = np.where(ok, values, np.nan).T
                else:
                    scores[rows[ok], j, split, m] = values[ok]
                bad = bad | ~ok
            if grid.per_target:
                n_diverged += int(np.sum(bad.any(axis=0)))
            else:
                n_diverged += int(np.sum(bad))
            score_time[rows, j, split] += (perf_counter() - tic) / rows.size
    return scores, n_diverged


def _chunk_scores(
    estimator, path, problems, data, folds, y, score_params, grid, fit_time
):
    """``(scores, n_diverged, seconds)`` of every candidate from one more pass
    over the test rows (the score path's chunk scorer)."""
    n_iters, rhos = grid.n_iters, grid.rhos
    n_targets = problems[0].n_targets
    models, finite = [], np.zeros((n_iters.size, rhos.size, len(problems)), bool)
    for split, problem in enumerate(problems):
        n_features = problem.output.x_mean.shape[0]  # a split's own features
        # [x, 1] -> predictions of every candidate (n_iters, n_rhos, d + 1, t).
        W = np.zeros((n_iters.size, rhos.size, n_features + 1, n_targets))
        for rows, j, coefs in _candidate_coefs(
            estimator, problem, grid, fit_time, split
        ):
            ok = np.isfinite(coefs).all(axis=(0, 1))
            finite[rows[ok], j, split] = True
            coefs = np.where(ok, coefs, 0.0)
            W[rows, j, :n_features] = np.moveaxis(coefs, -1, 0)
            offset = problem.y_offset[:, None] - np.einsum(
                "d,dtk->tk", problem.output.x_mean, coefs
            )
            W[rows, j, n_features] = offset.T
        # (d + 1, t, K), the candidates in the order of the scores (n_iters, n_rhos)
        models.append(np.moveaxis(W.reshape(-1, n_features + 1, n_targets), 0, -1))
    make_scorer = path.chunk_scorer(data)
    if folds.split_maps is None:
        scorer = make_scorer(models)
    else:
        scorer = _SplitFeatureScorer(make_scorer, models, folds.split_maps)
    tic = perf_counter()
    sums = split_row_sums(
        scorer,
        data.X,
        y,
        score_params.get("sample_weight"),
        folds.moments.test_rows,
        scorer.n_out,
    ).reshape(len(problems), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = sums[:, 1:] / sums[:, :1]  # nan for an empty or zero-weight fold
    values = np.moveaxis(values.reshape(len(problems), n_iters.size, rhos.size), 0, -1)
    values = np.where(finite, path.sign * values, np.nan)
    return values, int(np.sum(~finite)), perf_counter() - tic


class _SplitFeatureScorer:
    """A chunk scorer (``ScorePath.chunk_scorer``) of splits that each see the
    rows through their own feature map: each split's test rows of a chunk are
    mapped, then scored by the score path's scorer of that split alone."""

    def __init__(self, make_scorer, models, split_maps):
        self.scorers = [make_scorer([model]) for model in models]
        self.split_maps = split_maps

    @property
    def n_out(self):
        return sum(scorer.n_out for scorer in self.scorers)

    def __call__(self, x, y, w, rows):
        out = []
        for scorer, feature_map, test in zip(
            self.scorers, self.split_maps, rows, strict=True
        ):
            if test.size:
                features = feature_map.features(x[test])
                weights = None if w is None else w[test]
                part = scorer(features, y[test], weights, [np.arange(test.size)])
            else:
                part = np.zeros((1, scorer.n_out))
            out.append(np.reshape(part, (1, -1)))
        return np.concatenate(out, axis=1).reshape(len(self.scorers), -1)


def _unsupported(estimator, scoring):
    """The error message of a scoring that dask input cannot be scored with."""
    search = f"{type(estimator).__name__}CV"  # SAMKernelRidge -> SAMKernelRidgeCV
    if is_classifier(estimator):
        return (
            f"With dask arrays {search} scores the accuracy of every "
            "candidate in one pass over the test rows and supports only the "
            f"scorings None and 'accuracy'; got {scoring!r}."
        )
    return (
        f"With dask arrays {search} scores from the reduced moments and "
        "supports only the squared-error scorings None, 'r2', "
        "'explained_variance', 'neg_mean_squared_error' and "
        "'neg_root_mean_squared_error' (for multi-metric scoring: a list or "
        f"dict of these names); got {scoring!r}."
    )
