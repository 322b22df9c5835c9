"""Scores of every ``(n_iter, rho)`` on a split from one decomposition.

``rho`` and ``n_iter`` only change the spectral filter, so a split costs one
``Problem`` of its training part (decomposed once) and one path per ``rho``, where
``GridSearchCV`` refits every candidate. The scores are those ``GridSearchCV`` gives
the same estimator, grid, splits and scorer.
"""

from functools import partial
from time import perf_counter

import numpy as np
from sklearn.metrics import r2_score
from sklearn.utils._array_api import device as array_device
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from .._array_api import namespace_of, to_namespace, to_numpy
from .._core._moments import squared_error_scores
from .._dask import fold_moments, validate_dask_fit_data
from .._labels import DecisionAccuracy
from .._problem import moment_problem
from .._scores import DIRECT_METRICS, path_scores
from .._warnings import warn

__all__ = ["dask_split_scores", "gcv_scores", "label_scores", "split_scores"]


class ScoringFailure:
    """The first exception a scorer raised (to name the cause if all fail), and
    how many calls failed on the split (one warning per split says so)."""

    def __init__(self):
        self.error = None
        self.count = 0

    def warn(self, n_candidates):
        if self.count:
            warn(
                f"Scoring failed for {self.count} of {n_candidates} candidates on "
                f"this split; their scores are set to nan. First error: "
                f"{self.error!r}",
                UserWarning,
            )


def _score_point(scorer, estimator, X_test, y_test, score_params, failures):
    """The scorer on one fitted grid point; ``nan`` if it fails (counted)."""
    try:
        return float(scorer(estimator, X_test, y_test, **score_params))
    except Exception as exc:  # as GridSearchCV with error_score=np.nan
        if failures.error is None:
            failures.error = exc
        failures.count += 1
        return np.nan


#: Entries of one chunk of test predictions (or coefficients) scored at once: the
#: grid is scored in chunks of stopping times, so memory does not grow with it.
CHUNK_ENTRIES = 2**20


def _test_rows(estimator, all_data, X_test, rows):
    """The validated test rows: ``all_data.X[rows]`` if ``X_test`` is None (the
    search's validated data), else ``X_test`` validated."""
    if X_test is None:
        return all_data.X[rows]
    return estimator._validate_predict_input(X_test)


def grid_chunk_size(*rows):
    """Stopping times per chunk when each costs ``sum(rows)`` entries."""
    return max(1, CHUNK_ENTRIES // max(1, sum(rows)))


def split_scores(
    estimator, X, y, train, test, fit_params, score_params, grid, all_data=None
):
    """Scores of every grid point on one split, shape (n_iters, n_rhos).

    ``grid = (n_iters, rhos, scorer, vectorised)``; for a classifier (whose
    ``FitData`` has ``labels``) ``vectorised`` scores decision values against the
    labels: from the fold's eigen-coordinates (``label_scores``) where that is
    cheaper and safe, else through the coefficients (``_labels.accuracy_path``).
    ``all_data`` is the search's validated ``FitData`` of all the rows: with a
    vectorised scoring the split's rows are taken from it where the estimator
    can (``_fold_fit_data``), instead of splitting ``X`` and validating the parts.
    The models are those
    ``estimator.set_params(n_iter=k, rho=r).fit`` on the training part would give;
    non-finite (diverged) ones score ``nan``, as failed fits do in ``GridSearchCV``.
    Returns ``(scores, n_diverged, scoring_error, (fit_time, score_time))``: the
    fit time of a candidate is the split's validation, problem and decomposition
    time (shared by all candidates) plus its share of its ``rho``'s path; its score
    time is its share of the vectorised scoring of its ``rho`` (or the time of its
    own scorer call).
    """
    n_iters, rhos, scorer, vectorised = grid
    start = perf_counter()
    score_params = _check_method_params(X, params=score_params, indices=test)
    if set(score_params) - {"sample_weight"}:
        vectorised = None
    data = None
    if vectorised is not None and all_data is not None:
        # numpy float64 only (other dtypes and namespaces are scored by the scorer);
        # an array API dtype is not compared with numpy's (array-api-strict warns).
        dtype = all_data.dtype
        if isinstance(dtype, np.dtype) and dtype == np.float64:
            data = estimator._fold_fit_data(all_data, train)
    if data is None:
        X_train, y_train = _split(estimator, X, y, train)
        X_test, y_test = _split(estimator, X, y, test, train)
        fit_params = _check_method_params(X, params=fit_params, indices=train)
        data = estimator._validate_fit_data(
            X_train, y_train, fit_params.get("sample_weight")
        )
        problem = estimator._build_problem(data.X, data.y, data.sample_weight)
        X_eval = None
    else:  # the training rows' copy is the problem's buffer
        X_test, y_test = None, _safe_indexing(y, test)
        problem = estimator._build_problem(
            data.X, data.y, data.sample_weight, overwrite_X=True
        )
    problem.factor  # noqa: B018 -- the one decomposition, timed as the fit
    shared = perf_counter() - start
    score_weight = score_params.get("sample_weight")
    # Arrays of another namespace (array_api_dispatch): the paths, predictions and
    # metrics stay in it, on its device; a mask of finite steps and the scores
    # come to the host.
    xp, device = namespace_of(data.X)
    if data.dtype != (np.float64 if xp is None else xp.float64):
        vectorised = None
    n_test = len(test)
    # R^2, (R)MSE: scored directly, diverged candidates nan (R^2 of one sample is
    # nan for every candidate: not a divergence).
    direct = (
        vectorised is not None
        and xp is None
        and data.labels is None
        and vectorised[0] in DIRECT_METRICS
    )
    defined = n_test >= 2 or vectorised is None or vectorised[0] is not r2_score
    if vectorised is not None:
        test = np.asarray(test)
        if data.labels is not None:  # a classifier: from eigen-coordinates if exact
            accuracy = DecisionAccuracy(data.labels, y_test, score_weight)
            # Validated test rows are taken in the order the accuracy reads them.
            in_order = X_test is None and accuracy.order.size == n_test
            rows = test[accuracy.order] if in_order else test
            X_eval = _test_rows(estimator, all_data, X_test, rows)
            test_map = problem.test_map(
                estimator._test_features(X_eval, data.X), overwrite=in_order
            )
            result = label_scores(
                estimator, problem, test_map, accuracy, grid, shared, in_order
            )
            if result is not None:
                return result
            if in_order:  # the route through the coefficients: in the test order
                X_eval = None
        if data.labels is None or X_eval is None:
            X_eval = _test_rows(estimator, all_data, X_test, test)
            test_map = problem.test_map(estimator._test_features(X_eval, data.X))
        if data.labels is None and xp is not None:
            y_true = xp.astype(to_namespace(y_test, xp, device), xp.float64)
            y_true = xp.reshape(y_true, (n_test, -1))
            score_weight = to_namespace(score_weight, xp, device)
            score_path = partial(path_scores, vectorised[0], y_true)
        elif data.labels is None:
            y_true = np.asarray(y_test, dtype=float).reshape(n_test, -1)
            score_path = partial(path_scores, vectorised[0], y_true)
        else:  # a classifier: decision values against the labels
            score_path = partial(vectorised[0], data.labels, y_test)
    shape = (n_iters.size, rhos.size)
    scores = np.full(shape, np.nan)
    fit_time, score_time = np.full(shape, shared), np.zeros(shape)
    failures, n_diverged = ScoringFailure(), 0
    n_targets = problem.n_targets
    chunk = grid_chunk_size(
        n_test * n_targets, problem.factor.basis.shape[0] * n_targets
    )
    for j, rho in enumerate(rhos):
        tic = perf_counter()
        if vectorised is None:  # the scorer sees the estimator with its grid point
            estimator.set_params(rho=rho)
        run = estimator._plan_run(
            problem, int(n_iters.max()), None, solver="spectral", rho=rho
        )
        path_time = perf_counter() - tic
        chunks = problem.spectral_coef_chunks(
            run.learning_rate, run.rho, n_iters, run.variant, chunk
        )
        for index, coefs in _timed(chunks, fit_time, score_time, index_of=j):
            rows = np.arange(n_iters.size)[index]
            finite = np.flatnonzero(_finite_steps(xp, coefs))
            n_diverged += rows.size - finite.size
            tic = perf_counter()
            if vectorised is not None and xp is not None:
                pred = _xp_predictions(xp, coefs, finite, test_map, problem.y_offset)
                ok = _finite_steps(xp, pred)
                n_diverged += int(np.sum(~ok))
                if ok.any():
                    pred = _take_steps(xp, pred, np.flatnonzero(ok))
                    values = score_path(pred, score_weight)
                    scores[rows[finite[ok]], j] = vectorised[1] * values
                score_time[rows, j] += (perf_counter() - tic) / rows.size
                continue
            if vectorised is not None:
                sign = vectorised[1]
                with np.errstate(over="ignore", invalid="ignore"):
                    flat = coefs[:, :, finite].reshape(coefs.shape[0], -1)
                    pred = test_map(flat).reshape(n_test, coefs.shape[1], -1)
                    pred += problem.y_offset[:, None]
                if direct:
                    # Diverged candidates score nan (no copy, no extra pass).
                    values = score_path(pred, score_weight, overwrite=True)
                    if defined:
                        n_diverged += int(np.sum(np.isnan(values)))
                    scores[rows[finite], j] = sign * values
                    score_time[rows, j] += (perf_counter() - tic) / rows.size
                    continue
                ok = np.isfinite(pred).all(axis=(0, 1))
                n_diverged += int(np.sum(~ok))
                if ok.any():
                    values = score_path(
                        pred if ok.all() else pred[:, :, ok], score_weight
                    )
                    scores[rows[finite[ok]], j] = sign * values
                score_time[rows, j] += (perf_counter() - tic) / rows.size
                continue
            for i in finite:
                k = int(n_iters[rows[i]])
                estimator.set_params(n_iter=k)
                estimator._set_fitted(data, run, coefs[:, :, i], k)
                tic = perf_counter()
                scores[rows[i], j] = _score_point(
                    scorer, estimator, X_test, y_test, score_params, failures
                )
                score_time[rows[i], j] += perf_counter() - tic
        fit_time[:, j] += path_time / n_iters.size
    failures.warn(scores.size)
    return scores, n_diverged, failures.error, (fit_time, score_time)


#: Largest magnitude of the filtered targets (times the sizes of the bases) read
#: as a model's: beyond it the coefficients or predictions of the route through
#: the coefficients could overflow, and ``label_scores`` leaves the split to it.
SAFE_MAGNITUDE = 1e280


def label_scores(estimator, problem, test_map, accuracy, grid, shared, in_order=False):
    """Accuracies of every grid point on a split from eigen-coordinates, or None.

    The decision values of step ``k`` are ``Z @ W_k`` with ``Z = [test_map(basis),
    1]`` (n_test, rank + 1), the test rows in the coordinates of the fold's
    decomposition, and ``W_k = [psi_k * proj; y_offset]``: one product per chunk
    of candidates scores all classes, ``n_test x (rank + 1) x n_classes`` flops a
    candidate instead of the ``(n_test + rank) x n_features x n_classes`` of the
    coefficients and their predictions. A candidate whose filtered targets are not
    finite diverged (its coefficients would not be finite). Returns ``None`` (the
    caller's route through the coefficients) where that route is cheaper (more
    eigen-directions than decision columns), or where finite filtered targets are
    so large that the coefficients or predictions of that route could overflow:
    then every count stays that of the models ``GridSearchCV`` fits. The returns
    are those of ``split_scores``. ``in_order``: the rows of ``test_map`` are
    already in the order of ``accuracy.rows`` (its coordinates are then written
    into ``Z`` directly: ``test_map`` takes ``out=``).
    """
    n_iters, rhos = grid[0], grid[1]
    factor = problem.factor
    n_columns, rank = problem.n_targets, factor.lam.size
    if (
        factor.xp is not None
        or accuracy.n_samples == 0
        or rank > n_columns * n_iters.size * rhos.size
    ):
        return None
    tic = perf_counter()
    basis = factor.basis
    with np.errstate(over="ignore", invalid="ignore"):
        if in_order:
            Z = np.empty((accuracy.order.size, rank + 1))
            Z[:, rank] = 1.0
            coordinates = test_map(basis, out=Z[:, :rank])
        else:
            coordinates = test_map(basis)
            Z = accuracy.rows(coordinates, ones=True)
    sizes = (_max_abs(basis), _max_abs(coordinates))
    if not np.all(np.isfinite(sizes)):
        return None
    reach = rank * max(1.0, sizes[0]) * max(1.0, sizes[1])
    shared += perf_counter() - tic
    shape = (n_iters.size, rhos.size)
    scores = np.full(shape, np.nan)
    fit_time, score_time = np.full(shape, shared), np.zeros(shape)
    n_diverged = 0
    # Memory: the filtered targets of a chunk (the decision values are formed
    # block of rows by block of rows, see DecisionAccuracy).
    chunk = min(grid_chunk_size((rank + 1) * n_columns), n_iters.size)
    buffer = np.empty((rank + 1, n_columns, chunk))  # reused by every chunk
    for j, rho in enumerate(rhos):
        tic = perf_counter()
        run = estimator._plan_run(
            problem, int(n_iters.max()), None, solver="spectral", rho=rho
        )
        psi = problem.filter(run.learning_rate, run.rho, n_iters, run.variant)
        if psi.ndim == 2:
            psi = psi[:, None, :]
        fit_time[:, j] += (perf_counter() - tic) / n_iters.size
        for start in range(0, n_iters.size, chunk):
            tic = perf_counter()
            rows = np.arange(start, min(start + chunk, n_iters.size))
            W = buffer if rows.size == chunk else buffer[:, :, : rows.size]
            with np.errstate(over="ignore", invalid="ignore"):
                np.multiply(
                    psi[:, :, start : start + rows.size],
                    factor.proj[:, :, None],
                    out=W[:rank],
                )
                # max |W| of each step (nan if any is nan), without a temporary
                size = np.maximum(
                    W[:rank].max(axis=(0, 1), initial=0.0),
                    -W[:rank].min(axis=(0, 1), initial=0.0),
                )
            W[rank] = problem.y_offset[:, None]
            finite = np.isfinite(size)
            if np.any(size[finite] * reach > SAFE_MAGNITUDE):
                return None
            n_diverged += rows.size - int(finite.sum())
            if not finite.all():
                rows, W = rows[finite], W[:, :, finite]
            if rows.size:
                scores[rows, j] = accuracy(Z, W)
                score_time[rows, j] += (perf_counter() - tic) / rows.size
    return scores, n_diverged, None, (fit_time, score_time)


def _max_abs(values):
    """``max |values|`` (0 if empty, nan if any is nan), without a temporary."""
    return max(float(values.max(initial=0.0)), -float(values.min(initial=0.0)))


def _split(estimator, X, y, indices, train=None):
    """``_safe_split``; a precomputed kernel of another namespace is indexed there
    (rows ``indices``, columns ``train`` or ``indices``) with ``xp.take``."""
    xp, device = namespace_of(X)
    if xp is None or not estimator.__sklearn_tags__().input_tags.pairwise:
        return _safe_split(estimator, X, y, indices, train)
    rows = xp.asarray(indices, dtype=xp.int64, device=device)
    columns = (
        rows if train is None else xp.asarray(train, dtype=xp.int64, device=device)
    )
    X_subset = xp.take(xp.take(X, rows, axis=0), columns, axis=1)
    return X_subset, _safe_indexing(y, indices)


def _finite_steps(xp, path):
    """Host mask of the steps (last axis) of ``path`` with only finite entries."""
    if xp is None:
        return np.isfinite(path).all(axis=(0, 1))
    return to_numpy(xp.all(xp.isfinite(path), axis=(0, 1)))


def _take_steps(xp, path, steps):
    """``path[:, :, steps]`` in namespace ``xp`` (host integer ``steps``)."""
    index = xp.asarray(steps, dtype=xp.int64, device=array_device(path))
    return xp.take(path, index, axis=2)


def _xp_predictions(xp, coefs, steps, test_map, y_offset):
    """Test predictions (n_test, n_targets, len(steps)) at ``coefs[:, :, steps]``,
    in the namespace ``xp`` of the coefficients."""
    coefs = _take_steps(xp, coefs, steps)
    n_params, n_targets, n_steps = coefs.shape
    pred = test_map(xp.reshape(coefs, (n_params, n_targets * n_steps)))
    return xp.reshape(pred, (pred.shape[0], n_targets, n_steps)) + y_offset[:, None]


def _timed(chunks, fit_time, score_time, index_of):
    """Yield the chunks, adding the time each took to make to its candidates."""
    n_rows = fit_time.shape[0]
    while True:
        tic = perf_counter()
        try:
            index, coefs = next(chunks)
        except StopIteration:
            return
        rows = np.arange(n_rows)[index]
        fit_time[rows, index_of] += (perf_counter() - tic) / max(rows.size, 1)
        yield index, coefs


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
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    # As scikit-learn's metrics: R^2 and explained variance of one sample are nan.
    undefined = [
        metric in ("r2", "explained_variance") and test.size < 2 for _, test in splits
    ]
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
    scores = np.full(shape, np.nan)
    # The one pass of dask is shared by the splits and their candidates.
    fit_time = np.full(shape, (perf_counter() - tic) / max(len(folds), 1))
    score_time = np.zeros(shape)
    n_diverged = 0
    for split, (train_moments, scored, n_train) in enumerate(folds):
        if undefined[split] or not float(scored.sum_weights) > 0.0:
            continue  # a one-sample, empty or zero-weight test fold: nan
        problem = moment_problem(train_moments, estimator.fit_intercept, n_train)
        chunk = grid_chunk_size(2 * problem.n_targets * train_moments.xx.shape[0])
        for j, rho in enumerate(rhos):
            tic = perf_counter()
            estimator.set_params(rho=rho)
            run = estimator._plan_run(problem, int(n_iters.max()), None, "spectral")
            for index, coefs in problem.spectral_coef_chunks(
                run.learning_rate, run.rho, n_iters, run.variant, chunk
            ):
                with np.errstate(over="ignore", invalid="ignore"):
                    values = sign * squared_error_scores(
                        metric, scored, coefs, problem.output.x_mean, problem.y_offset
                    )
                finite = np.isfinite(coefs).all(axis=(0, 1)) & np.isfinite(values)
                n_diverged += int(np.sum(~finite))
                scores[np.arange(n_iters.size)[index][finite], j, split] = values[
                    finite
                ]
            elapsed = (perf_counter() - tic) / n_iters.size
            fit_time[:, j, split] += elapsed / 2
            score_time[:, j, split] += elapsed / 2
    return scores, n_diverged, (fit_time, score_time)


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


def gcv_scores(problem, n_iters, rhos, plan, n_obs):
    """Minus the generalized cross-validation criterion, shape (n_iters, n_rhos).

    ``GCV_k = (RSS_k / S) / (1 - dof_k / n)^2`` with the weighted training residual
    sum of squares, ``S`` the sum of the weights, ``n = n_obs`` the number of
    samples with a positive weight and ``dof_k = trace`` of the smoother (+1 with an
    intercept), averaged over targets; ``dof_k >= n`` gives ``GCV = inf``. Only the
    ratios of the weights matter. ``plan(problem, rho)`` gives the ``SAMRun`` of
    each ``rho``.
    """
    total = problem.sum_weights
    scores = np.empty((n_iters.size, rhos.size))
    for j, rho in enumerate(rhos):
        run = plan(problem, rho)
        eta = run.learning_rate
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rss = problem.rss(eta, run.rho, n_iters)
            dof = problem.dof(eta, run.rho, n_iters)
            gcv = (rss / total) / (1.0 - dof / n_obs) ** 2
        scores[:, j] = -np.where(dof < n_obs, gcv, np.inf).mean(axis=0)
    return scores
