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

Near interpolation (``dof_k`` close to ``S``) both ``RSS_k`` and ``1 - dof_k / S`` are
tiny and GCV can fall far below the noise: every use of GCV (the pick of
``cv="gcv"``, the IC's noise estimate) is restricted to the grid points with
``dof_k <= (1 - GCV_MIN_RESIDUAL_FRACTION) S``, with a warning when that excludes
the unrestricted minimiser (``gcv_pick``).
"""

import numpy as np

from .._array_api import to_numpy
from .._warnings import warn

__all__ = [
    "GCV_MIN_RESIDUAL_FRACTION",
    "check_target_squares",
    "gcv_criterion",
    "gcv_n_obs",
    "gcv_pick",
    "gcv_scores",
    "gcv_target_scores",
]

#: GCV is only used at grid points that leave at least this fraction of the samples
#: as residual degrees of freedom: near interpolation both factors of GCV are
#: rounding-sized and its minimum collapses (issue 24: 5 of 30 random RBF problems,
#: GCV noise estimates 4e-9 .. 1e-4 of 0.09, and cv="gcv" picked the interpolants).
GCV_MIN_RESIDUAL_FRACTION = 0.1


def check_target_squares(problem, criterion):
    """Raise a ``ValueError`` when the targets' weighted sum of squares overflows
    float64 (``|y|`` beyond about ``1e154``): every residual sum of squares of the
    criteria would be ``inf``, which reads as a divergence. ``criterion`` names the
    caller's criterion in the message."""
    if np.all(np.isfinite(to_numpy(problem.y_sq_norm))):
        return
    raise ValueError(
        f"{criterion} needs the training residual sums of squares, and the squares "
        "of the targets overflow float64 (|y| beyond about 1e154). The selection "
        "is invariant to rescaling y: divide y by a constant (e.g. its largest "
        "magnitude; noise_variance, if given, by its square) and multiply the "
        "predictions back."
    )


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

    The targets' mean of ``gcv_target_scores``. Returns ``(scores, dof,
    diverged)``, each of shape (n_iters, n_rhos): ``diverged`` where a training
    residual is not finite.
    """
    scores, dofs, diverged = gcv_target_scores(problem, n_iters, rhos, plan, n_obs)
    return scores.mean(axis=-1), dofs, diverged.any(axis=-1)


def gcv_target_scores(problem, n_iters, rhos, plan, n_obs):
    """Minus each column's GCV criterion, shape (n_iters, n_rhos, n_targets).

    Each column scored as if alone (``per_target=True``). ``plan(problem, rho)``
    gives the ``SAMRun`` of each ``rho``; ``n_obs`` from ``gcv_n_obs``. Returns
    ``(scores, dof, diverged)``: ``dof`` of shape (n_iters, n_rhos) (shared by
    the targets), ``diverged`` of the scores' shape (a target's training
    residual is not finite).
    """
    total = problem.sum_weights
    shape = (n_iters.size, rhos.size, problem.n_targets)
    scores = np.empty(shape)
    dofs = np.empty(shape[:2])
    diverged = np.empty(shape, dtype=bool)
    for j, rho in enumerate(rhos):
        run = plan(problem, rho)
        eta = run.learning_rate
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rss = problem.rss(eta, run.rho, n_iters, run.variant)
            dof = problem.dof(eta, run.rho, n_iters, variant=run.variant)
            scores[:, j] = -gcv_criterion(rss, dof, total, n_obs).T
        dofs[:, j] = np.broadcast_to(dof, rss.shape[-1:])
        diverged[:, j] = ~np.isfinite(rss).T
    return scores, dofs, diverged


def gcv_pick(scores, dof, diverged, n_obs, n_samples):
    """The grid points ``cv="gcv"`` may pick: a boolean mask of ``scores``' shape.

    GCV is used only where ``dof <= (1 - GCV_MIN_RESIDUAL_FRACTION) n_obs``
    (module docstring); a ``UserWarning`` when that excludes the unrestricted
    minimiser, or when no grid point qualifies (then every finite one may be
    picked), or when GCV is infinite wherever the iterates did not diverge
    (``dof >= n_obs``: then any of them, the first). Raises ``ValueError`` when
    every grid point diverged.
    """
    finite = np.isfinite(scores)
    if not finite.any():
        if diverged.all():
            raise ValueError(
                "Every (n_iter, rho) candidate failed: the SAM iterates diverged "
                f"(non-finite training residuals at all {diverged.size} grid "
                "points), so no generalized cross-validation score is finite. Use "
                "learning_rate='auto' or a smaller learning_rate."
            )
        warn(
            "cv='gcv': generalized cross-validation is undefined at every grid "
            "point that did not diverge: their degrees of freedom reach the number "
            f"of samples (dof >= {n_obs:g}, the sum of the weights; n_samples="
            f"{n_samples}; smallest dof {float(dof[~diverged].min()):.4g}), so GCV "
            "cannot choose; the first grid point is picked. Use a cross-validation "
            "splitter, or more samples.",
            UserWarning,
        )
        return ~diverged
    max_dof = (1.0 - GCV_MIN_RESIDUAL_FRACTION) * n_obs
    kept = finite & (dof <= max_dof)
    best = np.unravel_index(np.argmax(np.where(finite, scores, -np.inf)), dof.shape)
    if not kept.any():
        warn(
            "cv='gcv': every grid point with a finite generalized cross-validation "
            f"score has dof > {max_dof:.4g} ({1 - GCV_MIN_RESIDUAL_FRACTION:g} of "
            f"n={n_obs:g} samples, the sum of the weights), near interpolation, "
            "where GCV underestimates the prediction error; the pick is among them "
            "anyway. Use a cross-validation splitter or fewer steps.",
            UserWarning,
        )
        return finite
    if not kept[best]:
        warn(
            "cv='gcv': generalized cross-validation is smallest near interpolation "
            f"(dof {float(dof[best]):.4g} of n={n_obs:g} samples, the sum of the "
            "weights), where it underestimates the prediction error; the pick is "
            f"the GCV minimiser among the grid points with dof <= {max_dof:.4g} "
            "instead (the others rank last in cv_results_).",
            UserWarning,
        )
    return kept
