"""Selection of ``(n_iter, rho)`` by information criteria, without refits.

The criteria of ``SAMRegressorIC`` and ``SAMKernelRidgeIC`` (``_ic.py``). Unnormalized
SAM after ``k`` steps is a linear smoother of ``y``, diagonal in the eigenbasis of one
decomposition (the user guide, "Exact iterates: the spectral filter", and the user
guide, "Comparing with Ridge; bias and variance"). The training residual sum of squares
and the degrees of freedom ``trace(A_k) = sum_i (1 - r_i^k)`` of every ``(rho, n_iter)``
therefore cost O(rank) each (``_spectral.rss_path`` and ``_spectral.dof_path``), and
Mallows' Cp, AIC, BIC and the discrepancy principle select a model as ``LassoLarsIC``
does along the LARS path.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._core._spectral import rss_path
from .._warnings import warn
from ._gcv import GCV_MIN_RESIDUAL_FRACTION, gcv_criterion

__all__ = [
    "GCV_MIN_RESIDUAL_FRACTION",
    "criterion_values",
    "discrepancy_choice",
    "first_best",
    "gcv_noise_variance",
    "least_squares_noise_variance",
]


def criterion_values(
    criterion, rss, dof, sum_weights, noise_variance, tau=1.0, average=True
):
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
    average : bool, default=True
        Average over targets; ``False``: each target's own criterion.

    Returns
    -------
    values : ndarray of shape (n_rhos, n_iters), or (n_targets, n_rhos, n_iters)
        without ``average``

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
    return values.mean(axis=0) if average else values


def least_squares_noise_variance(factor, y_sq_norm, sum_weights, dof_ls):
    """``RSS_LS / (S - dof_ls)`` per target, ``RSS_LS`` the least-squares residual.

    The least-squares fit is the ``k -> inf`` limit of the path: the filter is 1 on
    every retained direction (the ``k -> inf`` limit of the filter), so ``RSS_LS`` is
    the part of ``y_s`` outside the retained eigenspace, read from ``factor``.
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


def gcv_noise_variance(rss, dof, sum_weights, n_obs):
    """``RSS / (S - dof)`` at each target's GCV minimiser; ``None`` if there is none.

    The GCV of ``cv="gcv"`` (``_gcv.gcv_criterion``) over the grid points with
    ``dof <= (1 - GCV_MIN_RESIDUAL_FRACTION) n_obs``, non-finite points excluded
    (a ``UserWarning`` when that excludes the unrestricted minimiser); ``rss``
    (n_targets, n_rhos, n_iters), ``dof`` (n_rhos, n_iters); ``n_obs = S`` (the
    weight rule of ``_gcv``).
    """
    n_targets = rss.shape[0]
    gcv = gcv_criterion(rss, dof, sum_weights, n_obs)
    gcv = np.where(np.isfinite(gcv), gcv, np.inf).reshape(n_targets, -1)
    max_dof = (1.0 - GCV_MIN_RESIDUAL_FRACTION) * n_obs
    kept = np.where((dof <= max_dof).ravel()[None, :], gcv, np.inf)
    best = np.argmin(kept, axis=1)
    rows = np.arange(n_targets)
    if not np.all(np.isfinite(kept[rows, best])):
        return None
    unrestricted = np.argmin(gcv, axis=1)
    if np.any(gcv[rows, unrestricted] < kept[rows, best]):
        worst = float(dof.ravel()[unrestricted].max())
        warn(
            "noise_variance=None: generalized cross-validation is smallest near "
            f"interpolation (dof {worst:.4g} of n={n_obs:g} samples, the sum of "
            "the weights), where its noise estimate RSS / (n - dof) collapses; it is "
            "taken at the GCV minimiser among the grid points with dof <= "
            f"{max_dof:.4g} instead. Pass noise_variance when it is known.",
            UserWarning,
        )
    best_rss = rss.reshape(n_targets, -1)[rows, best]
    return best_rss / (sum_weights - dof.ravel()[best])


def first_best(values, n_iters):
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


def discrepancy_choice(gap, cp, n_iters):
    """The discrepancy stopping time of each rho, then the rho with the smallest Cp.

    ``gap = RSS / S - tau * sigma^2`` (``criterion_``). Each rho stops at its smallest
    ``n_iter`` with ``gap <= 0``; if no rho gets there, every rho stops at its largest
    ``n_iter`` and a ``ConvergenceWarning`` is emitted.
    """
    finite = np.isfinite(gap) & np.isfinite(cp)
    reached = finite & (gap <= 0.0)
    if not reached.any():
        warn(
            "No (n_iter, rho) in the grid brings the mean squared residual down to "
            "discrepancy_tau * noise_variance; the largest n_iter is used. Extend "
            "n_iters (or lower discrepancy_tau).",
            ConvergenceWarning,
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
    best_rho, _ = first_best(stop_cp[:, None], n_iters[:1])
    return best_rho, int(stops[best_rho])
