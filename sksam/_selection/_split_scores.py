"""Scores of every ``(n_iter, rho)`` on a split from one decomposition.

``rho`` and ``n_iter`` only change the spectral filter, so a split costs one
``Problem`` of its training part (decomposed once) and one path per ``rho``, where
``GridSearchCV`` refits every candidate. The scores are those ``GridSearchCV`` gives
the same estimator, grid, splits and scorer. This module prepares the split (its
data, problem and test rows) and hands it to a scoring route: the estimator's
``ScorePath`` (``_path_scores``) or the scorer on each candidate
(``_candidate_scores``).
"""

from time import perf_counter

import numpy as np
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from .._array_api import array_namespace, to_numpy
from .._core._namespaces import index_array, is_numpy
from .._core._variants import get_variant
from ._candidate_scores import candidate_scores, target_candidate_scores
from ._cv_scores import SplitScores, grid_chunk_size
from ._dof_guard import fold_dof_fractions, positive_weights
from ._multimetric import score_path_of
from ._path_scores import coordinate_scores, path_split_scores

__all__ = ["split_scores"]


def split_scores(
    estimator, X, y, train, test, fit_params, score_params, grid, all_data=None
):
    """``SplitScores`` of every grid point on one split, shape (n_iters, n_rhos).

    ``grid`` is a ``SplitGrid``. Where the estimator has a ``ScorePath`` of
    ``grid.scoring`` (``_score_path``; of every metric of a multi-metric
    scoring, ``_multimetric.score_path_of``), float64 data and no metadata besides
    ``sample_weight`` go to the scorer, the whole path is scored by it
    (``_path_scores``: from predictions, or from the fold's eigen-coordinates where
    the score path can and that is cheaper and safe); otherwise the scorer is
    called on each candidate (``_candidate_scores``). ``all_data`` is the search's
    validated ``FitData`` of all the rows: with a score path the split's rows are
    taken from it where the estimator can (``_fold_fit_data``), instead of
    splitting ``X`` and validating the parts. The models are those
    ``estimator.set_params(n_iter=k, rho=r).fit`` on the training part would give;
    non-finite (diverged) ones score ``nan``, as failed fits do in ``GridSearchCV``.
    """
    start = perf_counter()
    score_params = _check_method_params(X, params=score_params, indices=test)
    score_path = None
    if not set(score_params) - {"sample_weight"}:
        score_path = score_path_of(estimator, grid.scoring)
    data = None
    if score_path is not None and all_data is not None:
        float64 = array_namespace(all_data.X)[0].float64
        if all_data.dtype == float64:  # (other dtypes are scored by the scorer)
            data = estimator._fold_fit_data(all_data, train)
    if data is None:
        X_train, y_train = _split(estimator, X, y, train)
        X_test, y_test = _split(estimator, X, y, test, train)
        fit_params = _check_method_params(X, params=fit_params, indices=train)
        data = estimator._validate_fit_data(
            X_train, y_train, fit_params.get("sample_weight")
        )
        problem = estimator._build_problem(data.X, data.y, data.sample_weight)
    else:  # the training rows' copy is the problem's buffer
        X_test, y_test = None, _safe_indexing(y, test)
        problem = estimator._build_problem(
            data.X, data.y, data.sample_weight, overwrite_X=True
        )
    exact = get_variant(estimator.variant).has_filter
    if exact:
        problem.factor  # noqa: B018 -- the one decomposition, timed as the fit
    # The candidates' degrees of freedom over the fold's samples (the guard
    # against interpolating picks, _dof_guard).
    dof = fold_dof_fractions(
        estimator,
        problem,
        grid.n_iters,
        grid.rhos,
        positive_weights(data.sample_weight, problem.n_samples),
    )
    shared = perf_counter() - start
    score_weight = score_params.get("sample_weight")
    # Arrays of another namespace (array_api_dispatch): the paths, predictions and
    # metrics stay in it, on its device; a mask of finite steps and the scores
    # come to the host.
    xp, device = array_namespace(data.X)
    if data.dtype != xp.float64:
        score_path = None
    if score_path is not None and _all_zero(score_weight):
        # No weighted metric is defined on this test fold: nan for every
        # candidate, as the metric's error gives in GridSearchCV (the search
        # names the fold, _search.raise_all_failed).
        shape = (grid.n_iters.size, grid.rhos.size)
        targets = (problem.n_targets,) if grid.per_target else ()
        return SplitScores(
            np.full(shape + targets, np.nan),
            0,
            None,
            np.full(shape, shared),
            np.zeros(shape),
            dof,
        )
    n_test = len(test)
    n_targets = problem.n_targets
    chunk = grid_chunk_size(n_test * n_targets, problem.op.n_params * n_targets)
    if score_path is None:
        route = target_candidate_scores if grid.per_target else candidate_scores
        return route(
            estimator,
            problem,
            data,
            grid,
            (X_test, y_test, score_params),
            shared,
            chunk,
            xp,
        )._replace(dof=dof)
    score_path = score_path.bind(y_test, score_weight, data)
    test = np.asarray(test)
    X_eval = None
    scorer = score_path.coordinate_scorer() if exact else None
    if scorer is not None:  # from eigen-coordinates where exact and cheaper
        # Validated test rows are taken in the order the scorer reads them.
        in_order = X_test is None and scorer.order.size == n_test
        rows = test[scorer.order] if in_order else test
        X_eval = _test_rows(estimator, all_data, X_test, rows)
        test_map = problem.test_map(
            estimator._test_features(X_eval, data.X), overwrite=in_order
        )
        result = coordinate_scores(
            estimator, problem, test_map, scorer, grid, shared, in_order
        )
        if result is not None:
            return result._replace(dof=dof)
        if in_order:  # the route through the coefficients: in the test order
            X_eval = None
    if X_eval is None:
        X_eval = _test_rows(estimator, all_data, X_test, test)
        test_map = problem.test_map(estimator._test_features(X_eval, data.X))
    return path_split_scores(
        estimator, problem, test_map, score_path, grid, shared, chunk, xp
    )._replace(dof=dof)


def _all_zero(weights):
    return weights is not None and not np.any(to_numpy(weights))


def _test_rows(estimator, all_data, X_test, rows):
    """The validated test rows: ``all_data.X[rows]`` if ``X_test`` is None (the
    search's validated data), else ``X_test`` validated."""
    if X_test is None:
        return all_data.X[rows]
    return estimator._validate_predict_input(X_test)


def _split(estimator, X, y, indices, train=None):
    """``_safe_split``; a precomputed kernel of another namespace is indexed there
    (rows ``indices``, columns ``train`` or ``indices``) with ``xp.take``."""
    xp, device = array_namespace(X)
    if is_numpy(xp) or not estimator.__sklearn_tags__().input_tags.pairwise:
        return _safe_split(estimator, X, y, indices, train)
    rows = index_array(xp, indices, X)
    columns = rows if train is None else index_array(xp, train, X)
    X_subset = xp.take(xp.take(X, rows, axis=0), columns, axis=1)
    return X_subset, _safe_indexing(y, indices)
