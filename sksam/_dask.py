"""Dask arrays: the one hook through which sksam meets them.

For a ``dask.array`` chunked by rows, dask reduces the weighted row moments of
``_core._moments.RowMoments`` chunk by chunk (on any scheduler: threads, processes or
a ``dask.distributed`` cluster) and only ``d x d`` results reach this process. The
linear problem is then known through its Gram matrix (``_problem.moment_problem``) and
every spectral route (``fit``, ``sam_path``, the CV and IC searches) runs on it as on
numpy data.

One pass: each chunk's moments are taken about the chunk's own mean and merged
pairwise in a tree (``_merge_moments``), so no chunk is read beforehand for a
centring shift. Several row sets (the folds of a cross-validation) are reduced in
the same pass without indexing ``X``: a small membership array chunked as the rows
of ``X`` (a fold label per row, or a bit per split) tells each chunk which of its
rows belong to which set (``RowSets``, ``split_moments``). A classifier's labels
come from one pass over ``y`` (``dask_labels``) and its accuracy from one more pass
over the test rows (``split_row_sums``). What cannot work without random access to
rows is refused here, in ``check_supported``.

dask is an optional dependency (``pip install sksam[dask]``). Nothing here imports it
at module level: ``is_dask_collection`` only looks at ``sys.modules`` (an object can
only be a dask collection if dask has already been imported), so importing sksam never
imports dask and, without dask installed, nothing changes.
"""

import sys
from functools import partial
from numbers import Real
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_feature_names

from ._core._moments import RowMoments
from ._warnings import warn

__all__ = [
    "FoldMoments",
    "RowGroups",
    "RowSets",
    "SplitMoments",
    "Splits",
    "check_dask_predict_input",
    "check_supported",
    "dask_labels",
    "dask_rows",
    "feature_split_moments",
    "fold_moments",
    "is_dask_collection",
    "reduce_row_moments",
    "row_moments",
    "split_moments",
    "split_row_sums",
    "validate_dask_fit_data",
    "weigh_groups",
]


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection, without importing dask.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._dask import is_dask_collection
    >>> is_dask_collection(np.ones(3))
    False
    """
    dask = sys.modules.get("dask")
    return dask is not None and bool(dask.is_dask_collection(obj))


# ----------------------------------------------------------------- validation
def _as_dask_array(arr, name, row_chunks=None):
    """A float dask array (numpy input is wrapped with ``row_chunks``)."""
    import dask.array as da

    if not is_dask_collection(arr):
        arr = np.asarray(arr)
        chunks = (row_chunks,) + arr.shape[1:] if row_chunks else "auto"
        arr = da.from_array(arr, chunks=chunks)
    elif not isinstance(arr, da.Array):
        raise TypeError(
            f"{name} is a {type(arr).__name__}; sksam accepts dask arrays only. "
            f"Convert it with {name}.to_dask_array(lengths=True)."
        )
    if np.isnan(arr.shape[0]):
        arr = arr.compute_chunk_sizes()  # one pass to learn the chunk lengths
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def check_supported(*, early_stopping=False, batch_size=None, solver=None):
    """Refuse, with the reason, what dask input cannot do (one place for all)."""
    if early_stopping:
        raise ValueError(
            "early_stopping is not supported for dask arrays; select n_iter with "
            "SAMRegressorCV, which reduces all folds in one pass over the data."
        )
    if batch_size is not None:
        raise ValueError(
            "batch_size is not supported for dask arrays: stochastic SAM needs random "
            "access to rows. Fit on a numpy array, or use batch_size=None (the exact "
            "full-batch path from the d x d Gram reduced by dask)."
        )
    if solver == "iterative":
        raise ValueError(
            "solver='iterative' is not supported for dask arrays (each step would be "
            "a pass over the data); use solver='spectral' or 'auto'."
        )


def validate_dask_fit_data(X, y, sample_weight, estimator=None):
    """Lazy counterpart of the numpy validation of ``fit`` data for dask input.

    Returns ``X`` (float dask array, one column chunk), ``y`` as a dask array of
    shape (n_samples, n_targets) with the row chunks of ``X``, the sample weights
    (float64 dask array or None) and ``y.ndim``. With an ``estimator``, records its
    ``n_features_in_`` and feature names (as ``validate_data`` does).
    """
    import dask.array as da

    if estimator is not None:
        _check_feature_names(estimator, X, reset=True)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with shape {X.shape}; at least one sample and one "
            "feature are needed."
        )
    X = X.rechunk({1: -1})
    y = _as_dask_array(y, "y", X.chunks[0])
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        raise ValueError(
            f"y of shape {y.shape} does not match X with {n_samples} rows."
        )
    if sample_weight is not None:
        if isinstance(sample_weight, Real):
            sample_weight = da.full(n_samples, float(sample_weight), chunks=X.chunks[0])
        sample_weight = _as_dask_array(sample_weight, "sample_weight", X.chunks[0])
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected "
                f"({n_samples},)!"
            )
        sample_weight = sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    if estimator is not None:
        estimator.n_features_in_ = n_features
    y_ndim = y.ndim
    y = y.reshape(n_samples, -1).rechunk({0: X.chunks[0], 1: -1})
    return X, y, sample_weight, y_ndim


def dask_rows(arr, name, row_chunks):
    """Numeric ``arr`` (numpy, dask or a scalar weight) as a float64 dask array
    chunked as the rows of ``X`` (``row_chunks``)."""
    import dask.array as da

    if isinstance(arr, Real):
        return da.full(sum(row_chunks), float(arr), chunks=(row_chunks,))
    arr = _as_dask_array(arr, name, row_chunks)
    return arr.astype(np.float64).rechunk({0: row_chunks})


def dask_labels(X, y):
    """``(X, labels, classes, counts)`` of a classifier's dask input.

    ``X`` as a dask array with one column chunk; ``labels`` the class labels of
    ``y`` (any dtype) as a 1-D dask array chunked as the rows of ``X``; their
    sorted distinct values and the number of rows of each, from one pass over
    ``y`` (``da.unique``). Multilabel targets are refused.
    """
    import dask
    import dask.array as da

    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    if not is_dask_collection(y):
        y = np.asarray(y)
    elif not isinstance(y, da.Array):
        raise TypeError(
            f"y is a {type(y).__name__}; sksam accepts dask arrays only. Convert "
            "it with y.to_dask_array(lengths=True)."
        )
    elif np.isnan(y.shape[0]):
        y = y.compute_chunk_sizes()
    if y.ndim == 2 and y.shape[1] == 1:
        warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y of shape {y.shape}: multilabel and multi-output targets are not "
            "supported with dask arrays; pass 1-D class labels (or fit on numpy "
            "arrays)."
        )
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y of shape {y.shape} does not match X with {X.shape[0]} rows."
        )
    y = _label_rows(y, row_chunks)
    classes, counts = dask.compute(*da.unique(y, return_counts=True))
    return X, y, classes, counts


def _label_rows(y, row_chunks):
    """Targets of any dtype (e.g. class labels) as a dask array chunked as the rows
    of ``X``, a column vector as 1-D."""
    import dask.array as da

    if not is_dask_collection(y):
        y = np.asarray(y)
        y = da.from_array(y, chunks=(row_chunks,) + y.shape[1:])
    elif np.isnan(y.shape[0]):
        y = y.compute_chunk_sizes()
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y.rechunk({0: row_chunks, **{axis: -1 for axis in range(1, y.ndim)}})


def check_dask_predict_input(estimator, X):
    """Check a dask ``X`` for ``predict`` lazily; returns the (float) dask array."""
    _check_feature_names(estimator, X, reset=False)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got shape {X.shape}.")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    return X


# ----------------------------------------------------------------- row sets
class RowSets(NamedTuple):
    """Sets of rows reduced in one pass, told apart in each row chunk without
    indexing ``X``.

    ``member`` assigns the rows to the sets, chunked as the rows of ``X``: ``None``
    (every set is all the rows), an integer label per row (``kind="labels"``: set
    ``s`` holds the rows labelled ``selectors[s]``) or a matrix with one column per
    row set (``kind="masks"``: set ``s`` holds the rows with a nonzero entry in
    column ``selectors[s]``, as many times as the entry says; 0/1 columns are packed
    in bits). A selector ``None`` is all the rows; ``weighted[s]`` says whether the
    rows of set ``s`` carry their ``sample_weight``.
    """

    kind: str
    selectors: tuple
    weighted: tuple
    member: object = None
    n_labels: int = 0
    n_columns: int = 0
    packed: bool = False

    def spec(self):
        """The sets without their (large) membership array: what a task carries."""
        return self._replace(member=None)

    def subset(self, selectors, weighted):
        """Other sets over the same membership."""
        return self._replace(selectors=tuple(selectors), weighted=tuple(weighted))


def _all_rows(weighted=True):
    return RowSets("all", (None,), (weighted,))


def _label_sets(labels, n_labels, sets):
    """``RowSets`` of integer ``labels`` (one per row); ``sets``: (label, weighted)."""
    labels = labels.astype(np.min_scalar_type(max(n_labels - 1, 0)), copy=False)
    selectors, weighted = zip(*sets, strict=True) if sets else ((), ())
    return RowSets("labels", selectors, weighted, labels, n_labels)


def _indices(rows, n_samples):
    """Row indices (``>= 0``) of integer indices or a boolean mask."""
    rows = np.asarray(rows)
    if rows.dtype == bool:
        return np.flatnonzero(rows)
    rows = rows.reshape(-1)
    if rows.size and rows.min() < 0:
        rows = np.where(rows < 0, rows + n_samples, rows)
    return rows


def _mask_member(n_samples, columns):
    """The membership matrix of row index arrays ``columns``: ``(member, packed)``.

    Packed bits (one byte per 8 sets and row) unless a row is repeated in a set
    (then a count per set and row). One column's temporaries at a time.
    """
    repeated = False
    for rows in columns:
        seen = np.zeros(n_samples, dtype=bool)
        seen[rows] = True
        repeated = repeated or int(np.count_nonzero(seen)) != rows.size
    if not repeated:
        member = np.zeros((n_samples, -(-len(columns) // 8)), dtype=np.uint8)
        for column, rows in enumerate(columns):
            member[rows, column // 8] |= np.uint8(128 >> (column % 8))
        return member, True
    largest = max(int(np.bincount(rows).max(initial=0)) for rows in columns)
    member = np.empty((n_samples, len(columns)), dtype=np.min_scalar_type(largest))
    for column, rows in enumerate(columns):
        member[:, column] = np.bincount(rows, minlength=n_samples)
    return member, False


def _mask_sets(n_samples, columns, sets):
    """``RowSets`` of row index arrays ``columns``; ``sets``: (column or None,
    weighted)."""
    member, packed = _mask_member(n_samples, columns)
    selectors, weighted = zip(*sets, strict=True)
    return RowSets("masks", selectors, weighted, member, 0, len(columns), packed)


def _set_rows(spec, member, n_rows):
    """The rows of each set of ``spec`` in one chunk: an index array or
    ``slice(None)`` (all), repeated rows repeated."""
    if spec.kind == "labels":
        order = np.argsort(member, kind="stable")
        bounds = np.searchsorted(member[order], np.arange(spec.n_labels + 1))
    elif spec.kind == "masks" and spec.packed:
        member = np.unpackbits(member, axis=1, count=spec.n_columns)
    rows = []
    for selector in spec.selectors:
        if selector is None:
            rows.append(slice(None))
        elif spec.kind == "labels":
            rows.append(order[bounds[selector] : bounds[selector + 1]])
        else:
            column = member[:, selector]
            chosen = np.flatnonzero(column)
            if not spec.packed:
                chosen = np.repeat(chosen, column[chosen].astype(np.intp))
            rows.append(chosen)
    return rows


# ------------------------------------------------------------------ reduction
class _Layout(NamedTuple):
    """What one packed vector of reduced moments holds: the row count, the shift
    (``n_shift`` = d + t values), the Gram matrices (``n_sets x n_groups``, each
    ``size``-square), the row count of each and its count of rows with a positive
    weight."""

    n_shift: int
    n_sets: int
    n_groups: int

    @property
    def size(self):
        return self.n_shift + 1

    @property
    def length(self):
        n_atoms = self.n_sets * self.n_groups
        return 1 + self.n_shift + n_atoms * (self.size**2 + 2)

    def unpack(self, packed):
        """``(rows, shift, grams, counts)`` of packed vectors (m, length); the
        counts (m, n_sets, n_groups, 2) are those of all rows and of the rows with
        a positive weight."""
        packed = packed.reshape(-1, self.length)
        q, n_atoms = self.n_shift, self.n_sets * self.n_groups
        end = 1 + q + n_atoms * self.size**2
        grams = packed[:, 1 + q : end].reshape(
            -1, self.n_sets, self.n_groups, self.size, self.size
        )
        counts = packed[:, end:].reshape(-1, self.n_sets, self.n_groups, 2)
        return packed[:, 0], packed[:, 1 : 1 + q], grams, counts

    def pack(self, rows, shift, grams, counts):
        return np.concatenate([[rows], shift, grams.ravel(), counts.ravel()])


def _single(blocks):
    """The one block of an axis that is not chunked (blockwise hands a list of the
    blocks along a contracted axis; concatenating one block would copy it)."""
    if isinstance(blocks, list):
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=-1)
    return blocks


def _chunk_moments(x, y, w, member, groups, *, spec, n_groups, centre):
    """Moments of the row sets of one chunk, about the chunk's mean: packed (1, P).

    Each set (and group) gets ``Z^T Z`` of its rows of ``Z = sqrt(w) [x - c_x,
    y - c_y, 1]`` (unweighted sets without ``sqrt(w)``), one BLAS syrk per set (a
    contiguous block and its transpose share their buffer); the shift ``c`` is the
    chunk's (unweighted) mean with ``centre``, else 0.
    """
    x, y, member = _single(x), _single(y), _single(member)
    n_rows, n_features = x.shape
    q = n_features + y.shape[1]
    layout = _Layout(q, len(spec.selectors), n_groups)
    shift = np.zeros(q)
    if centre and n_rows:
        shift[:n_features] = x.mean(axis=0, dtype=np.float64)
        shift[n_features:] = y.mean(axis=0, dtype=np.float64)
    z = np.empty((n_rows, q + 1))
    np.subtract(x, shift[:n_features], out=z[:, :n_features])
    np.subtract(y, shift[n_features:], out=z[:, n_features:q])
    z[:, q] = 1.0
    sources = {False: z, True: z}
    if w is not None and any(spec.weighted):
        root = np.sqrt(np.maximum(w, 0.0))[:, None]  # negative weights: error later
        if all(spec.weighted):
            z *= root
        else:
            sources[True] = z * root
    grams = np.zeros((layout.n_sets, n_groups, q + 1, q + 1))
    counts = np.zeros((layout.n_sets, n_groups, 2))
    positive = np.ones(n_rows, dtype=bool) if w is None else w > 0
    for index, rows in enumerate(_set_rows(spec, member, n_rows)):
        block = sources[spec.weighted[index]]
        if n_groups == 1:
            block = block[rows]
            grams[index, 0] = block.T @ block
            counts[index, 0] = block.shape[0], np.count_nonzero(positive[rows])
            continue
        codes = groups[rows]
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
        if not isinstance(rows, slice):
            order = rows[order]
        for group in range(n_groups):
            part_rows = order[bounds[group] : bounds[group + 1]]
            part = block[part_rows]
            grams[index, group] = part.T @ part
            counts[index, group] = part.shape[0], np.count_nonzero(positive[part_rows])
    return layout.pack(n_rows, shift, grams, counts)[None, :]


def _keep(parts, axis=None, keepdims=False):
    return parts


def _merge_moments(parts, axis=None, keepdims=False, *, layout):
    """The packed moments of the union of the chunks of ``parts`` (m, P).

    Each part is moved to the common shift ``c`` (the row-weighted mean of their
    shifts, so that the chunks' Grams are combined without cancellation): with
    ``a = c_old - c`` (0 for the weight column) and ``g`` the last column of a
    Gram ``G`` of ``Z = [x - c_old, ..., 1]``, the Gram about ``c`` is
    ``G + g a^T + a g^T + G[-1, -1] a a^T``.
    """
    rows, shifts, grams, counts = layout.unpack(parts)
    total = rows.sum()
    shift = rows @ shifts / total if total > 0 else np.zeros(layout.n_shift)
    delta = np.zeros((rows.size, layout.size))
    delta[:, :-1] = shifts - shift
    merged = grams.sum(axis=0)
    if np.any(delta):
        column, mass = grams[..., :, -1], grams[..., -1, -1]
        cross = np.einsum("mags,mt->agst", column, delta)
        merged += cross + np.swapaxes(cross, -1, -2)
        merged += np.einsum("mag,ms,mt->agst", mass, delta, delta)
    packed = layout.pack(total, shift, merged, counts.sum(axis=0))
    return packed[None, :] if keepdims else packed


def _row_chunked(arr, row_chunks):
    """A dask array of host ``arr`` chunked as the rows of ``X`` (whole columns)."""
    import dask.array as da

    return da.from_array(arr, chunks=(row_chunks,) + arr.shape[1:])


def _member_arg(rowsets, row_chunks):
    """The blockwise argument pair of the membership of ``rowsets``."""
    if rowsets.member is None:
        return [None, None]
    member = _row_chunked(rowsets.member, row_chunks)
    return [member, "i" if member.ndim == 1 else "im"]


def _moment_graph(X, y, sample_weight, rowsets, groups, n_groups, centre):
    """Lazy packed moments of every set (and group) of ``rowsets``: (P,)."""
    import dask.array as da

    layout = _Layout(X.shape[1] + y.shape[1], len(rowsets.selectors), n_groups)
    row_chunks = X.chunks[0]
    args = [X, "ij", y, "ik"]
    args += [None, None] if sample_weight is None else [sample_weight, "i"]
    args += _member_arg(rowsets, row_chunks)
    args += [None, None] if groups is None else [groups.rechunk((row_chunks,)), "i"]
    parts = da.blockwise(
        _chunk_moments,
        "iz",
        *args,
        new_axes={"z": layout.length},
        adjust_chunks={"i": 1},
        concatenate=False,
        dtype=np.float64,
        meta=np.empty((0, 0)),
        spec=rowsets.spec(),
        n_groups=n_groups,
        centre=centre,
    )
    merge = partial(_merge_moments, layout=layout)
    packed = da.reduction(
        parts,
        _keep,
        merge,
        combine=merge,
        axis=0,
        concatenate=True,
        dtype=np.float64,
        meta=np.empty((0,)),
    )
    return packed, layout


def _reduce_sets(X, y, sample_weight, fit_intercept, rowsets, groups=None, n_groups=1):
    """``(moments, counts)`` of every set and group of ``rowsets``: one pass of dask.

    ``moments[s][g]`` is the ``RowMoments`` of set ``s`` and group ``g`` (about one
    common shift), ``counts[s, g, 0]`` its number of rows and ``counts[s, g, 1]``
    the number of those with a positive weight. Each chunk of ``X``, ``y`` and the
    weights is produced once.
    """
    return _reduce_jobs(
        [(X, rowsets)], y, sample_weight, fit_intercept, groups, n_groups
    )[0]


def _reduce_jobs(jobs, y, sample_weight, fit_intercept, groups=None, n_groups=1):
    """``_reduce_sets`` of each ``(X, rowsets)`` of ``jobs`` (arrays of the same
    rows, e.g. different feature maps of one input), in one pass of dask: the
    chunks they share are produced once."""
    import dask

    graphs = []
    for X, rowsets in jobs:
        rows = {0: X.chunks[0]}
        graphs.append(
            _moment_graph(
                X,
                y.rechunk(rows),
                None if sample_weight is None else sample_weight.rechunk(rows),
                rowsets,
                groups,
                n_groups,
                fit_intercept,
            )
        )
    extremes = (0.0, 0.0)
    if sample_weight is not None:
        extremes = (sample_weight.min(), sample_weight.max())
    *packed, low, high = dask.compute(*(graph for graph, _ in graphs), *extremes)
    if not np.all(np.isfinite((low, high))):
        # NaN weights make the moments of X NaN too: name the weights.
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if low < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    reduced = []
    for (X, _), (_, layout), one in zip(jobs, graphs, packed, strict=True):
        _, shift, grams, counts = layout.unpack(one)
        grams, counts = grams[0], counts[0]
        d = X.shape[1]
        for name, block in (
            ("X", grams[..., :d, :d]),
            ("y", grams[..., d:-1, d:-1]),
        ):
            if not np.all(np.isfinite(block)):
                raise ValueError(f"Input {name} contains NaN or infinity.")
        shift_x, shift_y = shift[0, :d].copy(), shift[0, d:].copy()
        moments = [
            [RowMoments.from_gram(gram, shift_x, shift_y) for gram in per_group]
            for per_group in grams
        ]
        reduced.append((moments, counts))
    return reduced


def row_moments(X, y, sample_weight=None, fit_intercept=True, row_sets=()):
    """``RowMoments`` of all rows and of each row set, in one pass of dask.

    Each chunk of ``X`` is produced once however many row sets are asked for: the
    row sets are told apart in every chunk by a membership array chunked as ``X``
    (``X`` is never indexed), and the moments of each chunk are taken about its own
    mean and combined pairwise in a tree (no cancellation for large column means).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples, n_targets)
    sample_weight : dask array of shape (n_samples,) or None
    fit_intercept : bool
        Whether to take the moments about the data's mean (else about 0).
    row_sets : sequence of (indices, weighted)
        Integer row indices and whether to weight those rows by ``sample_weight``.

    Returns
    -------
    full : RowMoments
    subsets : list of RowMoments, one per row set

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from sksam._dask import row_moments
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    >>> full, (first,) = row_moments(X, X[:, :1], row_sets=[(np.arange(4), True)])
    >>> float(full.sum_weights), float((full - first).sum_weights)
    (6.0, 2.0)
    """
    n_samples = X.shape[0]
    row_sets = [(_indices(rows, n_samples), bool(w)) for rows, w in row_sets]
    if row_sets:
        columns = [rows for rows, _ in row_sets]
        sets = [(None, True)] + [(i, w) for i, (_, w) in enumerate(row_sets)]
        rowsets = _mask_sets(n_samples, columns, sets)
    else:
        rowsets = _all_rows()
    moments, _ = _reduce_sets(X, y, sample_weight, fit_intercept, rowsets)
    return moments[0][0], [per_group[0] for per_group in moments[1:]]


def reduce_row_moments(X, y, sample_weight, fit_intercept):
    """``RowMoments`` of all rows of validated dask ``X``, ``y``: one pass of dask."""
    return row_moments(X, y, sample_weight, fit_intercept)[0]


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
            train, test = _indices(train, n_samples), _indices(test, n_samples)
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
        rowsets = _label_sets(labels, k + 1, sets)
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
        rowsets = _mask_sets(n_samples, columns, sets)
    test_rows = rowsets.subset(range(k), (False,) * k)
    moments, counts = _reduce_sets(
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
    jobs = [(X, _all_rows())]
    for j in range(k):
        # Sets: all the rows, the test rows, [the unweighted test rows] for a
        # complement; else the training rows [, the scored test rows].
        if labels is not None:
            sets = [(None, True), (j, True)] + ([(j, False)] if unweighted else [])
            rowsets = _label_sets(labels, k + 1, sets)
        elif splits.complement(j):
            sets = [(None, True), (0, True)] + ([(0, False)] if unweighted else [])
            rowsets = _mask_sets(n_samples, [splits.tests[j]], sets)
        else:
            sets = [(1, True)] + ([(0, not unweighted)] if scored else [])
            rowsets = _mask_sets(n_samples, [splits.tests[j], splits.trains[j]], sets)
        jobs.append((split_X[j], rowsets))
    reduced = _reduce_jobs(jobs, y, sample_weight, fit_intercept, codes, n_groups)
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
        test_rows = _label_sets(labels, k + 1, test_sets)
    else:
        test_rows = _mask_sets(n_samples, splits.tests, test_sets)
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
    x, y, member = _single(x), _single(y), _single(member)
    rows = [
        np.arange(x.shape[0]) if isinstance(r, slice) else r
        for r in _set_rows(spec, member, x.shape[0])
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
    y = _label_rows(y, row_chunks)
    args = [X, "ij", y, "i" if y.ndim == 1 else "ik"]
    if sample_weight is None:
        args += [None, None]
    else:
        weights = _as_dask_array(sample_weight, "sample_weight", row_chunks)
        args += [weights.rechunk((row_chunks,)), "i"]
    args += _member_arg(rowsets, row_chunks)
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
