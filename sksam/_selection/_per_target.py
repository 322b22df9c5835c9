"""Per-target selection (``per_target=True``): each target column its own pick.

A column of a multi-output problem is fitted exactly as if it were alone, so the
search on ``y`` with ``per_target=True`` selects for target ``t`` what the search
on ``y[:, t]`` selects, with the same grid (the one resolved from all the targets,
``n_iters_`` and ``rhos_``). The scoring routes give one score per target
(``SplitGrid.per_target``); this module holds what follows from them:

- ``target_results``: ``cv_results_`` with a target axis, ranked per target as
  ``GridSearchCV`` ranks a single-target search, and ``best_indices``;
- ``gcv_target_pick``: each column's own generalized cross-validation pick (its
  scores are ``_gcv.gcv_target_scores``), with the guard near interpolation of
  ``_gcv.gcv_pick``;
- ``ic_target_picks``: each column's own information criterion;
- ``target_guard`` and ``warn_target_guarded``: the interpolation guard
  (``_dof_guard``) of each target's pick, its warning emitted once;
- ``check_per_target_search``: what per-target selection does not combine with
  (several metrics, ``refit`` other than ``True``);
- ``target_edges``: the grid-edge flags per target, each warning emitted once;
- ``set_target_selection``: the refit at every target's pick
  (``_per_target_refit``) and the search's fitted state.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._validation import like_input
from .._warnings import warn
from ._criteria import discrepancy_choice
from ._dof_guard import guard, warn_guarded
from ._gcv import GCV_MIN_RESIDUAL_FRACTION
from ._per_target_refit import refit_targets
from ._search import (
    candidate_ranks,
    grid_edge,
    raise_all_failed,
    rho_edge,
    score_table,
)

__all__ = [
    "PER_TARGET_CV_DOC",
    "PER_TARGET_IC_DOC",
    "best_indices",
    "check_per_target_search",
    "gcv_target_pick",
    "ic_target_picks",
    "selects_per_target",
    "set_target_selection",
    "target_edges",
    "target_guard",
    "target_results",
    "warn_target_guarded",
]


_PER_TARGET_COMMON_DOC = """
        The fitted ``n_iter_``, ``rho_``,{score} ``best_index_`` and
        ``learning_rate_`` are then arrays of shape (n_targets,), and so are the
        edge flags ``n_iter_at_edge_`` and ``rho_at_edge_`` (object arrays; each
        edge warning is emitted once, naming the targets); ``best_params_`` is a
        list of one dict per target, and target ``t``'s coefficients are the
        refit at its own pick (see ``best_estimator_``). With 1-D ``y`` or a
        single target column it is the single pick (scalar attributes), as in
        ``RidgeCV``."""

#: The ``per_target`` entry of the cross-validation searches' docstrings.
PER_TARGET_CV_DOC = """
    per_target : bool, default=False
        Select ``(n_iter, rho)`` for each target column separately, as
        ``RidgeCV(alpha_per_target=True)`` selects ``alpha`` (here with any
        splitter, not only leave-one-out). Target ``t``'s pick, scores and model
        are those of the same search on ``y[:, t]`` alone over the grid resolved
        from all the targets (``n_iters_``, ``rhos_``): its score on a fold is
        the scorer applied to its column alone (``GridSearchCV`` run column by
        column); with ``cv="gcv"`` its criterion is its own
        ``(RSS_t / S) / (1 - dof / S)^2``, with the same guard near
        interpolation. ``cv_results_`` then holds every target's scores (see
        Attributes). The scores cost what the single pick's cost (every target
        is scored along the path either way; a custom scorer is called once per
        candidate and target), the refit one run per selected ``rho``. It
        selects by one metric with ``refit=True``: a multi-metric ``scoring``
        or another ``refit`` raises a ``ValueError``. The interpolation guard
        (``max_dof_fraction``) applies to each target's pick on its own
        column."""
_CV_FITTED = _PER_TARGET_COMMON_DOC.format(score=" ``best_score_``,")
PER_TARGET_CV_DOC += _CV_FITTED

#: The ``per_target`` entry of the IC estimators' docstrings.
PER_TARGET_IC_DOC = """
    per_target : bool, default=False
        Select ``(n_iter, rho)`` for each target column separately, by its own
        criterion (its own residuals and noise variance ``sigma_t^2``; a given
        ``noise_variance`` is used for every target): target ``t``'s pick and
        model are those of the same estimator on ``y[:, t]`` alone over the grid
        resolved from all the targets (``n_iters_``, ``rhos_``). ``criterion_``
        then has shape (n_targets, n_rhos, n_iters)."""
PER_TARGET_IC_DOC += _PER_TARGET_COMMON_DOC.format(score="")


def selects_per_target(search, n_targets):
    """Whether ``search`` selects per target on ``n_targets`` columns: with
    ``per_target=True`` and two targets or more (one target, or 1-D ``y``, is the
    single pick, as ``RidgeCV(alpha_per_target=True)`` does)."""
    return bool(getattr(search, "per_target", False)) and n_targets > 1


def _targets_text(targets, n_targets, limit=5):
    shown = ", ".join(map(str, targets[:limit])) + (
        ", ..." if len(targets) > limit else ""
    )
    return f"{len(targets)} of the {n_targets} targets (columns {shown})"


# ------------------------------------------------------------------- results
def target_results(
    split_scores,
    n_iters,
    rhos,
    n_diverged=0,
    scoring_error=None,
    timings=None,
    min_test_size=None,
    pickable=None,
    zero_weight=(),
):
    """``cv_results_`` of a per-target search (``_search.search_results`` with a
    target axis).

    ``split_scores`` has shape (n_iters, n_rhos, n_targets, n_splits); the
    candidates run as in ``search_results`` (``n_iter`` outer, ``rho`` inner).
    ``split{k}_test_score``, ``mean_test_score``, ``std_test_score`` and
    ``rank_test_score`` have shape (n_candidates, n_targets): column ``t`` is
    what ``GridSearchCV`` gives on ``y[:, t]`` (ranks per target, ``nan`` means
    below the worst finite one). The timing keys and the parameters are per
    candidate, shape (n_candidates,). ``pickable`` (boolean, (n_iters, n_rhos,
    n_targets): the GCV guard) ranks the other candidates of a target last. A
    target none of whose candidates has a score raises the error of
    ``raise_all_failed``, naming the target.
    """
    n_candidates = n_iters.size * rhos.size
    n_targets = split_scores.shape[2]
    results = score_table(split_scores, n_iters, rhos, timings)
    means = results["mean_test_score"]
    failed = np.flatnonzero(np.isnan(means).all(axis=0))
    if failed.size:
        try:
            raise_all_failed(n_diverged, scoring_error, min_test_size, zero_weight)
        except ValueError as exc:
            raise ValueError(
                f"per_target=True: for {_targets_text(failed, n_targets)}: {exc}"
            ) from exc
    if pickable is None:
        if not np.all(np.isfinite(means)):
            bad = np.flatnonzero(~np.isfinite(means).all(axis=0))
            warn(
                "One or more of the test scores are non-finite, for "
                f"{_targets_text(bad, n_targets)}; they rank last.",
                UserWarning,
            )
        pickable = np.ones(means.shape, dtype=bool)
    pickable = np.asarray(pickable).reshape(n_candidates, n_targets)
    results["rank_test_score"] = candidate_ranks(means, pickable)
    return results


def best_indices(results):
    """The selected candidate of each target: its first best rank (the order of
    the grid, as ``GridSearchCV``'s ``best_index_``)."""
    return np.argmin(results["rank_test_score"], axis=0)


def check_per_target_search(search, multimetric=False):
    """Raise the ``ValueError`` of what ``per_target=True`` does not combine with:
    several metrics (a multi-metric ``scoring``, a ``refit`` naming a metric, or
    a callable returning a dict: ``multimetric``) and a ``refit`` other than
    ``True`` (each target is refitted at its own pick)."""
    scoring, refit = getattr(search, "scoring", None), getattr(search, "refit", True)
    if (
        multimetric
        or isinstance(scoring, (list, tuple, set, dict))
        or isinstance(refit, str)  # the name of one of several metrics
    ):
        raise ValueError(
            "per_target=True selects each target by one metric and takes no "
            f"multi-metric scoring (got scoring={scoring!r}, refit={refit!r}); "
            "use one metric with refit=True, or per_target=False to select one "
            "pair for all the targets by the refit metric."
        )
    if getattr(search, "refit", True) is not True:
        raise ValueError(
            "per_target=True refits every target at its own pick and needs "
            f"refit=True (got refit={search.refit!r}); use per_target=False for "
            "refit=False or a callable refit."
        )


def target_guard(fractions, max_fraction, means, best):
    """The interpolation guard (``_dof_guard.guard``) of each target's pick.

    ``means`` (n_candidates, n_targets) and ``best`` (n_targets,) are each
    target's mean scores and pick; the degrees of freedom ``fractions`` are the
    targets' (a smoother does not depend on ``y``). Returns ``(pickable,
    guarded)``: a boolean mask (n_candidates, n_targets) of the candidates each
    target may pick and, for each target, its unguarded pick (``-1`` where the
    guard left it alone); ``(None, None)`` when it moves no pick.
    """
    n_candidates, n_targets = means.shape
    pickable = np.ones((n_candidates, n_targets), dtype=bool)
    guarded = np.full(n_targets, -1)
    for t in range(n_targets):
        allowed = guard(fractions, max_fraction, means[:, t], int(best[t]))
        if allowed is not None:
            pickable[:, t] = allowed
            guarded[t] = best[t]
    if np.all(guarded < 0):
        return None, None
    return pickable, guarded


def warn_target_guarded(results, guarded, best, fractions, max_fraction):
    """Warn once that the guard moved the picks of the targets with
    ``guarded >= 0`` (``_dof_guard.warn_guarded``'s warning of the first,
    naming them all)."""
    targets = np.flatnonzero(np.asarray(guarded) >= 0)
    first = targets[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_guarded(
            results, int(guarded[first]), int(best[first]), fractions, max_fraction
        )
    for w in caught:
        warn(
            f"{w.message} (per_target=True: the pick of target {first}; the guard "
            f"moved the picks of {_targets_text(targets, guarded.size)})",
            w.category,
        )


# ---------------------------------------------------------------------- GCV
def gcv_target_pick(scores, dof, diverged, n_obs, n_samples):
    """The grid points ``cv="gcv"`` may pick for each target: ``_gcv.gcv_pick``
    applied to each column (shape of ``scores``, (n_iters, n_rhos, n_targets)),
    each of its warnings emitted once for all the targets it concerns."""
    n_targets = scores.shape[2]
    finite = np.isfinite(scores)
    undefined = ~finite.any(axis=(0, 1))
    failed = np.flatnonzero(undefined & diverged.all(axis=(0, 1)))
    if failed.size:
        raise ValueError(
            "Every (n_iter, rho) candidate failed for "
            f"{_targets_text(failed, n_targets)}: the SAM iterates diverged "
            "(non-finite training residuals at every grid point), so no "
            "generalized cross-validation score is finite. Use "
            "learning_rate='auto' or a smaller learning_rate."
        )
    if undefined.any():
        warn(
            "cv='gcv': generalized cross-validation is undefined at every grid "
            "point that did not diverge for "
            f"{_targets_text(np.flatnonzero(undefined), n_targets)}: their degrees "
            f"of freedom reach the number of samples (dof >= {n_obs:g}, the sum "
            f"of the weights; n_samples={n_samples}), so GCV cannot choose; the "
            "first grid point is picked. Use a cross-validation splitter, or more "
            "samples.",
            UserWarning,
        )
    max_dof = (1.0 - GCV_MIN_RESIDUAL_FRACTION) * n_obs
    kept = finite & (dof <= max_dof)[:, :, None]
    flat = np.where(finite, scores, -np.inf).reshape(-1, n_targets)
    best = np.argmax(flat, axis=0)
    best_kept = kept.reshape(-1, n_targets)[best, np.arange(n_targets)]
    none_kept = ~kept.any(axis=(0, 1)) & ~undefined
    if none_kept.any():
        warn(
            "cv='gcv': every grid point with a finite generalized cross-validation "
            f"score has dof > {max_dof:.4g} ({1 - GCV_MIN_RESIDUAL_FRACTION:g} of "
            f"n={n_obs:g} samples, the sum of the weights) for "
            f"{_targets_text(np.flatnonzero(none_kept), n_targets)}, near "
            "interpolation, where GCV underestimates the prediction error; their "
            "pick is among them anyway. Use a cross-validation splitter or fewer "
            "steps.",
            UserWarning,
        )
    excluded = ~best_kept & ~none_kept & ~undefined
    if excluded.any():
        warn(
            "cv='gcv': generalized cross-validation is smallest near interpolation "
            f"for {_targets_text(np.flatnonzero(excluded), n_targets)}, where it "
            "underestimates the prediction error; their pick is the GCV minimiser "
            f"among the grid points with dof <= {max_dof:.4g} instead (the others "
            "rank last in cv_results_).",
            UserWarning,
        )
    return np.where(undefined, ~diverged, np.where(none_kept, finite, kept))


# ----------------------------------------------------------------------- IC
def ic_target_picks(criterion, values, cp, n_iters):
    """``(rho index, n_iter index)`` of each target, arrays of shape (n_targets,).

    ``values`` (and, for ``"discrepancy"``, ``cp``) of shape (n_targets, n_rhos,
    n_iters): each column's criterion. The rule of the single-target estimator
    (``_criteria.first_best``: the smallest value, ties to the fewest steps then
    the first rho; ``discrepancy_choice``), column by column; the discrepancy
    principle's ``ConvergenceWarning`` is emitted once for the targets it
    concerns.
    """
    n_targets, n_rhos, n_steps = values.shape
    if criterion == "discrepancy":
        picks, missed = [], []
        for t in range(n_targets):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                picks.append(discrepancy_choice(values[t], cp[t], n_iters))
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                missed.append(t)
        if missed:
            warn(
                "No (n_iter, rho) in the grid brings the mean squared residual down "
                "to discrepancy_tau * noise_variance for "
                f"{_targets_text(missed, n_targets)}; their largest n_iter is used. "
                "Extend n_iters (or lower discrepancy_tau).",
                ConvergenceWarning,
            )
        rho_index, iter_index = (np.array(axis) for axis in zip(*picks, strict=True))
        return rho_index, iter_index
    finite = np.where(np.isfinite(values), values, np.inf).reshape(n_targets, -1)
    failed = np.flatnonzero(~np.isfinite(finite.min(axis=1)))
    if failed.size:
        raise ValueError(
            "Every (n_iter, rho) candidate diverged (non-finite residuals) for "
            f"{_targets_text(failed, n_targets)}; use learning_rate='auto' or a "
            "smaller learning_rate."
        )
    # Grid points by stopping time, then rho: the first minimum wins the ties.
    rho_of = np.repeat(np.arange(n_rhos), n_steps)
    order = np.lexsort((rho_of, np.tile(n_iters, n_rhos)))
    best = order[np.argmin(finite[:, order], axis=1)]
    return best // n_steps, best % n_steps


# --------------------------------------------------------------------- edges
def target_edges(grid, n_iter, rho, problem, learning_rate, variant):
    """``(n_iter_at_edge_, rho_at_edge_)`` of each target: object arrays of shape
    (n_targets,) holding ``"lower"``, ``"upper"`` or ``None`` (the rules of
    ``grid_edge`` and ``rho_edge`` for each target's pick).

    Each kind of edge warning is emitted at most once: the first target's, with
    the number of targets it concerns.
    """
    n_targets = n_iter.size
    n_iter_edges = np.empty(n_targets, dtype=object)
    rho_edges = np.empty(n_targets, dtype=object)
    caught_by = {}
    for pair in sorted(set(zip(n_iter.tolist(), rho.tolist(), strict=True))):
        where = np.flatnonzero((n_iter == pair[0]) & (rho == pair[1]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            n_iter_edges[where] = grid_edge(
                grid, pair[0], pair[1], problem, learning_rate, variant
            )
            rho_edges[where] = rho_edge(grid, pair[1])
        for w in caught:
            kind = (w.category, str(w.message).split("=")[0])
            caught_by.setdefault(kind, [w, []])[1].extend(where.tolist())
    for w, targets in caught_by.values():
        warn(
            f"{w.message} (per_target=True: the pick of "
            f"{_targets_text(sorted(set(targets)), n_targets)})",
            w.category,
        )
    return n_iter_edges, rho_edges


# ------------------------------------------------------------ fitted state
def set_target_selection(search, estimator, data, problem, grid, best, best_score):
    """Refit every target at its pick and set the search's fitted state.

    ``best``: each target's candidate index (``n_iter`` outer, ``rho`` inner, as
    ``cv_results_``), shape (n_targets,); ``best_score``: each target's score, or
    ``None`` (the IC estimators). ``n_iter_``, ``rho_``, ``best_index_``,
    ``best_score_`` and the edge flags are arrays of shape (n_targets,);
    ``best_params_`` is the list of each target's parameters. Returns ``search``.
    """
    n_iters, rhos = grid.n_iters, grid.rhos
    iter_index, rho_index = best // rhos.size, best % rhos.size
    n_iter, rho = n_iters[iter_index], rhos[rho_index]
    start = time.perf_counter()
    refit_targets(estimator, data, problem, n_iter, rho_index, rhos)
    search.refit_time_ = time.perf_counter() - start
    edges = target_edges(
        grid, n_iter, rho, problem, search.learning_rate, search.variant
    )
    search.n_iters_ = like_input(n_iters, data.X)
    search.rhos_ = like_input(rhos, data.X)
    search.rho_unit_ = grid.rho_unit
    search.n_iter_at_edge_, search.rho_at_edge_ = edges
    search.best_index_ = np.asarray(best, dtype=np.int64)
    search.best_params_ = [
        {"n_iter": int(k), "rho": float(r)} for k, r in zip(n_iter, rho, strict=True)
    ]
    search.n_iter_ = like_input(np.asarray(n_iter, dtype=np.int64), data.X)
    search.rho_ = like_input(np.asarray(rho, dtype=float), data.X)
    if best_score is not None:
        search.best_score_ = like_input(np.asarray(best_score, dtype=float), data.X)
    search.best_estimator_ = estimator
    search._expose_selected(estimator)
    search.learning_rate_ = like_input(estimator.learning_rate_, data.X)
    return search
