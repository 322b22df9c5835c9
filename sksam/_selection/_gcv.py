"""Generalized cross-validation and the one weight rule of every criterion.

The weight rule (the user guide, "The update rules and conventions", "Sample weights
in the criteria"): the criteria (GCV, Cp, AIC, BIC, the discrepancy principle and the
noise estimates) depend on the weights only through their ratios. They are the
unweighted formulas applied to the weights rescaled to sum to ``n_obs``, the number of
samples with a positive weight (``gcv_n_obs``): the residual sum of squares becomes
``RSS * n_obs / S`` (``ratio_rss``) and ``n_obs`` takes the place of ``n``. Uniform
weights ``c`` give the unweighted result for every ``c`` and a zero weight is the same
as dropping the row; integer weights are not repeated rows here (they are in the fit).

``GCV_k = (RSS_k / S) / (1 - dof_k / n_obs)^2`` with the weighted training residual
sum of squares ``RSS_k``, ``S`` the sum of the weights and ``dof_k`` the trace of the
smoother (+1 with an intercept); ``dof_k >= n_obs`` gives ``GCV = inf``.
``SAMRegressorCV(cv="gcv")`` scores ``-GCV``; the IC estimators estimate the noise
variance at the GCV minimiser (``_criteria.gcv_noise_variance``).
"""

import numpy as np

from .._array_api import namespace_of

__all__ = ["gcv_criterion", "gcv_n_obs", "gcv_scores", "ratio_rss"]


def gcv_n_obs(problem, sample_weight=None):
    """``n_obs`` of every criterion: the number of samples with a positive weight.

    ``sample_weight`` defaults to the problem's own weights.
    """
    if sample_weight is None:
        sample_weight = getattr(problem, "sample_weight", None)
    n_obs = problem.n_samples
    if sample_weight is not None:
        xp = namespace_of(sample_weight)[0] or np
        n_obs = int(xp.count_nonzero(sample_weight))
    return n_obs


def ratio_rss(rss, sum_weights, n_obs):
    """``RSS * n_obs / S``: the residual sum of squares of the weights rescaled to
    sum to ``n_obs`` (the weight rule of the module docstring)."""
    return rss * (n_obs / sum_weights)


def gcv_criterion(rss, dof, sum_weights, n_obs):
    """``GCV = (RSS / S) / (1 - dof / n_obs)^2``, ``inf`` where ``dof >= n_obs``.

    ``rss`` of shape (n_targets, ...) and ``dof`` broadcasting with it; only the
    ratios of the weights matter in ``RSS / S``.
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
            rss = problem.rss(eta, run.rho, n_iters)
            dof = problem.dof(eta, run.rho, n_iters)
        scores[:, j] = -gcv_criterion(rss, dof, total, n_obs).mean(axis=0)
    return scores
