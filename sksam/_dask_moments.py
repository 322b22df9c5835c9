"""Row sets of dask input and their weighted row moments, reduced in one pass.

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
rows belong to which set (``RowSets``). Nothing here imports dask at module level.
"""

from functools import partial
from typing import NamedTuple

import numpy as np

from ._core._moments import RowMoments

__all__ = [
    "RowSets",
    "all_rows",
    "label_sets",
    "mask_sets",
    "member_arg",
    "reduce_jobs",
    "reduce_row_moments",
    "reduce_sets",
    "row_indices",
    "row_moments",
    "set_rows",
    "single_block",
]


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


def all_rows(weighted=True):
    return RowSets("all", (None,), (weighted,))


def label_sets(labels, n_labels, sets):
    """``RowSets`` of integer ``labels`` (one per row); ``sets``: (label, weighted)."""
    labels = labels.astype(np.min_scalar_type(max(n_labels - 1, 0)), copy=False)
    selectors, weighted = zip(*sets, strict=True) if sets else ((), ())
    return RowSets("labels", selectors, weighted, labels, n_labels)


def row_indices(rows, n_samples):
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


def mask_sets(n_samples, columns, sets):
    """``RowSets`` of row index arrays ``columns``; ``sets``: (column or None,
    weighted)."""
    member, packed = _mask_member(n_samples, columns)
    selectors, weighted = zip(*sets, strict=True)
    return RowSets("masks", selectors, weighted, member, 0, len(columns), packed)


def set_rows(spec, member, n_rows):
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


def single_block(blocks):
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
    x, y, member = single_block(x), single_block(y), single_block(member)
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
    for index, rows in enumerate(set_rows(spec, member, n_rows)):
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


def member_arg(rowsets, row_chunks):
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
    args += member_arg(rowsets, row_chunks)
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


def reduce_sets(X, y, sample_weight, fit_intercept, rowsets, groups=None, n_groups=1):
    """``(moments, counts)`` of every set and group of ``rowsets``: one pass of dask.

    ``moments[s][g]`` is the ``RowMoments`` of set ``s`` and group ``g`` (about one
    common shift), ``counts[s, g, 0]`` its number of rows and ``counts[s, g, 1]``
    the number of those with a positive weight. Each chunk of ``X``, ``y`` and the
    weights is produced once.
    """
    return reduce_jobs(
        [(X, rowsets)], y, sample_weight, fit_intercept, groups, n_groups
    )[0]


def reduce_jobs(jobs, y, sample_weight, fit_intercept, groups=None, n_groups=1):
    """``reduce_sets`` of each ``(X, rowsets)`` of ``jobs`` (arrays of the same
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
    >>> from sksam._dask_moments import row_moments
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    >>> full, (first,) = row_moments(X, X[:, :1], row_sets=[(np.arange(4), True)])
    >>> float(full.sum_weights), float((full - first).sum_weights)
    (6.0, 2.0)
    """
    n_samples = X.shape[0]
    row_sets = [(row_indices(rows, n_samples), bool(w)) for rows, w in row_sets]
    if row_sets:
        columns = [rows for rows, _ in row_sets]
        sets = [(None, True)] + [(i, w) for i, (_, w) in enumerate(row_sets)]
        rowsets = mask_sets(n_samples, columns, sets)
    else:
        rowsets = all_rows()
    moments, _ = reduce_sets(X, y, sample_weight, fit_intercept, rowsets)
    return moments[0][0], [per_group[0] for per_group in moments[1:]]


def reduce_row_moments(X, y, sample_weight, fit_intercept):
    """``RowMoments`` of all rows of validated dask ``X``, ``y``: one pass of dask."""
    return row_moments(X, y, sample_weight, fit_intercept)[0]
