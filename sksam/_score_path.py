"""Score paths: held-out scores of every step of a path, declared by the estimator.

Early stopping and the cross-validation searches score the predictions of many
stopping times at once. What a score is belongs to the estimator, not to the search:
each estimator returns a ``ScorePath`` of a scoring from its ``_score_path`` hook
(``_base``; ``None``: the scoring cannot be scored so), the regressors one of a
regression metric (``_regression``), the classifiers one of the accuracy of the
labels (``_classification``). The caller binds it to its held-out targets
(``bind``) and calls the methods declared here, nothing else.
"""

from abc import ABC, abstractmethod

import numpy as np

from ._array_api import array_namespace, to_numpy
from ._core._namespaces import index_array

__all__ = ["ScorePath", "finite_steps", "take_steps"]


class ScorePath(ABC):
    """The held-out score of every step of a path.

    Built by an estimator's ``_score_path(scoring)``, then bound to one set of
    held-out targets and their weights by ``bind``. A path of predictions has
    shape (n_test, n_targets, n_steps): the fitted values of the estimator's
    encoded targets (``FitData.y``), offsets included, at each step.

    Attributes
    ----------
    sign : float
        ``1.0``, or ``-1.0`` for a loss scored as its negative (``neg_*`` scorers).
    moment_metric : str or None
        The name of the metric in ``_core._moments.squared_error_scores`` when it
        is a function of the weighted moments of the scored rows (a search on dask
        scores it from the moments reduced with the folds), else ``None``.
    shape : tuple
        The shape of one step's score: ``()`` for one metric (several metrics
        scored at once: ``(n_metrics,)``, ``_selection._multimetric``).
    """

    sign = 1.0
    moment_metric = None
    shape = ()

    @abstractmethod
    def bind(self, y_true, sample_weight, data, encoded=False):
        """A ``ScorePath`` of the held-out targets ``y_true``.

        Parameters
        ----------
        y_true : array-like of shape (n_test,) or (n_test, n_outputs)
            Held-out targets as passed to ``fit`` (``encoded=False``), or rows of
            the validated ``data.y`` (``encoded=True``).
        sample_weight : array-like of shape (n_test,) or None
            Weights of the score.
        data : FitData
            The validated training data of the model being scored.
        encoded : bool, default=False
            Whether ``y_true`` is given in the encoding of ``FitData.y``.
        """

    @abstractmethod
    def __call__(self, pred):
        """The metric (unsigned) at each step of ``pred``: shape (n_steps,).

        ``pred`` of shape (n_test, n_targets, n_steps). Early stopping calls it on
        every step as is (a diverged step may score ``nan``).
        """

    def scores(self, pred):
        """Signed scores of a chunk of steps, and how many steps diverged.

        Steps whose predictions are not all finite score ``nan`` and count as
        diverged; the others are ``sign`` times the metric. ``pred`` is the
        caller's fresh chunk: it may be overwritten.

        Returns
        -------
        scores : ndarray of shape (n_steps,)
        n_diverged : int
        """
        xp, _ = array_namespace(pred)
        ok = finite_steps(xp, pred)
        scores = np.full(ok.shape, np.nan)
        if ok.any():
            if not ok.all():
                pred = take_steps(xp, pred, np.flatnonzero(ok))
            scores[ok] = self.sign * self(pred)
        return scores, int(np.sum(~ok))

    def target_scores(self, pred):
        """Signed scores of each target at each step of a chunk, for per-target
        selection: shape (n_targets, n_steps).

        Each column is scored as if it were the only target (the score of
        ``pred[:, t, k]`` against the held-out column ``t``), ``nan`` where that
        column is not all finite. ``pred`` is the caller's fresh chunk: it may be
        overwritten. Only score paths with a per-target form have it (the
        regressors' metrics); the others raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} has no per-target scores.")

    def coordinate_scorer(self):
        """A scorer of decision values given in eigen-coordinates, or ``None``.

        A search may score a whole split from the coordinates ``Z`` of the test
        rows in a fold's eigenbasis and the filtered targets ``W`` of each step
        (``P[:, :, k] = Z @ W[:, :, k]``) instead of from predictions, where the
        scorer returned here computes the same scores that way (see
        ``_classification._labels.DecisionAccuracy``: ``order``, ``n_samples``,
        ``rows(Z, ones)`` and ``__call__(Z, W)``). ``None``: score predictions.
        """
        return None

    def chunk_scorer(self, data):
        """A maker of scorers of test rows chunk by chunk, or ``None``.

        A search on dask without a ``moment_metric`` scores its candidates in one
        pass over the test rows (``_dask_splits.split_row_sums``). ``data`` is the
        validated training data; the maker returned here takes ``models``, one
        array (n_features + 1, n_outputs, K) per split mapping a row ``[x, 1]``
        to the predictions of the ``K`` candidates fitted on its training part,
        and gives a scorer with ``n_out`` and ``__call__(x, y, w, rows)``: the
        chunk's rows ``x``, targets ``y`` (as passed to ``fit``), scorer weights
        ``w`` (or ``None``) and the indices of each split's test rows in it ->
        per split, the total weight of those rows and the metric's sum over them
        for each candidate (shape ``(n_splits, 1 + K)``). ``None``: the metric
        cannot be scored so.
        """
        return None


def finite_steps(xp, path):
    """Host mask of the steps (last axis) of ``path`` with only finite entries."""
    return to_numpy(xp.all(xp.isfinite(path), axis=(0, 1)))


def take_steps(xp, path, steps):
    """``path[:, :, steps]`` in namespace ``xp`` (host integer ``steps``)."""
    return xp.take(path, index_array(xp, steps, path), axis=2)
