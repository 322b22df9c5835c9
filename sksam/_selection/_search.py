"""What the selection estimators share: grids, results, the selected model."""

import numpy as np
from scipy.stats import rankdata
from sklearn.base import RegressorMixin
from sklearn.metrics import (
    explained_variance_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.utils.validation import check_is_fitted

from .._warnings import warn

__all__ = [
    "DEFAULT_N_ITERS",
    "VECTORISED_SCORERS",
    "SelectedModelMixin",
    "check_rhos",
    "raise_all_failed",
    "search_results",
]

#: Default stopping-time grid: the 50 distinct integers from 1 to 1000 that round
#: ``np.geomspace(1, 1000, 61)`` (every step up to 10, then about 12% apart).
DEFAULT_N_ITERS = np.unique(np.rint(np.geomspace(1, 1000, 61)).astype(np.int64))

#: Scorers whose value on every grid point of a split is computed by one vectorised
#: call of the same metric (identical to calling the scorer on each fitted model).
VECTORISED_SCORERS = {
    None: (r2_score, 1.0),  # the estimator's ``score``
    "r2": (r2_score, 1.0),
    "explained_variance": (explained_variance_score, 1.0),
    "neg_mean_squared_error": (mean_squared_error, -1.0),
    "neg_root_mean_squared_error": (root_mean_squared_error, -1.0),
    "neg_mean_absolute_error": (mean_absolute_error, -1.0),
}


def check_rhos(rhos):
    """Validated SAM radii: a non-empty 1-D float array of finite values >= 0."""
    values = np.asarray(rhos, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"rhos must be a non-empty 1-D array; got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"rhos must be finite and non-negative; got {values!r}.")
    return values


def raise_all_failed(n_diverged, scoring_error):
    """The error when no ``(n_iter, rho)`` candidate has a score, naming why."""
    if scoring_error is not None:
        raise ValueError(
            "Every (n_iter, rho) candidate failed: the scorer raised an error on "
            f"each fitted model. First error: {scoring_error!r}"
        ) from scoring_error
    if n_diverged:
        raise ValueError(
            "Every (n_iter, rho) candidate failed: the SAM iterates diverged "
            f"(non-finite coefficients or predictions at {n_diverged} grid points). "
            "Use learning_rate='auto' or a smaller learning_rate."
        )
    raise ValueError(
        "Every (n_iter, rho) candidate failed: no split gave a finite score (for "
        "example, test folds too small for the scorer)."
    )


def search_results(split_scores, n_iters, rhos, n_diverged=0, scoring_error=None):
    """``cv_results_`` in the layout and candidate order of ``GridSearchCV``.

    ``split_scores`` has shape (n_iters, n_rhos, n_splits). Candidates run over
    ``ParameterGrid({"n_iter": n_iters, "rho": rhos})``: ``n_iter`` outer, ``rho``
    inner, each in the order given. ``n_diverged`` (grid points whose coefficients
    were not finite) and ``scoring_error`` (the first exception of the scorer) name
    the cause when every candidate failed.
    """
    n_candidates = n_iters.size * rhos.size
    scores = split_scores.reshape(n_candidates, -1)
    params = [{"n_iter": int(k), "rho": float(r)} for k in n_iters for r in rhos]
    results = {
        "param_n_iter": np.ma.MaskedArray(np.repeat(n_iters, rhos.size), mask=False),
        "param_rho": np.ma.MaskedArray(np.tile(rhos, n_iters.size), mask=False),
        "params": params,
    }
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    means = np.average(scores, axis=1)
    results["mean_test_score"] = means
    results["std_test_score"] = np.sqrt(
        np.average((scores - means[:, None]) ** 2, axis=1)
    )
    if np.isnan(means).all():
        raise_all_failed(n_diverged, scoring_error)
    if not np.all(np.isfinite(means)):
        warn(f"One or more of the test scores are non-finite: {means}", UserWarning)
    # GridSearchCV ranks nan means below the worst finite one.
    ranked = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
    return results


class SelectedModelMixin(RegressorMixin):
    """Prediction of the selection estimators through their ``best_estimator_``.

    Shared by the cross-validation (``_cv``) and information-criterion (``_ic``)
    estimators; subclasses implement ``_make_estimator``.
    """

    def _expose_selected(self, estimator):
        """Copy the selected model's fitted attributes; returns ``self``."""
        for name in self._copied_attributes + ("learning_rate_", "n_features_in_"):
            setattr(self, name, getattr(estimator, name))
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        elif hasattr(self, "feature_names_in_"):  # refitted without column names
            del self.feature_names_in_
        return self

    def predict(self, X):
        """Predict with the model refitted at the selected ``(n_iter_, rho_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (the test kernel for ``kernel="precomputed"``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def staged_predict(self, X):
        """Yield the predictions of the selected model after steps ``1..n_iter_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        check_is_fitted(self)
        yield from self.best_estimator_.staged_predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = self._make_estimator().__sklearn_tags__().input_tags
        tags.target_tags.multi_output = True
        return tags
