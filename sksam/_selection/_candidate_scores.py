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
from sklearn.utils._indexing import _safe_indexing

from .._warnings import warn
from ._cv_scores import SplitScores, grid_path_chunks

__all__ = ["candidate_scores", "target_candidate_scores"]


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


def target_candidate_scores(estimator, problem, data, grid, test, shared, chunk, xp):
    """``SplitScores`` of per-target selection by the search's scorer: the
    candidates of each target column are scored as if it were the only target
    (the model of that column, 1-D, against its held-out column), so target
    ``t``'s scores are ``candidate_scores`` of the search on ``y[:, t]``.

    The columns share the split's one decomposition (``Problem.select_targets``);
    the scorer is called ``n_targets`` times per candidate. Arguments as in
    ``candidate_scores``; the scores have shape (n_iters, n_rhos, n_targets).
    A scorer returning a dict (several metrics) is a ``ValueError``: per-target
    selection is by one metric.
    """
    X_test, y_test, score_params = test
    n_targets = problem.n_targets
    results = []
    for t in range(n_targets):
        column = data._replace(y=data.y[:, t : t + 1], y_ndim=1)
        y_column = _safe_indexing(y_test, t, axis=1)
        results.append(
            candidate_scores(
                estimator,
                problem.select_targets([t]),
                column,
                grid,
                (X_test, y_column, score_params),
                0.0,
                chunk,
                xp,
            )
        )
        if isinstance(results[-1].scores, dict):
            raise ValueError(
                "per_target=True selects each target by one metric and takes no "
                "multi-metric scoring (the scoring callable returned a dict of "
                "scores); use one metric, or per_target=False."
            )
    errors = [result.error for result in results if result.error is not None]
    return SplitScores(
        np.stack([result.scores for result in results], axis=-1),
        sum(result.n_diverged for result in results),
        errors[0] if errors else None,
        shared + sum(result.fit_time for result in results),
        sum(result.score_time for result in results),
    )
