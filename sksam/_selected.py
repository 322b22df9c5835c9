"""What the selection estimators share: scores along a path, the selected model.

``path_scores`` scores every stopping time of a path in one metric call (early
stopping, the CV search); ``SelectedModelMixin`` predicts through the model refitted
at the selected parameters (the CV and information-criterion estimators).
"""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["SelectedModelMixin", "path_scores"]


def path_scores(metric, y_true, pred, sample_weight=None):
    """``metric`` at each step of a path, averaged over targets: shape (n_steps,).

    ``pred`` has shape (n_samples, n_targets, n_steps) and ``y_true`` shape
    (n_samples, n_targets). One call of the scikit-learn ``metric`` (which must accept
    ``multioutput="raw_values"``) scores every (target, step) column, so each value
    is exactly what ``metric(y_true, pred[:, :, k])`` returns (uniform average).
    """
    n_samples, n_targets, n_steps = pred.shape
    tiled = np.repeat(y_true[:, :, None], n_steps, axis=2)
    raw = metric(
        tiled.reshape(n_samples, -1),
        pred.reshape(n_samples, -1),
        sample_weight=sample_weight,
        multioutput="raw_values",
    )
    return raw.reshape(n_targets, n_steps).mean(axis=0)


class SelectedModelMixin(RegressorMixin):
    """Prediction of the selection estimators through their ``best_estimator_``.

    Shared by the cross-validation (``_cv_search.py``) and information-criterion
    (``_ic_search.py``) estimators; subclasses implement ``_make_estimator``.
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
