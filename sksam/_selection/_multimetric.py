"""Multi-metric scoring and ``refit`` of the cross-validation searches.

``scoring`` takes what ``GridSearchCV`` takes: one metric (a scorer name, a
callable, ``None``), several (a list, tuple or set of scorer names, or a dict of
names to scorer names or callables), or a callable returning a dict of scores.
``refit`` selects as ``GridSearchCV``'s does: ``True`` (one metric), a metric's
name, a callable of ``cv_results_`` returning ``best_index_``, or ``False``.

Every metric is scored from the same path of each split: metrics the estimator
has a ``ScorePath`` of share one prediction of each chunk of the path
(``CombinedScorePath``); otherwise one call of a multi-metric scorer per
candidate (with scikit-learn's prediction cache) scores them all.
"""

from numbers import Integral

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.metrics._scorer import _check_multimetric_scoring, _MultimetricScorer

from .._array_api import array_namespace
from .._core._namespaces import copy_of
from .._score_path import ScorePath
from .._warnings import warn

__all__ = [
    "MULTIMETRIC_TYPES",
    "CombinedScorePath",
    "MultiScoring",
    "MultimetricScorer",
    "check_gcv_scoring",
    "check_refit",
    "is_multimetric_scoring",
    "multimetric_results",
    "named_scores",
    "resolve_scoring",
    "score_path_of",
    "select_best_index",
    "split_score_dicts",
]


class MultiScoring:
    """Several named metrics (the search's ``scoring`` as a list, set or dict).

    Attributes
    ----------
    names : tuple of str
        The metric names, the suffixes of the ``cv_results_`` keys.
    specs : tuple
        Each metric's scoring as given: a scorer name (which the estimator may
        have a ``ScorePath`` of) or a callable.
    scorers : dict
        Name -> validated scorer (``GridSearchCV.scorer_``).
    """

    def __init__(self, names, specs, scorers):
        self.names, self.specs, self.scorers = tuple(names), tuple(specs), scorers

    def __repr__(self):
        return f"MultiScoring({list(self.names)})"


#: The types of ``scoring`` that name several metrics up front (a callable may
#: also return a dict of scores, known only once called).
MULTIMETRIC_TYPES = (list, tuple, set, dict)

#: scikit-learn's scorer of several metrics (a dict of scores per call).
MultimetricScorer = _MultimetricScorer


def is_multimetric_scoring(scoring):
    """Whether ``scoring`` names several metrics up front (``MULTIMETRIC_TYPES``)."""
    return isinstance(scoring, MULTIMETRIC_TYPES)


def resolve_scoring(estimator, scoring, refit):
    """``(scorer, scoring)`` of a search: what its splits call and look up.

    For one metric, ``scoring`` is returned as is with ``check_scoring``'s
    scorer. For several, ``scoring`` becomes a ``MultiScoring`` and the scorer a
    multi-metric scorer (``GridSearchCV``'s, returning a dict of scores, a
    failing metric's entry an error text); ``refit`` is checked against the
    names (``check_refit``). Invalid lists and dicts raise ``GridSearchCV``'s
    errors.
    """
    if not is_multimetric_scoring(scoring):
        return check_scoring(estimator, scoring=scoring), scoring
    scorers = _check_multimetric_scoring(estimator, scoring)
    check_refit(refit, scorers)
    if isinstance(scoring, dict):
        specs = [scoring[name] for name in scorers]
    else:
        specs = list(scorers)
    multi = MultiScoring(scorers, specs, scorers)
    return _MultimetricScorer(scorers=scorers, raise_exc=False), multi


def check_refit(refit, names):
    """``GridSearchCV``'s check of ``refit`` for multi-metric scoring: ``False``, a
    callable, or one of ``names``; anything else (``True`` included) is a
    ``ValueError``."""
    if refit is False or callable(refit):
        return
    if isinstance(refit, str) and refit in names:
        return
    raise ValueError(
        "For multi-metric scoring, the parameter refit must be set to a scorer "
        "key or a callable to refit an estimator with the best parameter setting "
        "on the whole data and make the best_* attributes available for that "
        f"metric. If this is not needed, refit should be set to False explicitly. "
        f"{refit!r} was passed; the scorer keys are {sorted(names)}."
    )


def check_gcv_scoring(scoring):
    """The error of a multi-metric ``scoring`` with ``cv="gcv"``."""
    if is_multimetric_scoring(scoring):
        raise ValueError(
            "cv='gcv' scores every candidate by one criterion (-GCV) and takes no "
            f"multi-metric scoring (got scoring={scoring!r}). Use a "
            "cross-validation splitter (e.g. cv=5) to score several metrics."
        )


class CombinedScorePath(ScorePath):
    """The ``ScorePath`` of several metrics, each scored on the same predictions.

    ``scores`` returns shape (n_steps, n_metrics) (``shape`` is ``(n_metrics,)``).
    Built by ``combined_score_path`` where the estimator has a score path of
    every metric.
    """

    def __init__(self, paths):
        self.paths = tuple(paths)
        self.shape = (len(self.paths),)

    def bind(self, y_true, sample_weight, data, encoded=False):
        return CombinedScorePath(
            path.bind(y_true, sample_weight, data, encoded) for path in self.paths
        )

    def __call__(self, pred):
        return np.stack([path(pred) for path in self.paths], axis=-1)

    def scores(self, pred):
        """Each metric's signed scores (a score path may overwrite ``pred``: all
        but the last are given a copy); the most steps any metric counted as
        diverged."""
        xp, _ = array_namespace(pred)
        columns, n_diverged = [], 0
        for index, path in enumerate(self.paths):
            last = index == len(self.paths) - 1
            chunk = pred if last else copy_of(xp, pred)
            values, diverged = path.scores(chunk)
            columns.append(values)
            n_diverged = max(n_diverged, diverged)
        return np.stack(columns, axis=-1), n_diverged


def score_path_of(estimator, scoring):
    """The estimator's (unbound) score path of a search's ``scoring``, or ``None``.

    For a ``MultiScoring``, a ``CombinedScorePath`` where the estimator has a
    score path of every metric (else ``None``: every metric is scored by the
    multi-metric scorer on each candidate).
    """
    if not isinstance(scoring, MultiScoring):
        return estimator._score_path(scoring)
    paths = []
    for spec in scoring.specs:
        path = estimator._score_path(spec) if isinstance(spec, str) else None
        if path is None:
            return None
        paths.append(path)
    return CombinedScorePath(paths)


def named_scores(scores, names):
    """One split's scores as a dict name -> array, or ``None`` (one metric).

    ``scores`` is a dict already (the candidate route), an array with a last
    axis over ``names`` (the score-path route), or an array of one metric (a
    single metric, or a split where every candidate failed: ``None``).
    """
    if isinstance(scores, dict):
        return scores
    if names is not None and scores.ndim == 3:
        return {name: scores[..., index] for index, name in enumerate(names)}
    return None


def split_score_dicts(per_split, names, shape):
    """The scores of the splits by metric: ``{name: (n_iters, n_rhos, n_splits)}``,
    or ``None`` when every split scored one metric.

    ``per_split`` holds each split's scores (see ``named_scores``), ``shape`` is
    ``(n_iters, n_rhos)``; ``names`` are the metrics of a ``MultiScoring``
    (``None`` for a callable ``scoring``, whose names are those of its first
    dict). A split without named
    scores (every candidate failed) is ``nan`` for every metric, as in
    ``GridSearchCV``.
    """
    dicts = [named_scores(scores, names) for scores in per_split]
    if names is None:
        first = next((d for d in dicts if d is not None), None)
        if first is None:
            return None
        names = tuple(first)
    return {
        name: np.stack(
            [
                np.full(shape, np.nan) if d is None else np.asarray(d[name], float)
                for d in dicts
            ],
            axis=-1,
        )
        for name in names
    }


#: The keys of ``search_results`` named after the metric.
_METRIC_KEYS = ("mean_test_", "std_test_", "rank_test_")


def multimetric_results(scores, make_results, refit):
    """``cv_results_`` of several metrics in ``GridSearchCV``'s layout.

    ``scores`` maps each name to its split scores (n_iters, n_rhos, n_splits);
    ``make_results(split_scores)`` is ``search_results`` of one metric's scores
    (the shared keys: times, parameters). Each metric's ``split{k}_test_score``,
    ``mean_test_score``, ``std_test_score`` and ``rank_test_score`` become
    ``..._<name>``. A metric whose every mean score is ``nan`` ranks every
    candidate 1 (as ``GridSearchCV``) with a warning, unless it is the ``refit``
    metric or every metric failed: then the search's error names the cause.
    """
    names = list(scores)
    finite = [n for n in names if not np.isnan(scores[n].mean(axis=-1)).all()]
    refit_metric = refit if isinstance(refit, str) and refit in names else None
    if not finite or (refit_metric is not None and refit_metric not in finite):
        make_results(scores[refit_metric or names[0]])  # raises: all failed
    per_metric = {
        name: make_results(scores[name])
        if name in finite
        else _failed_results(scores[name])
        for name in names
    }
    shared = per_metric[finite[0]]  # the times and parameters
    results = {k: v for k, v in shared.items() if not k.endswith("_test_score")}
    for name, one in per_metric.items():
        for key, value in one.items():
            if key.endswith("_test_score"):
                results[key.removesuffix("score") + name] = value
    return results


def _failed_results(split_scores):
    """The score keys of a metric that failed on every candidate (``nan``, rank
    1 for all, a warning), as ``GridSearchCV`` gives them."""
    n_candidates = split_scores.shape[0] * split_scores.shape[1]
    scores = split_scores.reshape(n_candidates, -1)
    results = {}
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    means = np.full(n_candidates, np.nan)
    warn(f"One or more of the test scores are non-finite: {means}", UserWarning)
    results["mean_test_score"] = means
    results["std_test_score"] = np.full(n_candidates, np.nan)
    results["rank_test_score"] = np.ones(n_candidates, dtype=np.int32)
    return results


def select_best_index(refit, refit_metric, results):
    """``GridSearchCV``'s ``best_index_``: ``refit(results)`` for a callable
    (checked to be an integer index of a candidate), else the first candidate of
    rank 1 of ``rank_test_<refit_metric>``."""
    if callable(refit):
        best = refit(results)
        if not isinstance(best, Integral):
            raise TypeError("best_index_ returned is not an integer")
        if best < 0 or best >= len(results["params"]):
            raise IndexError("best_index_ index out of range")
        return int(best)
    return int(results[f"rank_test_{refit_metric}"].argmin())
