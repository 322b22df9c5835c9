"""Parameter descriptions shared by the docstrings of several estimators.

``fill_doc`` replaces each ``%(name)s`` line of a class docstring by the entry
``name`` below, so that an entry shared by ``SAMRegressor``, ``SAMKernelRidge`` and
the classifiers is written once.
"""

__all__ = ["NYSTROEM_ATTRIBUTES_DOC", "NYSTROEM_DOC", "fill_doc"]


def _relative_rho(matrix):
    return f"""relative_rho : bool, default=False
        State ``rho`` in units of the training data instead of absolute units (1 /
        eigenvalue, as in the paper): the radius used is ``rho_ = rho * rho_unit_``
        with ``rho_unit_ = 1 / lam_max``, ``lam_max`` the top eigenvalue of the
        weighted, centred {matrix} divided by ``S`` (the unit of the CV and IC
        estimators' ``relative_rho``; for normalized SAM the length ``||g_0|| /
        lam_max`` of the first gradient step at ``learning_rate="auto"``, which needs
        the decomposition). The fitted model then does not change when ``X`` is
        multiplied by a constant; with ``learning_rate="auto"`` the step is ``1 /
        (lam_max (1 + rho))``. See the user guide, "Choosing rho and learning_rate"."""


NYSTROEM_DOC = """n_components : int, default=None
        ``None`` fits the exact kernel model: one ``n x n`` kernel matrix and its
        eigendecomposition (``O(n^2)`` memory, ``O(n^3)`` time). An int ``m`` fits
        exact SAM on the Nystroem kernel ``K_nm K_mm^+ K_mn`` of ``m`` landmarks
        drawn uniformly without replacement from the training rows with a
        positive sample weight (seeded by ``random_state``; for unit weights the
        rows ``sklearn.kernel_approximation.Nystroem`` draws with the same
        ``random_state``), in ``O(n m^2 + m^3)`` time and ``O(n m)`` memory (for a
        dask array, one row chunk at a time and the ``m x m`` moments). ``m`` at
        least the number of those rows takes all of them: the exact model, to
        rounding. ``K_mm^+`` drops the eigenvalues of ``K_mm`` at or below ``m *
        eps`` times the largest (``eps`` of the kernel's precision) and the
        negative ones (an indefinite kernel keeps its positive part, with a
        ``UserWarning``). ``rho``, ``learning_rate``, the variants, the weights
        and the intercept mean what they mean for the exact model of that kernel.
        With ``kernel="precomputed"`` the landmarks are columns of the training
        kernel and ``predict`` takes the test-by-training kernel, as without
        ``n_components``. Landmarks are always training rows; for points of
        your own, see the user guide, "Large kernels"."""

NYSTROEM_ATTRIBUTES_DOC = """components_ : ndarray of shape (n_components, n_features)
        With ``n_components``: the landmarks (for ``kernel="precomputed"``, their
        rows of the training kernel). ``X_fit_`` is the same array.
    component_indices_ : ndarray of shape (n_components,)
        With ``n_components``: the landmarks' row indices in the training data.
    normalization_ : ndarray of shape (n_components, n_kept)
        With ``n_components``: ``U diag(s)^-1/2`` over the ``n_kept`` eigenpairs
        of ``K_mm`` kept; the features are ``k(x, components_) @ normalization_``.
    feature_coef_ : ndarray of shape (n_kept,) or (n_kept, n_targets)
        With ``n_components``: the weights of those features (linear SAM on
        them); ``dual_coef_ = normalization_ @ feature_coef_``."""

_ENTRIES = {
    "linear_relative_rho": _relative_rho("Gram matrix ``X^T diag(s) X``"),
    "kernel_relative_rho": _relative_rho("kernel matrix ``D^1/2 K_c D^1/2``"),
    "verbose": """verbose : int, default=0
        ``> 0``: progress on the routes whose cost grows with ``n_iter`` (the
        iterative solver, mini-batches, the normalized recursion, early stopping's
        scoring of every step): a line each tenth of the steps with the steps done
        out of the total, the time elapsed and the estimated time remaining (at
        most 10 lines a route). The spectral filter of unnormalized SAM, whose cost
        does not grow with ``n_iter``, prints one line.""",
    "n_components": NYSTROEM_DOC,
    "nystroem_attributes": NYSTROEM_ATTRIBUTES_DOC,
}


def fill_doc(cls):
    """Class decorator: fill the ``%(name)s`` entries of ``cls``'s docstring."""
    cls.__doc__ = cls.__doc__ % _ENTRIES
    return cls
