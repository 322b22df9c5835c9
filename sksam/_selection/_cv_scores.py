"""What the scoring routes of a cross-validation split share.

A split is scored by one of these routes (each its own module):

- ``_split_scores``: the split's data and problem (one decomposition), then
  ``_path_scores`` (the estimator's ``ScorePath`` over the whole path, or from
  eigen-coordinates) or ``_candidate_scores`` (a custom scorer on each candidate);
- ``_dask_scores``: all the splits of dask input in one pass, from moments;
- ``_gcv``: generalized cross-validation, from one decomposition of all the data.

They exchange the named results defined here and cut long grids into chunks of
``CHUNK_ENTRIES``.
"""

from time import perf_counter
from typing import NamedTuple

import numpy as np

from .._run import path_solver
from .._score_path import finite_steps

__all__ = [
    "CHUNK_ENTRIES",
    "SplitGrid",
    "SplitScores",
    "grid_chunk_size",
    "timed_chunks",
]

#: Entries of one chunk of test predictions (or coefficients) scored at once: the
#: grid is scored in chunks of stopping times, so memory does not grow with it.
CHUNK_ENTRIES = 2**20


class SplitGrid(NamedTuple):
    """What a split is scored on: the grid and the search's scoring.

    ``scorer`` is the search's scorer (called per candidate where the estimator
    has no ``ScorePath`` of ``scoring``); ``scoring`` is the search's ``scoring``
    parameter (``None``: the estimator's ``score``), or a
    ``_multimetric.MultiScoring`` of several metrics (``scorer`` then returns a
    dict of scores). ``per_target``: score each target column as if alone
    (``_per_target``): the scores get a target axis after the grid's,
    (n_iters, n_rhos, n_targets) (one metric only).
    """

    n_iters: np.ndarray
    rhos: np.ndarray
    scorer: object
    scoring: object = None
    per_target: bool = False


class SplitScores(NamedTuple):
    """Scores of every candidate on one split (or, from dask, on every split).

    ``scores``, ``fit_time`` and ``score_time`` have shape (n_iters, n_rhos) (with
    a last axis over the splits from dask; ``scores`` with a target axis after
    the grid's for per-target selection); with several metrics ``scores`` is a
    dict name -> such an array, or an array with a last axis over the metrics
    (``_multimetric.named_scores``); ``dof`` is the degrees of freedom of each
    candidate over the training fold's samples (``_dof_guard``; ``None`` where
    not computed), of the shape of ``fit_time``; ``n_diverged`` counts the non-finite
    candidates; ``error`` is the first exception a scorer raised, or ``None``. The
    fit time of a candidate is the split's validation, problem and decomposition
    time (shared by all candidates) plus its share of its ``rho``'s path; its score
    time its share of the vectorised scoring (or of its own scorer call).
    """

    scores: np.ndarray
    n_diverged: int
    error: object
    fit_time: np.ndarray
    score_time: np.ndarray
    dof: object = None


def grid_chunk_size(*rows):
    """Stopping times per chunk when each costs ``sum(rows)`` entries."""
    return max(1, CHUNK_ENTRIES // max(1, sum(rows)))


def timed_chunks(chunks, fit_time, score_time, index_of):
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


def grid_path_chunks(estimator, problem, grid, chunk, fit_time, score_time, xp):
    """Yield ``(j, run, rows, coefs, finite)``: the coefficients of the stopping
    times ``grid.n_iters[rows]`` at ``grid.rhos[j]``, in chunks, from the split's one
    problem (the variant's filter, or the loop for a variant without one).

    The estimator's ``rho`` is set to the grid point's (what a scorer sees); the
    time of each run's set-up and chunks is added to ``fit_time``; ``finite``
    indexes the chunk's steps whose coefficients are all finite (``xp``: the
    namespace of the coefficients).
    """
    n_iters = grid.n_iters
    for j, rho in enumerate(grid.rhos):
        tic = perf_counter()
        estimator.set_params(rho=rho)
        run = estimator._plan_run(
            problem,
            int(n_iters.max()),
            solver=path_solver(estimator.variant),
            rho=rho,
        )
        fit_time[:, j] += (perf_counter() - tic) / n_iters.size
        chunks = run.coef_chunks(n_iters, chunk)
        for index, coefs in timed_chunks(chunks, fit_time, score_time, index_of=j):
            rows = np.arange(n_iters.size)[index]
            yield j, run, rows, coefs, np.flatnonzero(finite_steps(xp, coefs))
