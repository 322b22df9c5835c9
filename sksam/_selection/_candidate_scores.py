"""Per-candidate scoring of a split: the search's scorer on each fitted candidate.

For a scoring the estimator has no ``ScorePath`` of (a callable, a scorer name
outside its path metrics, metadata besides ``sample_weight``), each candidate's
model is set from the path of the split's one decomposition (``_set_fitted``) and
the scorer called on it, as ``GridSearchCV`` calls it on its refitted models. A
scorer of several metrics (``_multimetric``) returns a dict: the split's scores
are then a dict of arrays.
"""

from time import perf_counter

import numpy as np

from .._warnings import warn
from ._cv_scores import SplitScores, grid_path_chunks

__all__ = ["candidate_scores"]


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

    def record(self, error):
        if self.error is None:
            self.error = error
        self.count += 1


def _score_point(scorer, estimator, X_test, y_test, score_params, failures):
    """The scorer on one fitted grid point; ``nan`` if it fails (counted).

    A scorer returning a dict (several metrics) gives a dict of floats: a
    metric that failed (its entry is the error's text, as multi-metric scorers
    give it) is ``nan``.
    """
    try:
        value = scorer(estimator, X_test, y_test, **score_params)
        if not isinstance(value, dict):
            return float(value)
    except Exception as exc:  # as GridSearchCV with error_score=np.nan
        failures.record(exc)
        return np.nan
    scores, failed = {}, None
    for name, score in value.items():
        if isinstance(score, str):  # the multi-metric scorer's failed metric
            failed = failed or ValueError(f"scorer {name!r} failed: {score.strip()}")
            score = np.nan
        scores[name] = float(score)
    if failed is not None:
        failures.record(failed)
    return scores


class _CandidateScores:
    """The scores of a split's candidates, one metric or a dict of them (known
    from the scorer's first answer)."""

    def __init__(self, shape):
        self.shape = shape
        self.single = np.full(shape, np.nan)
        self.named = None

    def __setitem__(self, index, value):
        if not isinstance(value, dict):
            self.single[index] = value
            return
        if self.named is None:
            self.named = {}
        for name, score in value.items():
            if name not in self.named:
                self.named[name] = np.full(self.shape, np.nan)
            self.named[name][index] = score

    def result(self):
        """An array (one metric) or a dict name -> array."""
        return self.single if self.named is None else self.named


def candidate_scores(estimator, problem, data, grid, test, shared, chunk, xp):
    """``SplitScores`` of every candidate by the search's scorer.

    ``test = (X_test, y_test, score_params)`` of the split; ``shared`` is the
    split's validation and decomposition time; ``chunk`` the stopping times of one
    chunk of coefficients; ``xp`` the namespace of the split's data.
    """
    X_test, y_test, score_params = test
    n_iters, rhos = grid.n_iters, grid.rhos
    shape = (n_iters.size, rhos.size)
    scores = _CandidateScores(shape)
    fit_time, score_time = np.full(shape, shared), np.zeros(shape)
    failures, n_diverged = ScoringFailure(), 0
    paths = grid_path_chunks(estimator, problem, grid, chunk, fit_time, score_time, xp)
    for j, run, rows, coefs, finite in paths:
        n_diverged += rows.size - finite.size
        for i in finite:
            k = int(n_iters[rows[i]])
            estimator.set_params(n_iter=k)
            estimator._set_fitted(data, run, coefs[:, :, i], k)
            tic = perf_counter()
            scores[rows[i], j] = _score_point(
                grid.scorer, estimator, X_test, y_test, score_params, failures
            )
            score_time[rows[i], j] += perf_counter() - tic
    failures.warn(fit_time.size)
    return SplitScores(
        scores.result(), n_diverged, failures.error, fit_time, score_time
    )
