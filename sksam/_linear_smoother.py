"""A SAM estimator as a linear smoother of ``y``: what exact bias-variance reads.

Unnormalized SAM (and GD) after ``k`` steps predicts ``A_k y + c`` with ``A_k``
diagonal in the eigenbasis of one decomposition of the training problem. A
``SpectralSmoother`` (from the estimator's ``_linear_smoother`` hook) holds that
eigenbasis, the training targets in it, the test rows seen through it and the filter
of any point of a curve; ``_core._smoother`` turns them into bias and variance.
"""

import numpy as np

from ._core._smoother import project_test_points
from ._core._variants import get_variant
from ._stability import check_finite

__all__ = ["NOT_LINEAR_HINT", "SpectralSmoother"]

#: What to use where there is no smoother matrix.
NOT_LINEAR_HINT = "Use method='simulate' (known truth) or method='bootstrap' instead."


class SpectralSmoother:
    """The smoother of an estimator on its training problem, in the eigenbasis.

    Parameters
    ----------
    estimator : BaseSAM
        The (unfitted) estimator; ``filters`` sets its parameters.
    problem : Problem
        Its problem of the training data.
    test_features : array
        Its ``_test_features`` of the validated test rows.

    Attributes
    ----------
    lam : ndarray of shape (rank,)
        Eigenvalues.
    basis : ndarray of shape (n_params, rank)
        Eigen-directions in coefficient space.
    proj : ndarray of shape (rank,)
        The (first) training target in eigen-coordinates.
    rkhs : bool
        Whether the coefficients are dual ones (a kernel).
    offset : float
        The intercept of the fit (the prediction after 0 steps).
    fit_intercept : bool
        Whether the offset is a fitted (weighted) mean.
    """

    def __init__(self, estimator, problem, test_features):
        self._estimator, self._problem = estimator, problem
        factor = problem.factor
        self.lam, self.basis, self.proj = factor.lam, factor.basis, factor.proj[:, 0]
        self.rkhs = problem.rkhs
        self.offset = float(problem.y_offset[0])
        self.fit_intercept = bool(estimator.fit_intercept)
        self._test_map = problem.test_map(test_features)
        self._test_design = problem.centred_design(test_features)

    def test_points(self, target):
        """``ProjectedTestPoints`` of the test rows, with the shift
        ``offset - target`` (``target`` the true values at the test rows)."""
        return project_test_points(
            self.basis, self.offset - target, self._test_map, self._test_design
        )

    def filters(self, name, values):
        """Filter values (rank, len(values)) with the parameter ``name`` set to
        each value (``None``: the estimator's own settings, one column).

        ``name`` is ``None``, ``"n_iter"``, ``"rho"`` or ``"learning_rate"``. Points
        with equal ``(rho, learning_rate)`` share one evaluation of the filter; the
        step size of each is resolved (and checked) as ``fit`` resolves it.
        """
        sam, problem = self._estimator, self._problem
        if name == "n_iter":
            steps = np.asarray(values, dtype=np.int64)
        else:
            steps = np.full(len(values), sam.n_iter, dtype=np.int64)

        def filters(columns):
            variant = get_variant(sam.variant if float(sam.rho) > 0 else "unnormalized")
            if not (variant.linear_in_y and variant.has_filter):
                raise ValueError(
                    f"method='exact' needs the exact smoother matrix of a variant "
                    f"linear in y (or rho=0); the SAM variant {variant!r} has none "
                    "(normalized SAM is not linear in y). " + NOT_LINEAR_HINT
                )
            run = sam._plan_run(problem, int(steps.max(initial=0)), "spectral")
            return problem.filter(run.learning_rate, run.rho, steps[columns], variant)

        if name not in ("rho", "learning_rate"):
            psi = filters(slice(None))
        else:
            groups = {}
            for column, value in enumerate(values):
                groups.setdefault(value, []).append(column)
            psi = np.empty((self.lam.size, len(values)))
            for value, columns in groups.items():
                sam.set_params(**{name: value})._validate_params()
                psi[:, columns] = filters(columns)
        check_finite(psi)
        return psi
