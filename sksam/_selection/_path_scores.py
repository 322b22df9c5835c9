"""Vectorised scoring of a split: the estimator's ``ScorePath`` over the whole path.

``rho`` and ``n_iter`` only change the spectral filter, so every candidate of a
split is read off the path of the split's one decomposition, chunk of stopping
times by chunk, and scored by one call of the estimator's ``ScorePath`` on the test
predictions of the chunk (``path_split_scores``), or, where the score path offers a
scorer of eigen-coordinates and that is cheaper, from the test rows in the fold's
eigenbasis without forming predictions (``coordinate_scores``).
"""

from time import perf_counter

import numpy as np

from .._array_api import to_numpy
from .._core._namespaces import is_numpy
from .._score_path import take_steps
from ._cv_scores import SplitScores, grid_chunk_size, grid_path_chunks

__all__ = ["coordinate_scores", "path_split_scores", "target_chunk_scores"]


def path_split_scores(
    estimator, problem, test_map, score_path, grid, shared, chunk, xp
):
    """``SplitScores`` of every candidate from the test predictions of the path.

    ``test_map`` maps coefficients to centred test predictions; ``score_path`` is
    the estimator's bound ``ScorePath``; ``xp`` the namespace of the split's data.
    Non-finite (diverged) candidates score ``nan``.
    """
    n_iters, rhos = grid.n_iters, grid.rhos
    shape = (n_iters.size, rhos.size)
    targets = (problem.n_targets,) if grid.per_target else ()
    # (per-target: a target axis; several metrics: a last axis over them)
    scores = np.full(shape + targets + score_path.shape, np.nan)
    fit_time, score_time = np.full(shape, shared), np.zeros(shape)
    n_diverged = 0
    paths = grid_path_chunks(estimator, problem, grid, chunk, fit_time, score_time, xp)
    for j, _, rows, coefs, finite in paths:
        n_diverged += rows.size - finite.size
        tic = perf_counter()
        if grid.per_target:
            scores[rows, j] = target_chunk_scores(
                xp, coefs, test_map, problem.y_offset, score_path
            ).T
            score_time[rows, j] += (perf_counter() - tic) / rows.size
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            pred = _predictions(xp, coefs, finite, test_map, problem.y_offset)
        values, diverged = score_path.scores(pred)
        n_diverged += diverged
        scores[rows[finite], j] = values
        score_time[rows, j] += (perf_counter() - tic) / rows.size
    return SplitScores(scores, n_diverged, None, fit_time, score_time)


def target_chunk_scores(xp, coefs, test_map, y_offset, score_path):
    """Per-target scores (n_targets, n_steps) of a chunk of coefficients
    (``ScorePath.target_scores``): a target diverged at a step (``nan``) where
    its coefficients or predictions there are not all finite, as when its
    column is fitted alone."""
    steps = np.arange(coefs.shape[2])
    with np.errstate(over="ignore", invalid="ignore"):
        pred = _predictions(xp, coefs, steps, test_map, y_offset)
        values = score_path.target_scores(pred)
    finite = np.asarray(to_numpy(xp.all(xp.isfinite(coefs), axis=0)))
    values[~finite] = np.nan
    return values


def _predictions(xp, coefs, steps, test_map, y_offset):
    """Test predictions (n_test, n_targets, len(steps)) at ``coefs[:, :, steps]``,
    in the namespace ``xp`` of the coefficients (a fresh array)."""
    if len(steps) < coefs.shape[2]:
        coefs = take_steps(xp, coefs, steps)
    n_params, n_targets, n_steps = coefs.shape
    pred = test_map(xp.reshape(coefs, (n_params, n_targets * n_steps)))
    pred = xp.reshape(pred, (pred.shape[0], n_targets, n_steps))
    pred += y_offset[:, None]
    return pred


#: Largest magnitude of the filtered targets (times the sizes of the bases) read
#: as a model's: beyond it the coefficients or predictions of the route through
#: the coefficients could overflow, and ``coordinate_scores`` leaves the split to
#: it.
SAFE_MAGNITUDE = 1e280


def coordinate_scores(estimator, problem, test_map, scorer, grid, shared, in_order):
    """``SplitScores`` of every candidate from eigen-coordinates, or ``None``.

    ``scorer`` is the score path's ``coordinate_scorer()`` (for a classifier,
    ``DecisionAccuracy``). The decision values of step ``k`` are ``Z @ W_k`` with
    ``Z = [test_map(basis), 1]`` (n_test, rank + 1), the test rows in the
    coordinates of the fold's decomposition, and ``W_k = [psi_k * proj;
    y_offset]``: one product per chunk of candidates scores all outputs,
    ``n_test x (rank + 1) x n_outputs`` flops a candidate instead of the ``(n_test
    + rank) x n_features x n_outputs`` of the coefficients and their predictions.
    A candidate whose filtered targets are not finite diverged (its coefficients
    would not be finite). Returns ``None`` (the caller's route through the
    coefficients) where that route is cheaper (more eigen-directions than output
    columns), or where finite filtered targets are so large that the coefficients
    or predictions of that route could overflow: then every count stays that of
    the models ``GridSearchCV`` fits. ``in_order``: the rows of ``test_map`` are
    already in the order of ``scorer.rows`` (its coordinates are then written
    into ``Z`` directly: ``test_map`` takes ``out=``).
    """
    n_iters, rhos = grid.n_iters, grid.rhos
    factor = problem.factor
    n_columns, rank = problem.n_targets, factor.lam.size
    if (
        not is_numpy(factor.xp)  # the labels' coordinates are numpy's
        or scorer.n_samples == 0
        or rank > n_columns * n_iters.size * rhos.size
    ):
        return None
    tic = perf_counter()
    basis = factor.basis
    with np.errstate(over="ignore", invalid="ignore"):
        if in_order:
            Z = np.empty((scorer.order.size, rank + 1))
            Z[:, rank] = 1.0
            coordinates = test_map(basis, out=Z[:, :rank])
        else:
            coordinates = test_map(basis)
            Z = scorer.rows(coordinates, ones=True)
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
            problem, int(n_iters.max()), solver="spectral", rho=rho
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
                scores[rows, j] = scorer(Z, W)
                score_time[rows, j] += (perf_counter() - tic) / rows.size
    return SplitScores(scores, n_diverged, None, fit_time, score_time)


def _max_abs(values):
    """``max |values|`` (0 if empty, nan if any is nan), without a temporary."""
    return max(float(values.max(initial=0.0)), -float(values.min(initial=0.0)))
