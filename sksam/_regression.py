"""The regressors' side of the estimator protocol: regression metrics as score paths.

``SAMRegressorMixin`` is ``RegressorMixin`` (``score`` is R^2) plus the
``_score_path`` hook of ``BaseSAM``: early stopping scores R^2, a search its scoring
when it is one of ``PATH_METRICS``, every step of a path in one vectorised call
(``_scores.path_scores``).
"""

import copy

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import (
    explained_variance_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.utils.validation import _num_samples

from ._array_api import array_namespace, compute_dtype, to_namespace
from ._core._namespaces import astype, is_numpy
from ._score_path import ScorePath
from ._scores import DIRECT_METRICS, path_scores, r2_totals

__all__ = ["MOMENT_METRICS", "PATH_METRICS", "MetricScorePath", "SAMRegressorMixin"]

#: Scorings whose value on every step of a path is computed by one vectorised
#: call of the same metric (identical to calling the scorer on each fitted
#: model): ``(metric, sign)``; ``None`` is the estimator's ``score``.
PATH_METRICS = {
    None: (r2_score, 1.0),
    "r2": (r2_score, 1.0),
    "explained_variance": (explained_variance_score, 1.0),
    "neg_mean_squared_error": (mean_squared_error, -1.0),
    "neg_root_mean_squared_error": (root_mean_squared_error, -1.0),
    "neg_mean_absolute_error": (mean_absolute_error, -1.0),
}


#: The metrics of ``PATH_METRICS`` that are functions of the moments of the
#: scored rows: their names in ``_core._moments.squared_error_scores``.
MOMENT_METRICS = {
    r2_score: "r2",
    explained_variance_score: "explained_variance",
    mean_squared_error: "mean_squared_error",
    root_mean_squared_error: "root_mean_squared_error",
}


class MetricScorePath(ScorePath):
    """A regression metric of every step against the held-out targets.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred, sample_weight=..., multioutput="raw_values")``.
    sign : float
        Multiplies the metric in ``scores`` (``-1.0`` for a loss).
    """

    def __init__(self, metric, sign):
        self.metric, self.sign = metric, sign
        self.moment_metric = MOMENT_METRICS.get(metric)

    def bind(self, y_true, sample_weight, data, encoded=False):
        """Bound to ``y_true`` (the targets are their own encoding); scored in
        the namespace and on the device of ``data.X``."""
        xp, device = array_namespace(data.X)
        bound = copy.copy(self)
        bound.xp = xp
        n_test = _num_samples(y_true)
        # The predictions and the metric stay in the namespace of the data, on its
        # device; the scores come to the host.
        y_true = to_namespace(y_true, xp, device)
        y_true = xp.reshape(astype(xp, y_true, compute_dtype(xp, device)), (n_test, -1))
        sample_weight = to_namespace(sample_weight, xp, device)
        bound.y_true, bound.sample_weight = y_true, sample_weight
        # R^2 of one sample is nan for every step: not a divergence.
        bound.defined = n_test >= 2 or self.metric is not r2_score
        bound._totals = None
        return bound

    @property
    def totals(self):
        """What R^2 takes from the targets alone (``_scores.r2_totals``), computed
        at the first chunk of steps for all of them; ``None`` for other metrics
        and namespaces."""
        direct_r2 = is_numpy(self.xp) and self.metric is r2_score
        if self._totals is None and direct_r2 and self.y_true.shape[0] >= 2:
            self._totals = r2_totals(self.y_true, self.sample_weight)
        return self._totals

    def __call__(self, pred):
        return path_scores(
            self.metric, self.y_true, pred, self.sample_weight, totals=self.totals
        )

    def scores(self, pred):
        """As ``ScorePath.scores``; R^2 and (R)MSE are scored directly from ``pred``
        (overwritten), non-finite steps ``nan``, without a separate pass."""
        # numpy's direct metrics work in place in the chunk of predictions.
        if not is_numpy(self.xp) or self.metric not in DIRECT_METRICS:
            return super().scores(pred)
        values = path_scores(
            self.metric,
            self.y_true,
            pred,
            self.sample_weight,
            overwrite=True,
            totals=self.totals,
        )
        n_diverged = int(np.sum(np.isnan(values))) if self.defined else 0
        return self.sign * values, n_diverged

    def target_scores(self, pred):
        """As ``ScorePath.target_scores``: the metric of each column
        (``multioutput="raw_values"``), numpy's direct metrics in place."""
        overwrite = is_numpy(self.xp) and self.metric in DIRECT_METRICS
        values = path_scores(
            self.metric,
            self.y_true,
            pred,
            self.sample_weight,
            overwrite=overwrite,
            raw=True,
            totals=self.totals,
        )
        return self.sign * values


class SAMRegressorMixin(RegressorMixin):
    """``RegressorMixin`` and the regressors' ``_score_path`` (see ``BaseSAM``)."""

    def _score_path(self, scoring):
        """The ``MetricScorePath`` of ``scoring`` (``None``: R^2), or ``None``.

        ``None`` when ``scoring`` is not one of ``PATH_METRICS`` (a search then
        calls its scorer on each fitted candidate).
        """
        if scoring is not None and not isinstance(scoring, str):
            return None
        entry = PATH_METRICS.get(scoring)
        return None if entry is None else MetricScorePath(*entry)
