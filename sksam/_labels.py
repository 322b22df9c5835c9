"""Least-squares classification: class labels to +/-1 indicators and back.

A classifier fits the least-squares problem on the indicator columns of
``LabelBinarizer(pos_label=1, neg_label=-1)`` (one column for two classes, one per
class otherwise, one per label for multilabel targets), as ``RidgeClassifier``
does, and predicts by the same decision rule: the sign of the one column, the
arg-max over the class columns, or the sign of each label column.
"""

import numpy as np
from scipy import sparse
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, _check_y, column_or_1d

__all__ = ["accuracy_path", "binarize_labels", "decision_labels"]


def binarize_labels(y, sample_weight, class_weight, estimator=None):
    """Indicator targets of the labels ``y``: ``(Y, sample_weight, binarizer)``.

    ``Y`` (n_samples, n_columns) float64 holds +/-1; ``sample_weight`` is multiplied
    by the weights of ``class_weight`` (a dict or ``"balanced"``, as in
    ``RidgeClassifier``).
    """
    if y is None:
        name = "estimator" if estimator is None else type(estimator).__name__
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    y = _check_y(y, multi_output=True, estimator=estimator)
    check_classification_targets(y)
    if not type_of_target(y, input_name="y").startswith("multilabel"):
        y = column_or_1d(y, warn=True)
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
    Y = np.asarray(binarizer.fit_transform(y), dtype=np.float64)
    if class_weight:
        weights = compute_sample_weight(class_weight, y)
        sample_weight = _check_sample_weight(
            sample_weight, Y, dtype=np.float64, ensure_non_negative=True
        )
        sample_weight = sample_weight * weights
    return Y, sample_weight, binarizer


def _is_multilabel(binarizer):
    return binarizer.y_type_.startswith("multilabel")


def decision_labels(binarizer, decision):
    """The labels predicted from decision values of shape (n,) or (n, n_columns).

    The decision rule of scikit-learn's linear classifiers: ``decision > 0`` picks
    the second of two classes, the arg-max the class otherwise (the first on ties);
    for multilabel targets each label is on where its decision is positive.
    """
    classes = binarizer.classes_
    if _is_multilabel(binarizer):
        return binarizer.inverse_transform(np.where(decision > 0, 1.0, -1.0))
    if decision.ndim == 1 or decision.shape[1] == 1:
        if classes.size == 1:  # one class seen: nothing else can be predicted
            return np.full(decision.shape[0], classes[0])
        return classes[(decision.reshape(-1) > 0).astype(np.intp)]
    return classes[decision.argmax(axis=1)]


def accuracy_path(binarizer, y_true, decision, sample_weight=None):
    """``accuracy_score`` of the labels of every step: shape (n_steps,).

    ``decision`` (n_samples, n_columns, n_steps) holds the decision values of the
    steps, ``y_true`` the true labels (a label-indicator matrix for multilabel
    targets: subset accuracy). Each value equals ``accuracy_score(y_true,
    decision_labels(binarizer, decision[:, :, k]), sample_weight=sample_weight)``.
    """
    n_samples, n_columns, n_steps = decision.shape
    if _is_multilabel(binarizer):
        truth = y_true.toarray() if sparse.issparse(y_true) else np.asarray(y_true)
        on = decision > 0  # (n, labels, steps)
        correct = np.all(on == (truth != 0)[:, :, None], axis=1)
    else:
        truth = np.asarray(y_true)
        truth = truth.reshape(-1) if truth.ndim == 2 else truth
        classes = binarizer.classes_
        if n_columns == 1:
            index = (decision[:, 0, :] > 0).astype(np.intp)
            index = np.minimum(index, classes.size - 1)
        else:
            index = decision.argmax(axis=1)
        # Labels compared by their index in ``classes_`` (-1: a class not seen in
        # fit, never predicted), as cheap for strings as for integers.
        position = np.minimum(np.searchsorted(classes, truth), classes.size - 1)
        truth_index = np.where(classes[position] == truth, position, -1)
        correct = index == truth_index[:, None]
    # Each step's row contiguous: the same sums as accuracy_score's on one step.
    correct = np.ascontiguousarray(correct.T, dtype=np.float64)
    if sample_weight is None:
        return correct.mean(axis=1)
    weights = np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (correct * weights).sum(axis=1) / weights.sum()
