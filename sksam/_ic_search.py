"""Selection of ``(n_iter, rho)`` by information criteria, without refits.

The machinery of ``SAMRegressorIC`` and ``SAMKernelRidgeIC`` (``_criteria.py``).
Unnormalized SAM after ``k`` steps is a linear smoother of ``y``, diagonal in the
eigenbasis of one decomposition (DESIGN.md section 1, "Exact iterates" and "Bias and
variance"). The training residual sum of squares and the degrees of freedom
``trace(A_k) = sum_i (1 - r_i^k)`` of every ``(rho, n_iter)`` therefore cost O(rank)
each (``_spectral.rss_path`` and ``_spectral.dof_path``), and Mallows' Cp, AIC, BIC
and the discrepancy principle select a model as ``LassoLarsIC`` does along the LARS
path.
"""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseSAM
from ._core._spectral import dof_path, filter_psi, rss_path
from ._cv_search import DEFAULT_N_ITERS, _check_rhos
from ._path import check_n_iters
from ._selected import SelectedModelMixin

__all__ = [
    "BaseSAMIC",
    "criterion_values",
    "gcv_noise_variance",
    "least_squares_noise_variance",
]


def criterion_values(criterion, rss, dof, sum_weights, noise_variance, tau=1.0):
    """Information criterion of every grid point, averaged over targets.

    Parameters
    ----------
    criterion : {"cp", "aic", "bic", "discrepancy"}
    rss : ndarray of shape (n_targets, n_rhos, n_iters)
        Weighted training residual sums of squares.
    dof : ndarray of shape (n_rhos, n_iters)
        Degrees of freedom (trace of the training smoother, with the intercept).
    sum_weights : float
        ``S``, the sum of the sample weights (``n_samples`` without weights).
    noise_variance : ndarray of shape (n_targets,)
    tau : float, default=1.0
        Discrepancy constant.

    Returns
    -------
    values : ndarray of shape (n_rhos, n_iters)

    Examples
    --------
    >>> import numpy as np
    >>> rss, dof = np.array([[[50.0, 20.0]]]), np.array([[2.0, 5.0]])
    >>> criterion_values("cp", rss, dof, 10.0, np.array([2.0]))
    array([[5.8, 4. ]])
    >>> criterion_values("discrepancy", rss, dof, 10.0, np.array([2.0]))
    array([[3., 0.]])
    """
    sigma2 = np.asarray(noise_variance, dtype=float)[:, None, None]
    S = float(sum_weights)
    with np.errstate(over="ignore", invalid="ignore"):
        if criterion == "cp":
            values = rss / S + 2.0 * sigma2 * dof / S
        elif criterion == "discrepancy":
            values = rss / S - tau * sigma2
        else:
            penalty = 2.0 if criterion == "aic" else np.log(S)
            values = S * np.log(2.0 * np.pi * sigma2) + rss / sigma2 + penalty * dof
    return values.mean(axis=0)


def least_squares_noise_variance(factor, y_sq_norm, sum_weights, dof_ls):
    """``RSS_LS / (S - dof_ls)`` per target, ``RSS_LS`` the least-squares residual.

    The least-squares fit is the ``k -> inf`` limit of the path: the filter is 1 on
    every retained direction (THEORY.md D1, "Limits"), so ``RSS_LS`` is the part of
    ``y_s`` outside the retained eigenspace, read from ``factor``.
    """
    rss_ls = rss_path(
        factor,
        1.0 / max(factor.lam_max, np.finfo(float).tiny),
        0.0,
        [np.inf],
        y_sq_norm=y_sq_norm,
        sum_weights=sum_weights,
    )[:, 0]
    return rss_ls / (sum_weights - dof_ls)


def gcv_noise_variance(rss, dof, sum_weights):
    """``RSS / (S - dof)`` at each target's GCV minimiser; ``None`` if there is none.

    ``GCV = (RSS / S) / (1 - dof / S)^2`` over the grid (points with ``dof >= S``
    excluded); ``rss`` (n_targets, n_rhos, n_iters), ``dof`` (n_rhos, n_iters).
    """
    n_targets = rss.shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        gcv = (rss / sum_weights) / (1.0 - dof / sum_weights) ** 2
    gcv = np.where(np.isfinite(gcv) & (dof < sum_weights), gcv, np.inf)
    gcv = gcv.reshape(n_targets, -1)
    best = np.argmin(gcv, axis=1)
    if not np.all(np.isfinite(gcv[np.arange(n_targets), best])):
        return None
    best_rss = rss.reshape(n_targets, -1)[np.arange(n_targets), best]
    return best_rss / (sum_weights - dof.ravel()[best])


def _first_best(values, n_iters):
    """``(rho index, n_iter index)`` of the smallest finite value.

    Ties go to the fewest steps, then to the first rho.
    """
    finite = np.where(np.isfinite(values), values, np.inf)
    best = finite.min()
    if not np.isfinite(best):
        raise ValueError(
            "Every (n_iter, rho) candidate diverged (non-finite residuals); use "
            "learning_rate='auto' or a smaller learning_rate."
        )
    rows, cols = np.nonzero(finite == best)
    first = np.lexsort((rows, n_iters[cols]))[0]
    return int(rows[first]), int(cols[first])


def _discrepancy_choice(gap, cp, n_iters):
    """The discrepancy stopping time of each rho, then the rho with the smallest Cp.

    ``gap = RSS / S - tau * sigma^2`` (``criterion_``). Each rho stops at its smallest
    ``n_iter`` with ``gap <= 0``; if no rho gets there, every rho stops at its largest
    ``n_iter`` and a ``ConvergenceWarning`` is emitted.
    """
    finite = np.isfinite(gap) & np.isfinite(cp)
    reached = finite & (gap <= 0.0)
    if not reached.any():
        warnings.warn(
            "No (n_iter, rho) in the grid brings the mean squared residual down to "
            "discrepancy_tau * noise_variance; the largest n_iter is used. Extend "
            "n_iters (or lower discrepancy_tau).",
            ConvergenceWarning,
            stacklevel=3,
        )
        steps = np.where(finite, n_iters[None, :], -1)
        reached = finite & (steps == steps.max(axis=1, keepdims=True))
    stop_cp = np.full(gap.shape[0], np.inf)
    stops = np.zeros(gap.shape[0], dtype=int)
    for r, row in enumerate(reached):
        candidates = np.flatnonzero(row)
        if candidates.size:
            stops[r] = candidates[np.argmin(n_iters[candidates])]
            stop_cp[r] = cp[r, stops[r]]
    best_rho, _ = _first_best(stop_cp[:, None], n_iters[:1])
    return best_rho, int(stops[best_rho])


def _store_spectral_solution(estimator, X, fit, learning_rate):
    """Set on ``estimator`` what its ``fit`` with ``solver="spectral"`` would set.

    ``fit`` is the ``ScaledFit`` already factored by ``estimator._scaled_fit``; the
    coefficient is computed by the same operations as in ``BaseSAM._fit_full``, so
    the result is identical to refitting, without a second decomposition.
    """
    rho, n_iter = float(estimator.rho), int(estimator.n_iter)
    with np.errstate(over="ignore", invalid="ignore"):
        psi = filter_psi(fit.factor, learning_rate, rho, [n_iter], "unnormalized")
        coef = fit.factor.coef(psi[..., 0])
    estimator._check_finite(coef)
    estimator.validation_score_ = None
    estimator.learning_rate_ = learning_rate
    estimator.n_iter_ = n_iter
    estimator.solver_ = "spectral"
    estimator._y_offset = fit.y_offset
    estimator._path_state = estimator._light_path_state(
        fit.op, fit.y_scaled, fit.factor
    )
    estimator._batch_stream_state = None
    estimator._store_solution(coef, X, fit.sw, fit.sqrt_sw, fit.y_offset)


class BaseSAMIC(SelectedModelMixin, BaseEstimator):
    """Shared fit of the SAM information-criterion estimators (``_criteria.py``).

    Subclasses implement ``_make_estimator`` and ``_estimate_noise_variance``.
    """

    _parameter_constraints: dict = {
        "n_iters": ["array-like", None],
        "rhos": ["array-like"],
        "criterion": [StrOptions({"cp", "aic", "bic", "discrepancy"})],
        "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
        "discrepancy_tau": [Interval(Real, 0, None, closed="neither")],
        **{
            name: BaseSAM._parameter_constraints[name]
            for name in ("learning_rate", "variant", "fit_intercept")
        },
    }

    def fit(self, X, y, sample_weight=None):
        """Evaluate the criterion on the whole grid and keep the best model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (the square training kernel for ``kernel="precomputed"``).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: ``S = sum(sample_weight)`` replaces the number of
            samples in the criteria and in the noise estimate.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        if self.variant != "unnormalized":
            raise ValueError(
                f"{type(self).__name__} needs the residuals and degrees of freedom "
                "of a linear smoother, which only unnormalized SAM has (normalized "
                "SAM is not linear in y). Use variant='unnormalized', or the "
                "cross-validated estimators for normalized SAM."
            )
        n_iters = DEFAULT_N_ITERS if self.n_iters is None else self.n_iters
        n_iters, rhos = check_n_iters(n_iters), _check_rhos(self.rhos)
        estimator = self._make_estimator().set_params(
            rho=float(rhos[0]), n_iter=int(n_iters.max()), solver="spectral"
        )
        X, y, sample_weight = estimator._validate_fit_data(X, y, sample_weight)
        fit = estimator._scaled_fit(X, y, sample_weight, solver="spectral")
        sum_weights = float(fit.sw.sum())
        y_sq_norm = np.sum(fit.y_scaled**2, axis=0)
        etas = [estimator._resolve_learning_rate(fit.lam_max, r) for r in rhos]
        rss, dof = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for eta, rho in zip(etas, rhos, strict=True):
                psi = filter_psi(fit.factor, eta, rho, n_iters, "unnormalized")
                rss.append(
                    rss_path(
                        fit.factor, eta, rho, n_iters, psi=psi,
                        y_sq_norm=y_sq_norm, sum_weights=sum_weights,
                    )
                )  # fmt: skip
                dof.append(dof_path(fit.factor, eta, rho, n_iters, psi=psi))
        rss, dof = np.stack(rss, axis=1), np.stack(dof) + float(self.fit_intercept)

        if self.noise_variance is None:
            sigma2 = self._estimate_noise_variance(fit, rss, dof, X.shape[0])
            # Noiseless data: keep the criteria finite (documented floor).
            floor = np.finfo(float).eps * y_sq_norm / sum_weights
            sigma2 = np.maximum(sigma2, np.maximum(floor, np.finfo(float).tiny))
        else:
            sigma2 = np.full(y.shape[1], float(self.noise_variance))
        tau = float(self.discrepancy_tau)
        values = criterion_values(self.criterion, rss, dof, sum_weights, sigma2, tau)
        if self.criterion == "discrepancy":
            cp = criterion_values("cp", rss, dof, sum_weights, sigma2)
            best_rho, best_iter = _discrepancy_choice(values, cp, n_iters)
        else:
            best_rho, best_iter = _first_best(values, n_iters)

        self.n_iters_, self.rhos_ = n_iters, rhos
        self.criterion_, self.dof_ = values, dof
        self.noise_variance_ = float(sigma2[0]) if estimator._y_ndim == 1 else sigma2
        self.rho_, self.n_iter_ = float(rhos[best_rho]), int(n_iters[best_iter])
        estimator.set_params(rho=self.rho_, n_iter=self.n_iter_)
        _store_spectral_solution(estimator, X, fit, etas[best_rho])
        self.best_estimator_ = estimator
        return self._expose_selected(estimator)
