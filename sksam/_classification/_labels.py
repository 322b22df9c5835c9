"""Least-squares classification: class labels to +/-1 indicators and back.

A classifier fits the least-squares problem on the indicator columns of
``LabelBinarizer(pos_label=1, neg_label=-1)`` (one column for two classes, one per
class otherwise, one per label for multilabel targets), as ``RidgeClassifier``
does, and predicts by the same decision rule: the sign of the one column, the
arg-max over the class columns, or the sign of each label column.
"""

import copy
from functools import lru_cache, partial

import numpy as np
from scipy import sparse
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import compute_sample_weight
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, _check_y, column_or_1d

from .._core._namespaces import is_numpy
from .._score_path import ScorePath
from .._validation import (
    RowGroups,
    array_namespace,
    dask_labels,
    dask_rows,
    takes_dask_route,
    to_namespace,
    to_numpy,
)

__all__ = [
    "AccuracyScorePath",
    "ChunkAccuracy",
    "DecisionAccuracy",
    "accuracy_path",
    "binarize_labels",
    "dask_binarize_labels",
    "decision_labels",
]


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
    y_type = type_of_target(y, input_name="y")
    if y_type not in ("binary", "multiclass"):
        check_classification_targets(y)  # the error for continuous targets
    if not y_type.startswith("multilabel"):
        y = column_or_1d(y, warn=True)
    if y_type in ("binary", "multiclass") and y.dtype.kind in _NUMPY_LABEL_KINDS:
        Y, binarizer = _binarize_labels(y)
    else:
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
        Y = np.asarray(binarizer.fit_transform(y), dtype=np.float64)
    if class_weight:
        weights = compute_sample_weight(class_weight, y)
        sample_weight = _check_sample_weight(
            sample_weight, Y, dtype=np.float64, ensure_non_negative=True
        )
        sample_weight = sample_weight * weights
    return Y, sample_weight, binarizer


#: Label dtypes (bool, integers, floats, unicode) that ``np.unique`` sorts as
#: ``LabelBinarizer`` does (object arrays may mix types: its checks apply).
_NUMPY_LABEL_KINDS = "biufU"


def _binarize_labels(y):
    """``LabelBinarizer(pos_label=1, neg_label=-1).fit_transform`` of 1-D binary or
    multiclass labels, from one ``np.unique``: ``(Y, binarizer)``.

    The binarizer is fitted on the classes only (a handful of values instead of
    ``y``), and ``Y`` set from the class codes: the same classes (values and dtype)
    and indicators, a few times faster (one fit per split in a search).
    """
    values, codes = np.unique(y, return_inverse=True)
    classes = np.asarray(sorted(set(values)))  # as sklearn's unique_labels forms it
    # A copy of the binarizer fitted on these classes (the folds of a search share
    # their classes); a deep one: a fitted model's classes_ are its own.
    binarizer = copy.deepcopy(_fitted_binarizer(classes.dtype.str, classes.tobytes()))
    return _indicators(codes, classes.size), binarizer


def _indicators(codes, n_classes):
    """The +/-1 indicator columns of class codes (one column for two classes)."""
    if n_classes <= 2:  # one column: +1 for the second class
        return np.where(codes == 1, 1.0, -1.0)[:, None]
    Y = np.full((codes.shape[0], n_classes), -1.0)
    Y[np.arange(codes.shape[0]), codes] = 1.0
    return Y


def _class_codes(labels, classes):
    """The index in ``classes`` of each of ``labels`` (all of them classes)."""
    return np.searchsorted(classes, labels)


def _take(codes, values):
    return values[codes]


def dask_binarize_labels(X, y, sample_weight, class_weight, estimator=None):
    """The dask counterpart of ``binarize_labels``: ``(X, Y, sample_weight,
    binarizer, groups)``, all lazy but the binarizer.

    The classes (and their counts, for ``"balanced"``) come from one pass over
    ``y`` (``da.unique``); each chunk of labels is then encoded on its own into the
    +/-1 indicators of ``binarize_labels`` and the weights of ``class_weight``.
    ``groups`` (``RowGroups``) are the rows' classes with the class-weight rule, for
    a search to weigh the classes of each training part as a fit on it would.
    """
    if y is None:
        name = "estimator" if estimator is None else type(estimator).__name__
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    X, labels, classes, counts = dask_labels(X, y)
    # The checks of binarize_labels, on the distinct labels.
    _check_y(classes, multi_output=True, estimator=estimator)
    y_type = type_of_target(classes, input_name="y")
    if y_type not in ("binary", "multiclass"):
        check_classification_targets(classes)
    if classes.dtype.kind in _NUMPY_LABEL_KINDS:
        classes = np.asarray(sorted(set(classes)))
        binarizer = copy.deepcopy(
            _fitted_binarizer(classes.dtype.str, classes.tobytes())
        )
    else:
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(classes)
        classes = binarizer.classes_
    n_classes = classes.size
    row_chunks = X.chunks[0]
    codes = labels.map_blocks(_class_codes, classes=classes, dtype=np.intp)
    n_columns = 1 if n_classes <= 2 else n_classes
    Y = codes.map_blocks(
        _indicators,
        n_classes=n_classes,
        new_axis=1,
        chunks=(row_chunks, (n_columns,)),
        dtype=np.float64,
    )
    if sample_weight is not None:
        sample_weight = dask_rows(sample_weight, "sample_weight", row_chunks)
    rule = _ClassWeights(class_weight, classes)
    weights = sample_weight
    if class_weight:
        per_row = codes.map_blocks(
            _take, values=rule(np.asarray(counts, dtype=np.float64)), dtype=float
        )
        weights = per_row if sample_weight is None else sample_weight * per_row
    groups = RowGroups(codes, n_classes, sample_weight, rule)
    return X, Y, weights, binarizer, groups


class _ClassWeights:
    """The weight of each class for the row counts of the classes in a training
    part (``__call__(counts)``), as ``compute_sample_weight(class_weight, y)``
    gives them: ``n / (n_classes counts)`` for ``"balanced"``, the dict's values
    (1 for a class it leaves out), or ones."""

    def __init__(self, class_weight, classes):
        self.balanced = class_weight == "balanced"
        if self.balanced or not class_weight:
            self.fixed = np.ones(classes.size)
        else:
            self.fixed = np.asarray(
                compute_class_weight(class_weight, classes=classes, y=classes),
                dtype=np.float64,
            )

    def __call__(self, counts):
        if not self.balanced:
            return self.fixed
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (counts.size * counts)


@lru_cache(maxsize=8)
def _fitted_binarizer(dtype, classes):
    """``LabelBinarizer(pos_label=1, neg_label=-1)`` fitted on the classes given by
    their dtype and bytes (hashable, so that the folds of a search fit it once)."""
    classes = np.frombuffer(classes, dtype=dtype)
    return LabelBinarizer(pos_label=1, neg_label=-1).fit(classes)


def _is_multilabel(binarizer):
    return binarizer.y_type_.startswith("multilabel")


def decision_labels(binarizer, decision):
    """The labels predicted from decision values of shape (n,) or (n, n_columns).

    The decision rule of scikit-learn's linear classifiers: ``decision > 0`` picks
    the second of two classes, the arg-max the class otherwise (the first on ties);
    for multilabel targets each label is on where its decision is positive.
    Labels are decoded on the host; numeric labels of decision values of another
    array namespace are returned in it (as scikit-learn's linear classifiers do).
    """
    if takes_dask_route(decision):  # labels chunk by chunk, lazily
        return decision.map_blocks(
            partial(decision_labels, binarizer),
            drop_axis=list(range(1, decision.ndim)),
            dtype=binarizer.classes_.dtype,
        )
    xp, device = array_namespace(decision)
    if not is_numpy(xp):
        labels = decision_labels(binarizer, to_numpy(decision))
        if labels.dtype.kind in "biuf":
            return to_namespace(labels, xp, device)
        return labels
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
    decision = to_numpy(decision)  # labels are compared on the host
    n_samples, n_columns, n_steps = decision.shape
    if _is_multilabel(binarizer):
        truth = y_true.toarray() if sparse.issparse(y_true) else np.asarray(y_true)
        on = decision > 0  # (n, labels, steps)
        correct = np.all(on == (truth != 0)[:, :, None], axis=1)
    else:
        classes = binarizer.classes_
        if n_columns == 1:
            index = (decision[:, 0, :] > 0).astype(np.intp)
            index = np.minimum(index, classes.size - 1)
        else:
            index = decision.argmax(axis=1)
        correct = index == _class_index(classes, y_true)[:, None]
    return _mean_correct(correct, sample_weight)


class AccuracyScorePath(ScorePath):
    """The accuracy of the labels of every step (a classifier's ``_score_path``).

    ``bind`` takes the held-out labels (``encoded``: their +/-1 indicators) and
    the binarizer of the training labels (``data.labels``).
    """

    def bind(self, y_true, sample_weight, data, encoded=False):
        bound = AccuracyScorePath()
        y_true = to_numpy(y_true)  # labels are compared on the host
        if encoded:
            y_true = data.labels.inverse_transform(y_true)
        bound.binarizer, bound.y_true = data.labels, y_true
        bound.sample_weight = None if sample_weight is None else to_numpy(sample_weight)
        return bound

    def __call__(self, pred):
        """``accuracy_path`` of the decision values ``pred``."""
        return accuracy_path(self.binarizer, self.y_true, pred, self.sample_weight)

    def coordinate_scorer(self):
        """``DecisionAccuracy`` of the same labels and weights."""
        return DecisionAccuracy(self.binarizer, self.y_true, self.sample_weight)

    def chunk_scorer(self, data):
        """Makes the ``ChunkAccuracy`` of the classes of ``data`` for given models."""
        return partial(ChunkAccuracy, data.labels)


def _class_index(classes, y_true):
    """The index of each label in ``classes`` (-1: a class not seen in fit, never
    predicted): labels compared by index, as cheap for strings as for integers."""
    truth = np.asarray(y_true)
    truth = truth.reshape(-1) if truth.ndim == 2 else truth
    position = np.minimum(np.searchsorted(classes, truth), classes.size - 1)
    return np.where(classes[position] == truth, position, -1)


def _mean_correct(correct, sample_weight):
    """``accuracy_score`` of each column of ``correct`` (n_samples, n_steps), bool."""
    if sample_weight is None:
        # Counts of 0/1 are exact in float64: count / n, as np.average gives.
        return np.count_nonzero(correct, axis=0) / correct.shape[0]
    # Each step's row contiguous: the same sums as accuracy_score's on one step.
    correct = np.ascontiguousarray(correct.T, dtype=np.float64)
    weights = np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (correct * weights).sum(axis=1) / weights.sum()


#: Decision values of one slab of test rows (for all classes and the steps of a
#: chunk) held at once: small enough to stay in cache between the product that
#: forms them and the comparisons that read them (1 MB: a search at (5000, 100)
#: with 10 classes ran ~10% faster than with 2 MB slabs), large enough for few
#: products, and one reused buffer.
BLOCK_ENTRIES = 2**17


class DecisionAccuracy:
    """``accuracy_path`` of decision values given as ``Z @ W`` (eigen-coordinates).

    The search scores every candidate from ``P[:, :, k] = Z @ W[:, :, k]`` with
    ``Z`` (n_samples, m) the test rows in the coordinates of a fold's
    decomposition (and a column of ones for the offsets) and ``W`` (m,
    n_columns, n_steps) the filtered targets. The test rows are sorted by their
    true class once (``rows``), so that the arg-max test needs no arg-max: a
    sample of class ``c`` is classified correctly iff its value in column ``c`` is
    above every earlier column's and at least every later column's (the first
    maximum wins, as in ``argmax``). The decision values are formed slab of rows
    by slab of rows (at most ``BLOCK_ENTRIES`` at once, in one reused buffer) and
    compared while in cache. Each score equals ``accuracy_path``'s on the same
    decision values (finite ones: the caller checks).

    Parameters
    ----------
    binarizer : LabelBinarizer
        The fitted binarizer of the training labels.
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels of the test rows.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the accuracy.
    """

    def __init__(self, binarizer, y_true, sample_weight=None):
        self.sample_weight = sample_weight
        self._buffer = None
        self.multilabel = _is_multilabel(binarizer)
        if self.multilabel:
            truth = y_true.toarray() if sparse.issparse(y_true) else y_true
            self.truth = np.asarray(truth) != 0
            self.n_samples = self.truth.shape[0]
            self.order = np.arange(self.n_samples)
            self.bounds = np.array([0, self.n_samples])
            return
        classes = binarizer.classes_
        truth = _class_index(classes, y_true)
        self.n_samples = truth.size
        self.binary = len(classes) <= 2
        self.single = len(classes) == 1  # one class seen: always predicted
        # The rows of class c are order[bounds[c]:bounds[c + 1]]; the rows of
        # classes not seen in fit (never correct) come first and are left out.
        order = np.argsort(truth, kind="stable")
        bounds = np.searchsorted(truth[order], np.arange(len(classes) + 1))
        self.order, self.bounds = order[bounds[0] :], bounds - bounds[0]

    def rows(self, Z, ones=False):
        """The rows of ``Z`` that ``__call__`` reads, in its order (with a column
        of ones appended if ``ones``)."""
        rows = np.empty((self.order.size, Z.shape[1] + int(ones)))
        rows[:, : Z.shape[1]] = Z[self.order]
        if ones:
            rows[:, -1] = 1.0
        return rows

    def __call__(self, Z, W):
        """Accuracy of each step, shape (n_steps,), of ``Z = rows(...)`` and ``W``."""
        correct = self._correct_rows(Z, W)
        if self.sample_weight is None:
            return np.count_nonzero(correct, axis=0) / self.n_samples
        return _mean_correct(self._in_weight_order(correct), self.sample_weight)

    def correct_weight(self, Z, W):
        """The number (unweighted) or the weight of the rows classified right at
        each step, shape (n_steps,): ``__call__`` before its division by the
        number or total weight of the rows."""
        correct = self._correct_rows(Z, W)
        if self.sample_weight is None:
            return np.count_nonzero(correct, axis=0).astype(np.float64)
        correct = np.ascontiguousarray(self._in_weight_order(correct).T, np.float64)
        return (correct * np.asarray(self.sample_weight, np.float64)).sum(axis=1)

    def _in_weight_order(self, correct):
        full = np.zeros((self.n_samples, correct.shape[1]), dtype=bool)
        full[self.order] = correct  # back in the order of the weights
        return full

    def _correct_rows(self, Z, W):
        """Whether each row of ``Z`` (in ``order``) is classified right at each
        step: shape (n_rows, n_steps)."""
        m, n_columns, n_steps = W.shape
        W = np.ascontiguousarray(W).reshape(m, n_columns * n_steps)
        per_row = n_columns * n_steps
        size = max(1, BLOCK_ENTRIES // per_row)
        if self._buffer is None or self._buffer.size < size * per_row:
            self._buffer = np.empty(size * per_row)
        correct = np.zeros((Z.shape[0], n_steps), dtype=bool)
        for start in range(0, Z.shape[0], size):
            stop = min(start + size, Z.shape[0])
            P = self._buffer[: (stop - start) * per_row].reshape(stop - start, -1)
            np.matmul(Z[start:stop], W, out=P)
            P = P.reshape(stop - start, n_columns, n_steps)
            # The classes whose rows meet this slab.
            first = np.searchsorted(self.bounds, start, side="right") - 1
            for c in range(first, self.bounds.size - 1):
                lo, hi = max(self.bounds[c], start), min(self.bounds[c + 1], stop)
                if lo >= stop:
                    break
                if lo < hi:
                    block = P[lo - start : hi - start]
                    correct[lo:hi] = self._correct(c, block, slice(lo, hi))
        return correct

    def _correct(self, c, P, rows):
        """Whether each row of ``P`` (sorted rows ``rows``, of true class ``c``) is
        classified right."""
        if self.multilabel:
            return np.all((P > 0) == self.truth[self.order[rows], :, None], axis=1)
        if self.single:
            return True
        if self.binary:  # one column: its sign picks the second class
            positive = P[:, 0] > 0.0
            return positive if c == 1 else ~positive
        value = P[:, c]
        ok = value > P[:, :c].max(axis=1) if c > 0 else np.ones(value.shape, bool)
        if c + 1 < P.shape[1]:
            ok &= value >= P[:, c + 1 :].max(axis=1)
        return ok


class ChunkAccuracy:
    """The correct weight of every candidate on the test rows of a row chunk.

    A cross-validation on dask scores the accuracy in a pass over the test rows
    (``_dask_splits.split_row_sums``): for each split ``j``, ``weights[j]`` (d + 1,
    n_columns, K) maps a test row ``[x, 1]`` to the decision values of the ``K``
    candidates fitted on its training part. Called on a chunk (``x``, its labels
    ``y``, the scorer's weights ``w`` or ``None`` and the rows of each split's
    test fold in it), it returns per split the total weight of those rows and the
    weight of the rows each candidate classifies right (``DecisionAccuracy``):
    shape ``(n_splits, 1 + K)``.
    """

    def __init__(self, binarizer, weights):
        self.binarizer = binarizer
        self.weights = weights

    @property
    def n_out(self):
        return len(self.weights) * (1 + self.weights[0].shape[-1])

    def __call__(self, x, y, w, rows):
        out = np.zeros((len(self.weights), 1 + self.weights[0].shape[-1]))
        for split, (test, W) in enumerate(zip(rows, self.weights, strict=True)):
            if test.size == 0:
                continue
            weight = None if w is None else w[test]
            scorer = DecisionAccuracy(self.binarizer, y[test], weight)
            out[split, 0] = test.size if weight is None else weight.sum()
            if scorer.order.size:
                Z = scorer.rows(np.asarray(x[test], dtype=np.float64), ones=True)
                out[split, 1:] = scorer.correct_weight(Z, W)
        return out
