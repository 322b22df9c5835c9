"""Generalized cross-validation and the one weight rule of every criterion.

The weight rule (the user guide, "The update rules and conventions", "Sample weights
in the criteria"): sample weights are frequency weights in every criterion (GCV, Cp,
AIC, BIC, the discrepancy principle and the noise estimates), as in scikit-learn's
sample-weight equivalence checks: the number of samples is ``S``, the sum of the
weights (``gcv_n_obs``), so integer weights give exactly the criteria of repeated
rows and a zero weight is the same as dropping the row; rescaling every weight
rescales the sample count.

``GCV_k = (RSS_k / S) / (1 - dof_k / S)^2`` with the weighted training residual
sum of squares ``RSS_k`` and ``dof_k`` the trace of the smoother (+1 with an
intercept); ``dof_k >= S`` gives ``GCV = inf``. ``SAMRegressorCV(cv="gcv")`` scores
``-GCV``; the IC estimators estimate the noise variance at the GCV minimiser
(``_criteria.gcv_noise_variance``).
"""

import numpy as np

__all__ = ["gcv_criterion", "gcv_n_obs", "gcv_scores"]


def gcv_n_obs(problem):
    """``n_obs`` of every criterion: the sum of the weights (frequency weights;
    the user guide, "Sample weights in the criteria")."""
    return problem.sum_weights


def gcv_criterion(rss, dof, sum_weights, n_obs):
    """``GCV = (RSS / S) / (1 - dof / n_obs)^2``, ``inf`` where ``dof >= n_obs``.

    ``rss`` of shape (n_targets, ...) and ``dof`` broadcasting with it.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        gcv = (rss / sum_weights) / (1.0 - dof / n_obs) ** 2
    return np.where(dof < n_obs, gcv, np.inf)


def gcv_scores(problem, n_iters, rhos, plan, n_obs):
    """Minus the GCV criterion averaged over targets, shape (n_iters, n_rhos).

    ``plan(problem, rho)`` gives the ``SAMRun`` of each ``rho``; ``n_obs`` from
    ``gcv_n_obs``.
    """
    total = problem.sum_weights
    scores = np.empty((n_iters.size, rhos.size))
    for j, rho in enumerate(rhos):
        run = plan(problem, rho)
        eta = run.learning_rate
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rss = problem.rss(eta, run.rho, n_iters, run.variant)
            dof = problem.dof(eta, run.rho, n_iters, variant=run.variant)
        scores[:, j] = -gcv_criterion(rss, dof, total, n_obs).mean(axis=0)
    return scores
