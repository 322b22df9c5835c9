"""The model of per-target picks: every target refitted at its own ``(n_iter, rho)``.

``refit_targets`` fits an estimator on all the data with target ``t`` at
``(n_iter[t], rho[t])`` from the search's problem: one run per distinct ``rho`` on
the problem of its targets (``Problem.select_targets``: the decomposition is
shared), each target's coefficients taken at its own stopping time.
``PerTargetRun`` stands for the runs in the fitted model: its replay gives
``staged_predict``, target ``t`` frozen after its own ``n_iter[t]``.
"""

import numpy as np

from .._core._namespaces import bool_array, concat, index_array, zeros
from .._stability import check_finite, check_output_range
from ._cv_scores import CHUNK_ENTRIES

__all__ = ["PerTargetRun", "refit_targets"]


def _assemble(xp, pieces, n_targets, like):
    """Columns ``(positions, block)`` into one (n_params, n_targets) array."""
    positions = np.concatenate([p for p, _ in pieces])
    blocks = [block for _, block in pieces]
    stacked = blocks[0] if len(blocks) == 1 else concat(xp, blocks, axis=1)
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
                moving = bool_array(xp, step <= stop, pred)
                current[g] = xp.where(moving[None, :], pred, current[g])
            like = next(c for c in current if c is not None)
            stage = concat(
                xp,
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
