"""Nystroem kernel SAM: exact SAM on the kernel of ``m`` landmarks.

With landmarks ``Z`` (``m`` training rows drawn uniformly without replacement) the
Nystroem kernel is ``K~ = K_nm K_mm^+ K_mn``. With ``K_mm = U diag(s) U^T`` it is the
Gram matrix ``Phi Phi^T`` of the features ``Phi = K_nm U diag(s)^-1/2`` (``m``
columns at most), and function-space SAM with ``K~`` is linear SAM on ``Phi``: the
same iterates in the same rho units and step sizes (the nonzero eigenvalues of
``D^1/2 K~_c D^1/2 / S`` are those of the features' weighted, centred Gram), and the
weighted centring of ``Phi`` is the feature-space centring of ``K~``. So the problem
is the *linear* problem on ``Phi`` (``_problem.linear_problem``: ``O(n m^2)`` for the
Gram, ``O(m^3)`` for its decomposition, ``O(n m)`` memory; on dask the features are
formed per row chunk and only their ``m x m`` moments are reduced), and the model is

    f(x) = k(x, Z) N w + b,      N = U diag(s)^-1/2     (``dual_coef_ = N w``).

``K_mm^+`` is the pseudo-inverse of the positive part of ``K_mm``: eigenvalues at or
below ``m * eps * s_max`` (``eps`` of the kernel's precision) are dropped, the
negative ones of an indefinite kernel with them. With every training row a landmark,
``K~ = K`` and the model is the exact kernel estimator's.
"""

import copy

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state

from ._array_api import array_namespace, compute_dtype, to_numpy
from ._core._namespaces import (
    HoldsNamespace,
    astype,
    eps_of,
    index_array,
    is_numpy,
    symmetric_eigh,
)
from ._dask import is_dask_collection
from ._kernel_matrix import cross_kernel, training_kernel
from ._outputs import FeatureOutput
from ._problem import linear_problem
from ._stability import NEGATIVE_TOL
from ._warnings import warn

__all__ = [
    "NystroemMap",
    "draw_landmarks",
    "draw_state",
    "nystroem_problem",
    "split_feature_maps",
]

#: Bytes of one slab of the kernel to the landmarks (rows x m): the features and
#: the predictions are formed slab by slab, in memory and in each dask chunk.
SLAB_BYTES = 16 * 2**20

# Kernels whose values do not change when every input is shifted by one point:
# computed from inputs shifted to the landmarks' mean (digits kept).
_TRANSLATION_INVARIANT = frozenset({"rbf", "laplacian"})


def slab_rows(n_components):
    """Rows of one slab of the kernel to ``n_components`` landmarks."""
    return max(1, SLAB_BYTES // (8 * max(int(n_components), 1)))


def draw_state(random_state, from_copies):
    """The ``random_state`` of one landmark draw: a copy of a ``RandomState``
    instance where every draw starts from it (``from_copies``: a search's splits
    and refit, as the clones ``GridSearchCV`` fits draw), else itself."""
    if from_copies and isinstance(random_state, np.random.RandomState):
        return copy.deepcopy(random_state)
    return random_state


def draw_landmarks(n_samples, n_components, random_state, sample_weight=None):
    """Row indices of the landmarks: the first ``n_components`` of a random
    permutation of the rows with a positive weight (all of them if there are no
    more; all rows without weights).

    For unit weights these are the rows that
    ``sklearn.kernel_approximation.Nystroem(n_components, random_state)`` draws.
    Zero-weight rows are never landmarks (a zero weight is the same as leaving the
    row out).

    Examples
    --------
    >>> from sksam._nystroem import draw_landmarks
    >>> draw_landmarks(5, 3, random_state=0)
    array([2, 0, 1])
    """
    if sample_weight is None:
        pool = np.arange(n_samples)
    else:
        positive = sample_weight > 0
        if is_dask_collection(positive):
            positive = positive.compute()
        pool = np.flatnonzero(to_numpy(positive))
    if pool.size == 0:
        raise ValueError("The sum of sample_weight must be positive.")
    order = check_random_state(random_state).permutation(pool.size)
    return pool[order[: int(n_components)]]


class NystroemMap(HoldsNamespace):
    """The Nystroem feature map ``phi(x) = k(x, Z) N`` of some landmarks ``Z``.

    Built by ``NystroemMap.fit``. Works on rows of any namespace (its own), sparse
    rows and dask arrays (per row chunk, lazily).

    Parameters
    ----------
    indices : ndarray of shape (m,)
        The landmarks' row indices in the training data.
    landmarks : array of shape (m, n_features)
        ``Z`` (for ``kernel="precomputed"``: the landmarks' rows of the training
        kernel, whose columns ``indices`` are ``K_mm``).
    normalization : array of shape (m, r)
        ``N = U diag(s)^-1/2`` over the ``r`` kept eigenvalues of ``K_mm``.
    kernel, params
        The kernel and its ``pairwise_kernels`` keyword arguments.
    origin : array of shape (n_features,) or None
        The point the inputs are shifted to (translation-invariant kernels).
    xp : namespace
    """

    def __init__(self, indices, landmarks, normalization, kernel, params, origin, xp):
        self.indices = indices
        self.landmarks = landmarks
        self.normalization = normalization
        self.kernel = kernel
        self.params = params
        self.origin = origin
        self._xp = None if is_numpy(xp) else xp

    @property
    def xp(self):
        return np if self._xp is None else self._xp

    @property
    def n_components(self):
        return self.indices.size

    # ------------------------------------------------------------- building
    @classmethod
    def fit(
        cls,
        X,
        sample_weight,
        kernel,
        params,
        n_components,
        random_state,
        precision=np.float64,
    ):
        """The map of landmarks drawn from the rows of ``X`` (``draw_landmarks``).

        ``precision``: the dtype the kernel values carry (a float32 precomputed
        kernel's), which sets the eigenvalue cut-off ``m * eps * s_max``.
        """
        indices = draw_landmarks(X.shape[0], n_components, random_state, sample_weight)
        return cls.from_landmarks(
            indices, _take_rows(X, indices), kernel, params, precision
        )

    @classmethod
    def from_landmarks(cls, indices, landmarks, kernel, params, precision=np.float64):
        """The map of the landmark rows ``landmarks`` (rows ``indices`` of the
        training data)."""
        xp, device = array_namespace(landmarks)
        dtype = compute_dtype(xp, device)
        if kernel == "precomputed":
            columns = _take_columns(landmarks, indices)
            K_mm = training_kernel(columns, "precomputed", params)
            origin = None
        else:
            origin = None
            if kernel in _TRANSLATION_INVARIANT and not sparse.issparse(landmarks):
                origin = xp.mean(astype(xp, landmarks, dtype), axis=0)
            K_mm = training_kernel(landmarks, kernel, params, origin)
        _check_finite_kernel(xp, K_mm, "between the landmarks")
        s, U = symmetric_eigh(xp, K_mm)
        s_max = float(s[-1]) if s.shape[0] else 0.0
        cutoff = indices.size * eps_of(xp, precision) * max(s_max, 0.0)
        # Negative eigenvalues above the rounding of the kernel's precision.
        negative_tol = max(NEGATIVE_TOL, float(np.sqrt(eps_of(xp, precision))))
        if s.shape[0] and float(s[0]) < -negative_tol * s_max:
            warn(
                f"The kernel is indefinite on the landmarks: K_mm has the eigenvalue "
                f"{float(s[0]):.3g} for the largest {s_max:.3g}. The Nystroem model "
                "keeps its positive part (a positive semi-definite kernel, on which "
                "SAM converges), unlike the exact estimator (n_components=None), "
                "whose iterates grow along negative directions.",
                UserWarning,
            )
        n_dropped = int(xp.sum(astype(xp, s <= cutoff, dtype)))
        if n_dropped == s.shape[0]:  # a zero kernel: one zero feature
            normalization = xp.zeros((indices.size, 1), dtype=dtype, **_on(xp, s))
        else:
            normalization = U[:, n_dropped:] / xp.sqrt(s[n_dropped:])[None, :]
        return cls(indices, landmarks, normalization, kernel, params, origin, xp)

    # ------------------------------------------------------------ applying
    def kernel_to_landmarks(self, X):
        """``k(X, Z)`` in the compute dtype (``X``: in-memory rows)."""
        if self.kernel == "precomputed":
            columns = _take_columns(X, self.indices)
            xp, device = array_namespace(columns)
            return astype(xp, columns, compute_dtype(xp, device))
        if self.origin is not None and sparse.issparse(X):
            X = X.toarray()
        K = cross_kernel(X, self.landmarks, self.kernel, self.params, self.origin)
        _check_finite_kernel(
            array_namespace(K)[0], K, "between the rows and the landmarks"
        )
        return K

    def features(self, X):
        """``phi(X) = k(X, Z) N``, slab by slab (a lazy dask array for dask ``X``)."""
        return self.apply(X, self.normalization)

    def apply(self, X, coef):
        """``k(X, Z) @ coef`` for ``coef`` of shape (m, t), slab by slab (memory:
        one slab of ``k(X, Z)``); a lazy dask array for dask ``X``."""
        width = coef.shape[1]
        if is_dask_collection(X):
            return _dask_rows(
                X,
                lambda rows: self.kernel_to_landmarks(rows) @ coef,
                width,
                self.n_components,
            )
        if sparse.issparse(X):
            X = X.tocsr()  # row slabs
        step = slab_rows(self.n_components)
        n_samples = X.shape[0]
        if n_samples <= step:
            return self.kernel_to_landmarks(X) @ coef
        xp = self.xp
        out = xp.empty((n_samples, width), dtype=coef.dtype, **_on(xp, coef))
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            out[start:stop, :] = self.kernel_to_landmarks(X[start:stop]) @ coef
        return out

    def dual(self, coef):
        """``N @ coef`` over the leading axis (dual coefficients on the landmarks)."""
        xp = self.xp
        flat = xp.reshape(coef, (coef.shape[0], -1))
        return xp.reshape(
            self.normalization @ flat, (self.n_components,) + tuple(coef.shape[1:])
        )


def nystroem_problem(
    X,
    y,
    sample_weight,
    fit_intercept,
    kernel,
    params,
    n_components,
    random_state,
    precision=np.float64,
):
    """The problem of Nystroem kernel SAM: the linear problem on the features.

    Its output (``_outputs.FeatureOutput``) maps the feature weights to dual
    coefficients on the landmarks and test rows to their features; the map itself
    is ``problem.output.feature_map``. Dask ``X`` (with ``y`` and
    ``sample_weight`` dask arrays of its rows) gives the problem of the reduced
    ``m x m`` moments of the features.
    """
    feature_map = NystroemMap.fit(
        X, sample_weight, kernel, params, n_components, random_state, precision
    )
    features = feature_map.features(X)
    if is_dask_collection(features):
        rows = features.chunks[0]
        y = y.rechunk({0: rows})
        if sample_weight is not None:
            sample_weight = sample_weight.rechunk({0: rows})
    problem = linear_problem(
        features, y, sample_weight, fit_intercept, overwrite_X=True
    )
    problem.output = FeatureOutput(feature_map, problem.output)
    return problem


def split_feature_maps(
    X,
    sample_weight,
    splits,
    kernel,
    params,
    n_components,
    random_state,
    precision=np.float64,
    from_copies=False,
):
    """The maps of all the rows and of each split's training rows, for dask ``X``.

    Each map's landmarks are drawn as ``NystroemMap.fit`` draws them from its rows
    (all the rows first, then the splits in order: the draws of an in-memory
    search, which builds the problem of all the rows before the splits'), and
    ``indices`` are rows of ``X``; the landmark rows of every map are gathered in
    one pass. ``from_copies``: each draw starts from a copy of a ``RandomState``
    instance (``draw_state``). Returns ``(full_map, split_maps)``.
    """
    positive = None
    if sample_weight is not None:
        positive = sample_weight > 0
        if is_dask_collection(positive):
            positive = positive.compute()
        positive = np.asarray(to_numpy(positive))
    n_samples = X.shape[0]

    def draw(n_rows, weights):
        state = draw_state(random_state, from_copies)
        return draw_landmarks(n_rows, n_components, state, weights)

    drawn = [draw(n_samples, positive)]
    for train, _ in splits:
        train = np.asarray(train)
        in_train = None if positive is None else positive[train]
        drawn.append(train[draw(train.size, in_train)])
    rows = np.unique(np.concatenate(drawn))
    gathered = _take_rows(X, rows)
    maps = [
        NystroemMap.from_landmarks(
            indices,
            gathered[np.searchsorted(rows, indices)],
            kernel,
            params,
            precision,
        )
        for indices in drawn
    ]
    return maps[0], maps[1:]


# ---------------------------------------------------------------- helpers
def _on(xp, like):
    """Creation keyword arguments on ``like``'s device (none for numpy)."""
    return {} if is_numpy(xp) else {"device": like.device}


def _take_columns(X, indices):
    """The columns ``indices`` of in-memory ``X`` (dense; a sparse ``X``'s too)."""
    if sparse.issparse(X):
        return X.tocsc()[:, indices].toarray()
    xp, _ = array_namespace(X)
    if is_numpy(xp):
        return X[:, indices]
    return xp.take(X, index_array(xp, indices, X), axis=1)


def _take_rows(X, indices):
    """The rows ``indices`` of ``X`` (in memory: a dask array's are computed)."""
    if is_dask_collection(X):
        # Gathered in row order (one task per chunk holding landmarks; dask
        # splits out-of-order indices into many more), then put in draw order.
        order = np.argsort(indices, kind="stable")
        gathered = np.asarray(X[np.asarray(indices)[order]].compute())
        rows = np.empty_like(gathered)
        rows[order] = gathered
        return rows
    if sparse.issparse(X):
        return X.tocsr()[indices]
    xp, _ = array_namespace(X)
    if is_numpy(xp):
        return X[indices]
    return xp.take(X, index_array(xp, indices, X), axis=0)


def _check_finite_kernel(xp, K, where):
    if not bool(xp.all(xp.isfinite(K))):
        raise ValueError(
            f"The kernel {where} has non-finite values (NaN or inf): the kernel is "
            "not defined on this data with these parameters (e.g. a 'poly' kernel "
            "with a non-integer degree on negative inner products), or it "
            "overflows float64."
        )


def _dask_rows(X, block_function, width, n_components):
    """``block_function`` on each row chunk of dask ``X`` (chunks split to slabs)."""
    step = slab_rows(n_components)
    chunks = []
    for size in X.chunks[0]:
        pieces = max(-(-size // step), 1)  # splitting only: never merged
        chunks += [size // pieces + (i < size % pieces) for i in range(pieces)]
    if tuple(chunks) != X.chunks[0]:
        X = X.rechunk((tuple(chunks), X.shape[1]))
    return X.map_blocks(
        block_function,
        chunks=(X.chunks[0], (width,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
