"""Per-target selection (``per_target=True``): each target column its own pick.

A column of a multi-output problem is fitted exactly as if it were alone, so the
search on ``y`` with ``per_target=True`` selects for target ``t`` what the search
on ``y[:, t]`` selects, with the same grid (the one resolved from all the targets,
``n_iters_`` and ``rhos_``). The scoring routes give one score per target
(``SplitGrid.per_target``); this module holds what follows from them:

- ``target_results``: ``cv_results_`` with a target axis, ranked per target as
  ``GridSearchCV`` ranks a single-target search, and ``best_indices``;
- ``gcv_target_scores`` and ``gcv_target_pick``: each column's own generalized
  cross-validation, with the guard near interpolation of ``_gcv.gcv_pick``;
- ``ic_target_picks``: each column's own information criterion;
- ``refit_targets``: the coefficients of every target at its own ``(n_iter, rho)``
  from the search's problem (one run per distinct ``rho``, its columns taken at
  each target's stopping time), and ``PerTargetRun``, whose replay gives
  ``staged_predict`` (target ``t`` frozen after its own ``n_iter_[t]``);
- ``target_edges``: the grid-edge flags per target, each warning emitted once.
"""

import time
import warnings

import numpy as np
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning

from .._core._namespaces import device_of, index_array, zeros
from .._stability import check_finite, check_output_range, squares_scale
from .._validation import like_input
from .._warnings import warn
from ._criteria import discrepancy_choice
from ._cv_scores import CHUNK_ENTRIES
from ._gcv import GCV_MIN_RESIDUAL_FRACTION, gcv_criterion
from ._search import grid_edge, raise_all_failed, rho_edge

__all__ = [
    "PerTargetRun",
    "best_indices",
    "gcv_target_pick",
    "gcv_target_scores",
    "ic_target_picks",
    "refit_targets",
    "selects_per_target",
    "set_target_selection",
    "target_edges",
    "target_results",
]


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
    scores = split_scores.reshape(n_candidates, n_targets, -1)
    results = {}
    if timings is not None:
        for name, seconds in zip(("fit", "score"), timings, strict=True):
            seconds = seconds.reshape(n_candidates, -1)
            results[f"mean_{name}_time"] = seconds.mean(axis=1)
            results[f"std_{name}_time"] = seconds.std(axis=1)
    results |= {
        "param_n_iter": np.ma.MaskedArray(np.repeat(n_iters, rhos.size), mask=False),
        "param_rho": np.ma.MaskedArray(np.tile(rhos, n_iters.size), mask=False),
        "params": [{"n_iter": int(k), "rho": float(r)} for k in n_iters for r in rhos],
    }
    for split in range(scores.shape[2]):
        results[f"split{split}_test_score"] = scores[:, :, split]
    means = np.average(scores, axis=2)
    results["mean_test_score"] = means
    with np.errstate(invalid="ignore"):  # inf - inf: nan, as GridSearchCV
        deviation = scores - means[:, :, None]
    # scaled by a power of two where the squares would overflow (exact)
    scale = squares_scale(
        np.max(np.abs(deviation), initial=0.0, where=np.isfinite(deviation))
    )
    with np.errstate(invalid="ignore"):
        results["std_test_score"] = (
            np.sqrt(np.average((deviation * scale) ** 2, axis=2)) / scale
        )
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
    else:
        pickable = np.asarray(pickable).reshape(n_candidates, n_targets)
    # GridSearchCV ranks nan means below the worst finite one, per target.
    ranked = np.where(np.isnan(means), np.nanmin(means, axis=0) - 1, means)
    # Ranks "min" among the pickable candidates, then among the others.
    first = rankdata(np.where(pickable, -ranked, np.inf), method="min", axis=0)
    last = rankdata(np.where(pickable, np.inf, -ranked), method="min", axis=0)
    ranks = np.where(pickable, first, last + pickable.sum(axis=0))
    results["rank_test_score"] = ranks.astype(np.int32)
    return results


def best_indices(results):
    """The selected candidate of each target: its first best rank (the order of
    the grid, as ``GridSearchCV``'s ``best_index_``)."""
    return np.argmin(results["rank_test_score"], axis=0)


# ---------------------------------------------------------------------- GCV
def gcv_target_scores(problem, n_iters, rhos, plan, n_obs):
    """Minus each column's GCV criterion, shape (n_iters, n_rhos, n_targets).

    As ``_gcv.gcv_scores`` without the average over targets. Returns ``(scores,
    dof, diverged)``: ``dof`` of shape (n_iters, n_rhos) (shared by the
    targets), ``diverged`` of the scores' shape (a target's training residual is
    not finite).
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


# --------------------------------------------------------------------- refit
def _assemble(xp, pieces, n_targets, like):
    """Columns ``(positions, block)`` into one (n_params, n_targets) array."""
    positions = np.concatenate([p for p, _ in pieces])
    blocks = [block for _, block in pieces]
    stacked = blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1)
    if np.array_equal(positions, np.arange(n_targets)):
        return stacked
    inverse = np.empty(n_targets, dtype=np.int64)
    inverse[positions] = np.arange(n_targets)
    return xp.take(stacked, index_array(xp, inverse, like), axis=1)


def _group_coefs(estimator, problem, run, n_iter):
    """Scaled coefficients (n_params, n_targets) of ``problem``'s targets, column
    ``t`` after ``n_iter[t]`` steps of ``run``: the exact filter taken at each
    target's stopping time (one product with the basis for all of them), or the
    run's route at each distinct stopping time."""
    xp = problem.xp
    steps, inverse = np.unique(n_iter, return_inverse=True)
    if run.solver != "spectral":
        pieces = []
        for index, k in enumerate(steps):
            positions = np.flatnonzero(inverse == index)
            columns = problem.select_targets(positions)
            step_run = estimator._plan_run(columns, int(k), rho=run.rho)
            pieces.append((positions, step_run.coef(int(k))))
        return _assemble(xp, pieces, n_iter.size, problem.y_offset)
    factor = problem.factor
    psi = problem.filter(run.learning_rate, run.rho, steps, run.variant)
    if psi.ndim == 2:  # one filter for every target
        picked = xp.take(psi, index_array(xp, inverse, psi), axis=1)
    else:  # a filter per target (normalized SAM): (rank, n_targets, n_steps)
        rank, n_columns, n_steps = psi.shape
        flat = xp.reshape(psi, (rank, n_columns * n_steps))
        where = np.arange(n_columns) * n_steps + inverse
        picked = xp.take(flat, index_array(xp, where, psi), axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        return factor.map_basis(picked * factor.proj)


def _target_chunks(problem, run, n_columns, n_steps):
    """Column chunks of a group: a normalized recursion keeps its filter values
    (rank x targets x steps), so memory stays within ``CHUNK_ENTRIES`` of them."""
    if run.solver != "spectral" or not run.variant.grows_with_steps(run.rho):
        return [np.arange(n_columns)]
    rank = int(problem.factor.lam.shape[0])
    size = max(1, CHUNK_ENTRIES // max(1, rank * n_steps))
    return [np.arange(s, min(s + size, n_columns)) for s in range(0, n_columns, size)]


def refit_targets(estimator, data, problem, n_iter, rho_index, rhos):
    """Fit ``estimator`` on all the data with target ``t`` at ``(n_iter[t],
    rhos[rho_index[t]])``; returns it.

    One run per distinct ``rho`` on the problem of its targets
    (``Problem.select_targets``: the search's decomposition is shared), the
    coefficients of each target taken at its own stopping time: memory is the
    model's plus one filter (or one chunk of a normalized recursion) per group.
    Column ``t`` equals ``estimator.set_params(n_iter=n_iter[t],
    rho=rhos[rho_index[t]]).fit`` on ``y[:, t]`` (to rounding). The fitted
    ``n_iter_``, ``rho_`` and ``learning_rate_`` are arrays of shape
    (n_targets,); its ``staged_predict`` is ``PerTargetRun``'s.
    """
    xp = problem.xp
    n_targets = n_iter.size
    pieces, groups = [], []
    learning_rate = np.empty(n_targets)
    for j in np.unique(rho_index):
        positions = np.flatnonzero(rho_index == j)
        columns = problem.select_targets(positions)
        steps = n_iter[positions]
        run = estimator._plan_run(columns, int(steps.max()), rho=float(rhos[j]))
        chunks = _target_chunks(columns, run, positions.size, np.unique(steps).size)
        blocks = []
        for chunk in chunks:
            part, part_run = columns, run
            if len(chunks) > 1:
                part = columns.select_targets(chunk)
                part_run = estimator._plan_run(part, int(steps.max()), rho=run.rho)
            blocks.append(
                (chunk, _group_coefs(estimator, part, part_run, steps[chunk]))
            )
        coef = _assemble(xp, blocks, positions.size, problem.y_offset)
        message = columns.diverged_message(run.learning_rate, run.rho, run.variant)
        check_finite(coef, message)
        check_output_range(
            columns.to_model(coef),
            xp,
            data.dtype,
            lambda dtype, run=run, columns=columns: columns.diverged_message(
                run.learning_rate, run.rho, run.variant, dtype
            ),
        )
        pieces.append((positions, coef))
        groups.append((positions, run))
        learning_rate[positions] = run.learning_rate
    coef = _assemble(xp, pieces, n_targets, problem.y_offset)
    run = PerTargetRun(
        problem,
        groups,
        np.asarray(n_iter, dtype=np.int64),
        learning_rate,
        np.asarray(rhos, dtype=float)[rho_index],
        groups[0][1].variant,
        "spectral" if all(r.solver == "spectral" for _, r in groups) else "iterative",
    )
    estimator.set_params(n_iter=int(n_iter.max()), rho=float(rhos[rho_index].max()))
    return estimator._set_fitted(data, run, coef, run.n_iter)


class PerTargetRun:
    """The runs of a per-target model: one per distinct ``rho``, each on the
    problem of its targets (``refit_targets``).

    Duck-types ``SAMRun`` where a fitted model uses it: ``problem`` (the output
    map and offsets of all the targets), ``learning_rate`` and ``rho`` (arrays
    of shape (n_targets,)), ``variant``, ``solver``, ``for_replay`` and
    ``prediction_chunks``.
    """

    def __init__(self, problem, groups, n_iter, learning_rate, rho, variant, solver):
        self.problem = problem
        self.groups = groups
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.rho = rho
        self.variant = variant
        self.solver = solver

    def for_replay(self):
        """What the fitted model keeps (the factors alone on the spectral route)."""
        problem = self.problem
        if self.solver == "spectral":
            problem = problem.without_data()
        groups = [(positions, run.for_replay()) for positions, run in self.groups]
        return PerTargetRun(
            problem,
            groups,
            self.n_iter,
            self.learning_rate,
            self.rho,
            self.variant,
            self.solver,
        )

    def prediction_chunks(self, test_map, n_iter=None):
        """Yield ``(steps, pred)`` for steps ``1..max(n_iter_)``, one step at a
        time: ``pred`` (n_test, n_targets, 1) are the centred predictions, target
        ``t``'s after ``min(step, n_iter_[t])`` steps (frozen at its own
        stopping time; 0 steps is the intercept-only model, centred 0).

        Each group's run gives its targets' path (``SAMRun.prediction_chunks``).
        """
        n_iter = self.n_iter
        last = int(n_iter.max(initial=0))
        if last == 0:
            return
        xp = self.problem.xp
        positions = np.concatenate([p for p, _ in self.groups])
        inverse = np.empty(n_iter.size, dtype=np.int64)
        inverse[positions] = np.arange(n_iter.size)
        stops = [n_iter[p] for p, _ in self.groups]
        streams = [
            _steps_of(run.prediction_chunks(test_map, int(stop.max())))
            for (_, run), stop in zip(self.groups, stops, strict=True)
        ]
        current = [None] * len(self.groups)
        for step in range(1, last + 1):
            for g, stop in enumerate(stops):
                if step > stop.max():
                    continue  # every target of the group is frozen
                pred = next(streams[g])
                if current[g] is None:
                    current[g] = zeros(xp, tuple(pred.shape), pred)
                moving = xp.asarray(step <= stop, device=device_of(pred))
                current[g] = xp.where(moving[None, :], pred, current[g])
            like = next(c for c in current if c is not None)
            stage = xp.concat(
                [
                    zeros(xp, (like.shape[0], p.size), like) if c is None else c
                    for c, (p, _) in zip(current, self.groups, strict=True)
                ],
                axis=1,
            )
            stage = xp.take(stage, index_array(xp, inverse, stage), axis=1)
            yield np.array([step]), stage[:, :, None]


def _steps_of(chunks):
    """The predictions (n_test, n_targets) of each step of ``prediction_chunks``."""
    for _, pred in chunks:
        for j in range(pred.shape[2]):
            yield pred[:, :, j]


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
