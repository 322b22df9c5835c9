"""Parameter descriptions shared by the docstrings of several estimators.

``fill_doc`` replaces each ``%(name)s`` line of a class docstring by the entry
``name`` below, so that an entry shared by ``SAMRegressor``, ``SAMKernelRidge`` and
the classifiers is written once.
"""

__all__ = ["fill_doc"]


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
}


def fill_doc(cls):
    """Class decorator: fill the ``%(name)s`` entries of ``cls``'s docstring."""
    cls.__doc__ = cls.__doc__ % _ENTRIES
    return cls
