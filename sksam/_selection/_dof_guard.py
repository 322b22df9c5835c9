"""The guard of the cross-validation searches against interpolating picks.

On tiny data (a few dozen samples, folds of a dozen) the validation folds hold a
handful of samples each, their scores are noisy, and the best mean score can fall
on a candidate that interpolates its training folds: with the uncapped default
grid, whose end is the converged path, a kernel search on R's 21-sample
``stackloss`` picked ~70,000 steps, and the refitted interpolant scored R^2 = -12
on held-out rows (the user guide, "Tiny data: the interpolation guard"). Such a
candidate's degrees of freedom (the trace of its training smoother, +1 with an
intercept) reach the number of samples it was fitted on.

The guard: when the best mean score (of the metric that selects) is at a
candidate whose degrees of freedom exceed ``max_dof_fraction`` (default
``MAX_DOF_FRACTION``: all but 0.1% of the samples, the tolerance ``CONVERGED`` by
which the default grid's end is the converged path) of the samples of some
training fold (its rows with a positive weight: the rank the smoother can fill,
whatever the scale of the weights), the search picks the best candidate within
that bound instead, with a warning, and ranks the candidates above it last in
that metric's ``rank_test_*``. Otherwise nothing changes: the results and the
pick are ``GridSearchCV``'s. Unlike ``cv="gcv"``'s guard (``_gcv``, 0.9 of the
samples: GCV itself collapses near interpolation), cross-validation scores
near-interpolants honestly, so only the interpolants are passed over. It needs
the smoother: variants linear in ``y`` with an exact filter (not normalized
SAM); a callable ``refit`` picks by itself (unguarded).
"""

import numpy as np

from .._array_api import to_numpy
from .._core._variants import get_variant
from .._warnings import warn
from ._search import CONVERGED

__all__ = [
    "MAX_DOF_FRACTION",
    "fold_dof_fractions",
    "guard",
    "positive_weights",
    "warn_guarded",
]

#: The default largest fraction of a training fold's samples that a candidate's
#: degrees of freedom may reach and be picked: all but the tolerance of the
#: default grid's converged end (0.999).
MAX_DOF_FRACTION = 1.0 - CONVERGED


def fold_dof_fractions(estimator, problem, n_iters, rhos, n_samples):
    """Degrees of freedom of every candidate over the fold's samples.

    Shape (n_iters, n_rhos), from the fold's (decomposed) training ``problem``;
    ``n_samples`` counts its rows with a positive weight. ``None`` where the
    variant has no smoother. The step size is the one the candidates' runs use
    (``"auto"``, or the float ``learning_rate``; an unstable one gives
    non-finite degrees of freedom, as its candidates diverge).
    """
    variant = get_variant(estimator.variant)
    if not (variant.linear_in_y and variant.has_filter) or not n_samples:
        return None
    lam_max = float(problem.lam_max)
    fractions = np.empty((n_iters.size, rhos.size))
    for j, rho in enumerate(rhos):
        if isinstance(estimator.learning_rate, str):  # "auto"
            eta = float(variant.auto_learning_rate(lam_max, rho))
        else:
            eta = float(estimator.learning_rate)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            dof = problem.dof(eta, rho, n_iters, variant=variant)
        fractions[:, j] = np.broadcast_to(dof, n_iters.shape) / n_samples
    return fractions


def positive_weights(sample_weight, n_samples):
    """The number of rows with a positive weight (all ``n_samples`` without
    weights)."""
    if sample_weight is None:
        return n_samples
    return int(np.count_nonzero(to_numpy(sample_weight)))


def guard(fractions, max_fraction, means, best):
    """The candidates the search may pick when the guard moves the pick: a
    boolean mask of shape (n_candidates,), else ``None``.

    ``fractions`` (n_iters, n_rhos, n_splits) from ``fold_dof_fractions``
    (``None`` where not computed); ``means`` the mean scores of the metric that
    selects and ``best`` its best candidate (``GridSearchCV``'s pick). ``None``
    (no change) when the guard is off, or ``best`` is within the bound, or no
    candidate within it has a finite score (folds too small for any candidate
    not to interpolate, e.g. one training sample with an intercept: there is
    nothing to prefer).
    """
    if max_fraction is None or fractions is None:
        return None
    with np.errstate(invalid="ignore"):
        largest = fractions.reshape(-1, fractions.shape[-1]).max(axis=1)
        allowed = largest <= max_fraction  # nan or inf (diverged): not allowed
    if allowed[best] or not np.any(allowed & np.isfinite(means)):
        return None
    return allowed


def warn_guarded(results, unguarded, best, fractions, max_fraction):
    """Warn that the guard moved the pick from the candidate ``unguarded`` (the
    best mean score) to ``best``."""
    largest = fractions.reshape(-1, fractions.shape[-1]).max(axis=1)
    before, after = results["params"][unguarded], results["params"][best]
    warn(
        f"The best mean validation score is at n_iter={before['n_iter']}, "
        f"rho={before['rho']:.4g}, whose degrees of freedom reach "
        f"{largest[unguarded]:.4g} of the samples of a training fold (above "
        f"max_dof_fraction={max_fraction:g}: it interpolates that fold): on folds "
        "this small its score is unreliable. The pick is the best candidate below the "
        f"guard, n_iter={after['n_iter']}, rho={after['rho']:.4g} (the guarded "
        "candidates rank last in cv_results_). max_dof_fraction=None picks as "
        "GridSearchCV.",
        UserWarning,
    )
