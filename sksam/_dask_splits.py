"""The splits of a cross-validation on dask input: their moments and row sums.

The moments of all the rows and of every split come from one pass of dask
(``split_moments``, or ``feature_split_moments`` where each split sees the rows
through its own features), over the row sets of ``_dask_moments``: ``X`` is read
once, never indexed. A classifier's accuracy comes from one more pass over the test
rows (``split_row_sums``). Nothing here imports dask at module level.
"""

from typing import NamedTuple

import numpy as np

from ._dask import as_dask_array, label_rows
from ._dask_moments import (
    RowSets,
    all_rows,
    label_sets,
    mask_sets,
    member_arg,
    reduce_jobs,
    reduce_sets,
    row_indices,
    set_rows,
    single_block,
)

__all__ = [
    "FoldMoments",
    "RowGroups",
    "SplitMoments",
    "Splits",
    "feature_split_moments",
    "fold_moments",
    "split_moments",
    "split_row_sums",
    "weigh_groups",
]


# ------------------------------------------------------------ the splits of a CV
class RowGroups(NamedTuple):
    """Rows in groups whose weights depend on the rows fitted.

    A classifier's ``class_weight="balanced"`` weighs each class by the number of
    its rows in the training part: the moments of each split are reduced per group
    (``codes``, a dask integer array in ``0..n_groups-1``) with ``sample_weight``
    (without the group weights), and ``group_weights(counts)`` gives the weight of
    each group from its row counts in a training part.
    """

    codes: object
    n_groups: int
    sample_weight: object
    group_weights: object


class FoldMoments(NamedTuple):
    """The moments of one split: its training rows (one ``RowMoments`` per group,
    with their row counts), its scored rows (``None`` if not asked for), its
    numbers of training and test rows and of training rows with a positive
    weight."""

    train: list
    train_counts: np.ndarray
    scored: object
    n_train: int
    n_test: int
    n_train_positive: int


class SplitMoments(NamedTuple):
    """The moments of all the rows (per group, with row counts) and of every split,
    and the test rows of the splits (``RowSets`` for ``split_row_sums``)."""

    full: list
    full_counts: np.ndarray
    folds: list
    test_rows: RowSets


def _complement(n_samples, train, test):
    """Whether ``train`` is exactly the rows not in ``test`` (each once)."""
    if train.size + test.size != n_samples:
        return False
    seen = np.zeros(n_samples, dtype=bool)
    seen[train] = True
    seen[test] = True
    return bool(seen.all())


def _compact(rows, n_samples):
    """Row indices in the smallest of int32 and intp that holds them."""
    return rows.astype(np.int32 if n_samples < 2**31 else np.intp, copy=False)


class Splits:
    """The ``(train, test)`` splits of a search, held compactly for dask input.

    Built from any iterable of splits, consumed one split at a time: the test rows
    of every split are kept, the training rows only where they are not the
    complement of the test fold (5-fold splits of 4M rows hold 16 MB instead of
    the 160 MB of their index arrays). Indexing and iteration give ``(train,
    test)`` pairs (a complement recomputed).

    Parameters
    ----------
    n_samples : int
    splits : iterable of (train, test)
        Integer indices or boolean masks.
    keep_order : bool, default=False
        Keep a training part that is its test fold's complement when it lists
        the rows out of order (a shuffle split's), so that indexing gives it as
        the splitter did: what a Nystroem model's landmark draw depends on.
    """

    def __init__(self, n_samples, splits, keep_order=False):
        self.n_samples = n_samples
        self.tests, self.trains, self._complements = [], [], []
        for train, test in splits:
            train, test = row_indices(train, n_samples), row_indices(test, n_samples)
            complement = _complement(n_samples, train, test)
            self.tests.append(_compact(test, n_samples))
            self._complements.append(complement)
            drop = complement and not (keep_order and np.any(np.diff(train) < 0))
            self.trains.append(None if drop else _compact(train, n_samples))

    def __len__(self):
        return len(self.tests)

    def __getitem__(self, index):
        test, train = self.tests[index], self.trains[index]
        if train is None:
            keep = np.ones(self.n_samples, dtype=bool)
            keep[test] = False
            train = np.flatnonzero(keep)
        return train, test

    def __iter__(self):
        return (self[index] for index in range(len(self)))

    def n_train(self, index):
        train = self.trains[index]
        return self.n_samples - self.tests[index].size if train is None else train.size

    def complement(self, index):
        """Whether the training part of split ``index`` is its test fold's
        complement."""
        return self._complements[index]

    def test_labels(self):
        """The test fold of each row (``len(self)``: none) when the test folds
        are disjoint and every training part is its test fold's complement
        (K-fold and the like), else ``None``."""
        k = len(self)
        if not all(map(self.complement, range(k))):
            return None
        if sum(test.size for test in self.tests) > self.n_samples:
            return None
        labels = np.full(self.n_samples, k, dtype=np.min_scalar_type(k))
        for index, test in enumerate(self.tests):
            if np.any(labels[test] != k):
                return None  # overlapping (or repeated) test rows
            labels[test] = index
        return labels


def split_moments(
    X, y, sample_weight, fit_intercept, splits, score_weighted, groups=None
):
    """The moments of all the rows and of every split, from one pass of dask.

    When the test folds are disjoint and each training part is the complement of
    its test fold (K-fold, stratified and group K-fold, leave-one-out, ...), each
    row carries the label of its test fold and each chunk reduces one Gram per
    fold: the training moments of a split are the total minus its fold. Other
    splits (shuffle splits, overlapping test folds) carry a bit per split for its
    test rows (and for its training rows where they are not the complement).
    Either way ``X`` is read once, never indexed, and what is held is a chunk plus
    ``O(k (d + t)^2)``.

    Parameters
    ----------
    X, y, sample_weight : validated dask arrays (``validate_dask_fit_data``)
        With ``groups``, ``sample_weight`` is ignored for ``groups.sample_weight``.
    fit_intercept : bool
    splits : Splits or iterable of (train, test)
    score_weighted : bool or None
        Whether the scored (test) moments are weighted; ``None``: none needed.
    groups : RowGroups or None

    Returns
    -------
    SplitMoments
    """
    n_samples = X.shape[0]
    if not isinstance(splits, Splits):
        splits = Splits(n_samples, splits)
    n_groups, codes = 1, None
    if groups is not None:
        n_groups, codes = groups.n_groups, groups.codes
        sample_weight = groups.sample_weight
        if sample_weight is not None:
            sample_weight = sample_weight.rechunk((X.chunks[0],))
    scored = score_weighted is not None
    unweighted = scored and sample_weight is not None and not score_weighted
    k = len(splits)
    labels = splits.test_labels()
    # A set is (selector, weighted); the training moments of split j are those of
    # the set ``train_set[j]``, or all the rows minus the set (j, True).
    train_set = {}
    if labels is not None:
        sets = [(fold, True) for fold in range(k + 1)]
        if unweighted:
            sets += [(fold, False) for fold in range(k)]
        rowsets = label_sets(labels, k + 1, sets)
    else:
        # Column j: the test rows of split j; then the training rows of the
        # splits that are not complements.
        columns = list(splits.tests)
        sets = [(None, True)]
        for j in range(k):
            if splits.complement(j):
                sets.append((j, True))
            else:
                train_set[j] = (len(columns), True)
                columns.append(splits.trains[j])
                sets.append(train_set[j])
        if scored:
            sets += [
                (j, not unweighted)
                for j in range(k)
                if unweighted or not splits.complement(j)
            ]
        rowsets = mask_sets(n_samples, columns, sets)
    test_rows = rowsets.subset(range(k), (False,) * k)
    moments, counts = reduce_sets(
        X, y, sample_weight, fit_intercept, rowsets, codes, n_groups
    )
    counts, positives = counts[..., 0], counts[..., 1].sum(axis=-1)
    index = {selector_weighted: i for i, selector_weighted in enumerate(sets)}
    if labels is not None:
        full = [
            _sum(moments[fold][g] for fold in range(k + 1)) for g in range(n_groups)
        ]
        full_counts = counts[: k + 1].sum(axis=0)
        full_positive = positives[: k + 1].sum()
    else:
        full, full_counts, full_positive = moments[0], counts[0], positives[0]
    folds = []
    for j in range(k):
        if j in train_set:
            train_moments = moments[index[train_set[j]]]
            train_counts = counts[index[train_set[j]]]
            train_positive = positives[index[train_set[j]]]
        else:
            fold = index[(j, True)]
            train_moments = [full[g] - moments[fold][g] for g in range(n_groups)]
            train_counts = full_counts - counts[fold]
            train_positive = full_positive - positives[fold]
        scored_moments = None
        if scored:
            scored_moments = _sum(moments[index[(j, not unweighted)]])
        folds.append(
            FoldMoments(
                train_moments,
                train_counts,
                scored_moments,
                splits.n_train(j),
                splits.tests[j].size,
                int(train_positive),
            )
        )
    return SplitMoments(full, full_counts, folds, test_rows)


def feature_split_moments(
    X, split_X, y, sample_weight, fit_intercept, splits, score_weighted, groups=None
):
    """``split_moments`` where each split sees the rows through its own features.

    A Nystroem model's features depend on its landmarks, drawn from its training
    rows: split ``j``'s moments (training and scored rows) are those of
    ``split_X[j]`` and all the rows' those of ``X``, dask arrays of the same rows
    (feature maps of one input, whose chunks are produced once: one pass of dask).
    Each split reduces its own ``(d_j + t + 1)^2`` moments, its training rows as
    all the rows minus its test fold where they are the complement.
    """
    n_samples = X.shape[0]
    if not isinstance(splits, Splits):
        splits = Splits(n_samples, splits, keep_order=True)
    n_groups, codes = 1, None
    if groups is not None:
        n_groups, codes = groups.n_groups, groups.codes
        sample_weight = groups.sample_weight
    scored = score_weighted is not None
    unweighted = scored and sample_weight is not None and not score_weighted
    k = len(splits)
    labels = splits.test_labels()
    jobs = [(X, all_rows())]
    for j in range(k):
        # Sets: all the rows, the test rows, [the unweighted test rows] for a
        # complement; else the training rows [, the scored test rows].
        if labels is not None:
            sets = [(None, True), (j, True)] + ([(j, False)] if unweighted else [])
            rowsets = label_sets(labels, k + 1, sets)
        elif splits.complement(j):
            sets = [(None, True), (0, True)] + ([(0, False)] if unweighted else [])
            rowsets = mask_sets(n_samples, [splits.tests[j]], sets)
        else:
            sets = [(1, True)] + ([(0, not unweighted)] if scored else [])
            rowsets = mask_sets(n_samples, [splits.tests[j], splits.trains[j]], sets)
        jobs.append((split_X[j], rowsets))
    reduced = reduce_jobs(jobs, y, sample_weight, fit_intercept, codes, n_groups)
    (full, counts), split_sets = reduced[0], reduced[1:]
    full, full_counts = full[0], counts[0, :, 0]
    folds = []
    for j, (moments, counts) in enumerate(split_sets):
        counts, positives = counts[..., 0], counts[..., 1].sum(axis=-1)
        if splits.complement(j):
            train = [moments[0][g] - moments[1][g] for g in range(n_groups)]
            train_counts = counts[0] - counts[1]
            train_positive = positives[0] - positives[1]
            scored_moments = _sum(moments[2 if unweighted else 1]) if scored else None
        else:
            train, train_counts, train_positive = moments[0], counts[0], positives[0]
            scored_moments = _sum(moments[1]) if scored else None
        folds.append(
            FoldMoments(
                train,
                train_counts,
                scored_moments,
                splits.n_train(j),
                splits.tests[j].size,
                int(train_positive),
            )
        )
    test_sets = [(j, False) for j in range(k)]
    if labels is not None:
        test_rows = label_sets(labels, k + 1, test_sets)
    else:
        test_rows = mask_sets(n_samples, splits.tests, test_sets)
    return SplitMoments(full, full_counts, folds, test_rows)


def _sum(moments):
    """The sum of ``RowMoments`` about one shift."""
    moments = list(moments)
    total = moments[0]
    for other in moments[1:]:
        total = total + other
    return total


def weigh_groups(moments, counts, groups):
    """The ``RowMoments`` of rows in groups (one per group) with the group weights
    of ``groups`` (``RowGroups``) for these row ``counts``; the one ``RowMoments``
    without groups."""
    if groups is None:
        return moments[0]
    weights = groups.group_weights(counts)
    return _sum(m.scaled(float(w)) for m, w in zip(moments, weights, strict=True))


def fold_moments(X, y, sample_weight, fit_intercept, splits, score_weighted):
    """Training and scored ``RowMoments`` of every split, from one pass of dask.

    Returns a list of ``(train_moments, scored_moments, n_train)`` (see
    ``split_moments``).
    """
    moments = split_moments(X, y, sample_weight, fit_intercept, splits, score_weighted)
    return [(fold.train[0], fold.scored, fold.n_train) for fold in moments.folds]


# ------------------------------------------------------------------ row sums
def _chunk_sums(x, y, w, member, *, scorer, spec, n_out):
    """``func(x, y, w, rows)`` of one chunk (``rows``: index arrays of each set)."""
    x, y, member = single_block(x), single_block(y), single_block(member)
    rows = [
        np.arange(x.shape[0]) if isinstance(r, slice) else r
        for r in set_rows(spec, member, x.shape[0])
    ]
    return np.asarray(scorer(x, y, w, rows), dtype=np.float64).reshape(1, n_out)


def split_row_sums(func, X, y, sample_weight, rowsets, n_out):
    """The sum over the row chunks of ``func(x, y, w, rows)``: one pass of dask.

    ``func`` gets a chunk of ``X``, of ``y`` (any dtype, e.g. class labels), of
    the weights (or ``None``) and the row indices of each set of ``rowsets`` in the
    chunk, and returns ``n_out`` floats (e.g. per split and candidate, the weight
    of the rows it classifies correctly).
    """
    import dask.array as da

    row_chunks = X.chunks[0]
    y = label_rows(y, row_chunks)
    args = [X, "ij", y, "i" if y.ndim == 1 else "ik"]
    if sample_weight is None:
        args += [None, None]
    else:
        weights = as_dask_array(sample_weight, "sample_weight", row_chunks)
        args += [weights.rechunk((row_chunks,)), "i"]
    args += member_arg(rowsets, row_chunks)
    parts = da.blockwise(
        _chunk_sums,
        "iz",
        *args,
        new_axes={"z": n_out},
        adjust_chunks={"i": 1},
        concatenate=False,
        dtype=np.float64,
        meta=np.empty((0, 0)),
        scorer=func,
        spec=rowsets.spec(),
        n_out=n_out,
    )
    return parts.sum(axis=0).compute()
