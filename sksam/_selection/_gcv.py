"""Generalized cross-validation: one formula for ``cv="gcv"`` and the IC noise estimate.

``GCV_k = (RSS_k / S) / (1 - dof_k / n_obs)^2`` with the weighted training residual
sum of squares ``RSS_k``, ``S`` the sum of the weights, ``dof_k`` the trace of the
smoother (+1 with an intercept) and ``n_obs`` the number of samples with a positive
weight (``gcv_n_obs``); ``dof_k >= n_obs`` gives ``GCV = inf``. ``SAMRegressorCV(cv=
"gcv")`` scores ``-GCV``; the IC estimators estimate the noise variance at the GCV
minimiser (``_criteria.gcv_noise_variance``).
"""

import numpy as np

from .._array_api import array_namespace

__all__ = ["gcv_criterion", "gcv_n_obs", "gcv_scores"]


def gcv_n_obs(problem, sample_weight):
    """``n_obs`` of GCV: the number of samples with a positive weight."""
    n_obs = problem.n_samples
    if sample_weight is not None:
        xp, _ = array_namespace(sample_weight)
        n_obs = int(xp.count_nonzero(sample_weight))
    return n_obs


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
            rss = problem.rss(eta, run.rho, n_iters, run.variant)
            dof = problem.dof(eta, run.rho, n_iters, variant=run.variant)
        scores[:, j] = -gcv_criterion(rss, dof, total, n_obs).mean(axis=0)
    return scores
