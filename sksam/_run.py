"""SAM on a ``Problem`` at fixed settings: the iterates of one stopping-time path.

A ``SAMRun`` fixes the learning rate, ``rho``, the variant, the solver and (for
stochastic SAM) the mini-batch stream; it gives the scaled coefficients after any
number of steps, or the whole path 1..n_iter in chunks, by the exact spectral filter
(one decomposition, owned by the problem) or by the explicit loop. ``plan_run`` makes
one; ``fit``, ``staged_predict``, early stopping, the paths and the searches use it.
"""

from dataclasses import dataclass
from itertools import islice

import numpy as np
from sklearn.exceptions import EfficiencyWarning
from sklearn.utils import check_random_state

from ._core._costs import choose_solver, route_cost
from ._core._iterative import (
    sam_iterates,
    sam_loop,
    stochastic_sam_iterates,
    stochastic_sam_loop,
)
from ._core._namespaces import is_numpy, zeros
from ._core._progress import Progress
from ._core._variants import SAMVariant, get_variant
from ._stability import check_finite, warn_if_kernel_loss_grew, warn_if_loss_grew
from ._warnings import warn

__all__ = ["MiniBatches", "SAMRun", "path_solver", "plan_run"]

# Iterates of the explicit loop whose test predictions are formed in one product.
_LOOP_CHUNK = 64


@dataclass(frozen=True)
class MiniBatches:
    """The mini-batch stream of stochastic SAM, replayable from a seed snapshot."""

    batch_size: int
    rng_state: tuple
    sample_weight: np.ndarray | None
    #: The generator of ``random_state`` itself: ``fit`` draws from it (a
    #: ``RandomState`` instance advances with every fit, as in scikit-learn).
    live_rng: np.random.RandomState

    def rng(self):
        """A fresh generator at the snapshot: every replay draws the same batches."""
        rng = np.random.RandomState()
        rng.set_state(self.rng_state)
        return rng


@dataclass(frozen=True)
class SAMRun:
    """SAM at fixed settings on a problem (see ``plan_run``)."""

    problem: object
    learning_rate: float
    rho: float
    variant: SAMVariant
    solver: str
    batches: MiniBatches | None = None
    #: ``verbose > 0``: the routes whose cost grows with the steps report progress
    #: (``_core._progress``), each line starting with ``[label]``.
    verbose: int = 0
    label: str = "SAM"

    def grows_with_steps(self):
        """Whether the cost of ``coef`` grows with ``n_iter`` (the loops and the
        normalized recursion; not the spectral filter of unnormalized SAM)."""
        if self.solver != "spectral":
            return True
        return self.variant.grows_with_steps(self.rho)

    def progress(self, n_steps, what=None):
        """A ``Progress`` of ``n_steps`` steps of this run, or ``None`` (quiet)."""
        if self.verbose <= 0:
            return None
        if what is None:
            if self.solver == "spectral":
                what = "normalized recursion"
            elif self.batches is not None:
                what = "mini-batch loop"
            else:
                what = "iterative solver"
        return Progress(n_steps, f"[{self.label}] {what}")

    def coef(self, n_iter):
        """Scaled coefficients (n_params, n_targets) after ``n_iter`` steps.

        Warns where the iteration left the convergent regime, and raises a
        ``ValueError`` on non-finite coefficients.
        """
        problem, eta, rho = self.problem, self.learning_rate, self.rho
        progress = None
        if self.grows_with_steps():  # every target advances at each step
            progress = self.progress(n_iter)
        if self.solver == "spectral":
            coef = problem.spectral_coefs(eta, rho, [n_iter], self.variant, progress)
            coef = coef[..., 0]
        else:
            op, y_scaled = problem.op, problem.y_scaled
            args = (op, y_scaled, eta, rho, n_iter, self.variant)
            with np.errstate(over="ignore", invalid="ignore"):
                if self.batches is None:
                    coef = sam_loop(*args, progress)
                else:
                    coef = stochastic_sam_loop(
                        op,
                        y_scaled,
                        eta,
                        rho,
                        n_iter,
                        self.variant,
                        self.batches.batch_size,
                        self.batches.live_rng,
                        self.batches.sample_weight,
                        progress,
                    )
            self._check_loss(coef)
        check_finite(coef, problem.diverged_message(eta, rho, self.variant))
        return coef

    def _check_loss(self, coef):
        """The loop's checks: an indefinite kernel, a too-large mini-batch step."""
        problem = self.problem
        if self.batches is None:
            if problem.rkhs:
                warn_if_kernel_loss_grew(
                    problem.op,
                    problem.y_scaled,
                    coef,
                    self.learning_rate,
                    problem.lam_max,
                    self.rho,
                    self.variant,
                )
            return
        batch_size = self.batches.batch_size
        if batch_size >= problem.n_samples or not np.all(np.isfinite(coef)):
            return
        warn_if_loss_grew(
            problem.op,
            problem.y_scaled,
            coef,
            f"Stochastic SAM with batch_size={batch_size} ended with a larger "
            "training loss than its starting point (coefficients 0): the step "
            "is too large for mini-batches of this size (they diverge, or their "
            "noise dominates). Lower learning_rate; learning_rate='auto' and "
            "the stability limit are those of full-batch SAM, and smaller "
            "batches need smaller steps.",
        )

    def iterates(self, n_iter):
        """``(step, coef)`` of the explicit loop (mini-batches replayed)."""
        problem = self.problem
        args = (problem.op, problem.y_scaled, self.learning_rate, self.rho, n_iter)
        if self.batches is None:
            return sam_iterates(*args, self.variant)
        return stochastic_sam_iterates(
            *args,
            self.variant,
            self.batches.batch_size,
            self.batches.rng(),
            self.batches.sample_weight,
        )

    def prediction_chunks(self, test_map, n_iter):
        """Yield ``(steps, pred)`` for steps ``1..n_iter`` in chunks.

        ``pred`` (n_test, n_targets, len(steps)) are the centred predictions
        ``test_map(coef_k)`` (add the problem's ``y_offset``): from the factor in
        vectorised chunks (spectral), or by stepping the loop (iterative).
        """
        if self.solver == "spectral":
            factor = self.problem.factor
            xp = factor.xp
            projected = test_map(factor.basis)
            for steps, psi in self.variant.iter_filter(
                factor, self.learning_rate, self.rho, n_iter
            ):
                weighted = psi * factor.proj[:, :, None]
                rank, n_targets, n_steps = weighted.shape
                pred = projected @ xp.reshape(weighted, (rank, n_targets * n_steps))
                yield steps, xp.reshape(pred, (pred.shape[0], n_targets, n_steps))
            return
        # Test predictions of a chunk of iterates in one product: a BLAS-3 call,
        # and no switch between the thread pools of scipy's dsymv (the kernel loop)
        # and numpy's products at every step (benchmarks/README.md). Copied as they
        # come: mini-batch SAM updates its coef in place.
        xp = self.problem.xp
        iterates = self.iterates(n_iter)
        copy = (lambda c: c.copy()) if is_numpy(xp) else (lambda c: c)
        while chunk := [(k, copy(c)) for k, c in islice(iterates, _LOOP_CHUNK)]:
            stacked = xp.stack([coef for _, coef in chunk], axis=-1)
            n_params, n_targets, n_steps = stacked.shape
            pred = test_map(xp.reshape(stacked, (n_params, n_targets * n_steps)))
            steps = np.asarray([step for step, _ in chunk])
            yield steps, xp.reshape(pred, (pred.shape[0], n_targets, n_steps))

    def coef_chunks(self, steps, chunk_size):
        """Yield ``(index, coefs)``: the scaled coefficients (n_params, n_targets,
        len) after ``steps[index]``, for consecutive slices of at most
        ``chunk_size`` step counts (any order of ``steps``).

        The spectral route reads them from the factor (``Problem``); the loop runs
        once up to the largest step and keeps the iterates at ``steps`` (memory:
        the model size times the number of distinct steps).
        """
        steps = np.asarray(steps, dtype=np.int64)
        if self.solver == "spectral":
            yield from self.problem.spectral_coef_chunks(
                self.learning_rate, self.rho, steps, self.variant, chunk_size
            )
            return
        problem, xp = self.problem, self.problem.xp
        shape = (problem.op.n_params, problem.n_targets)
        wanted = set(steps.tolist())
        kept = {0: zeros(xp, shape, problem.y_scaled)} if 0 in wanted else {}
        copy = (lambda c: c.copy()) if is_numpy(xp) else (lambda c: c)
        with np.errstate(over="ignore", invalid="ignore"):
            for step, coef in self.iterates(int(steps.max(initial=0))):
                if step in wanted:
                    kept[step] = copy(coef)
        for start in range(0, steps.size, max(int(chunk_size), 1)):
            index = slice(start, min(start + chunk_size, steps.size))
            yield index, xp.stack([kept[int(k)] for k in steps[index]], axis=-1)

    def for_replay(self):
        """What a fitted model keeps: the factor alone on the spectral route."""
        if self.solver != "spectral":
            return self
        return SAMRun(
            self.problem.without_data(),
            self.learning_rate,
            self.rho,
            self.variant,
            self.solver,
        )


def path_solver(variant):
    """The solver of a whole path (the searches, ``sam_path``): the exact filter
    from one decomposition, or the loop for a variant that has none."""
    return "spectral" if get_variant(variant).has_filter else "iterative"


def plan_run(
    problem,
    *,
    rho,
    learning_rate,
    variant,
    solver="spectral",
    n_iter=0,
    batch_size=None,
    random_state=None,
    verbose=0,
    label="SAM",
):
    """A ``SAMRun`` on ``problem``: the solver chosen, the learning rate resolved.

    ``variant``: a name or a ``SAMVariant``. ``solver="auto"`` compares the cost
    model's estimates for ``n_iter`` steps; ``batch_size`` (stochastic SAM) and a
    variant without an exact filter need the loop. The spectral solver decomposes
    the problem here (once: the problem keeps its factor). ``verbose``, ``label``:
    progress of the routes whose cost grows with the steps (``SAMRun.progress``).
    """
    rho = float(rho)
    variant = get_variant(variant)
    if not variant.has_filter:
        if solver == "spectral":
            raise ValueError(
                f"solver='spectral' needs an exact filter, which the SAM variant "
                f"{variant!r} does not have. Use solver='iterative' or 'auto'."
            )
        solver = "iterative"
    if batch_size is not None:
        if solver == "spectral":
            raise ValueError(
                "solver='spectral' does not support batch_size: stochastic SAM "
                "has no closed form. Use solver='iterative' or 'auto' with "
                "batch_size, or batch_size=None for the exact spectral solver."
            )
        solver = "iterative"
    elif solver == "auto":
        if (
            problem.decomposed
            or not problem.op.has_products
            # Another array namespace (a GPU, most often): one decomposition.
            or not is_numpy(problem.xp)
        ):
            solver = "spectral"
        else:
            solver = choose_solver(
                problem.op,
                n_iter=n_iter,
                rho=rho,
                variant=variant,
                n_targets=problem.n_targets,
            )
    _warn_if_long(problem, solver, n_iter, rho, variant, batch_size)
    if solver == "spectral":
        problem.factor  # noqa: B018 -- the one decomposition
    learning_rate = problem.step_size(learning_rate, rho, variant)
    problem.check_definite(learning_rate, rho, variant, n_iter)
    batches = None
    if batch_size is not None:
        rng = check_random_state(random_state)
        batches = MiniBatches(
            int(batch_size), rng.get_state(), problem.sample_weight, rng
        )
    return SAMRun(
        problem, learning_rate, rho, variant, solver, batches, int(verbose), label
    )


# A route is "long" past this estimate (seconds) when the spectral route would take
# less than 1/_LONG_RATIO of it (or when there is no cheaper exact route).
_LONG_SECONDS = 60.0
_LONG_RATIO = 100.0


def _warn_if_long(problem, solver, n_iter, rho, variant, batch_size):
    """Warn before a run whose cost grows with ``n_iter`` and is far beyond that
    of the spectral route (the loops, mini-batches, the normalized recursion)."""
    op = problem.op
    if not op.has_products or not is_numpy(op.xp):
        return  # Gram-only (dask) and array API problems: no cost model
    route, spectral = route_cost(
        op,
        solver=solver,
        n_iter=n_iter,
        rho=rho,
        variant=variant,
        n_targets=problem.n_targets,
        batch_size=batch_size,
    )
    seconds = route * 1e-9
    if seconds < _LONG_SECONDS:
        return
    if solver == "spectral":  # normalized SAM: the recursion is the exact route
        advice = (
            "normalized SAM steps one by one even on the spectral route; use fewer "
            "steps or variant='unnormalized', whose cost does not grow with n_iter"
        )
    elif route < _LONG_RATIO * spectral:
        return
    elif batch_size is not None:
        advice = (
            "mini-batch SAM has no closed form; full-batch SAM (batch_size=None) "
            f"costs about {spectral * 1e-9:.2g} s for any n_iter with the spectral "
            "solver"
        )
    else:
        advice = (
            "solver='spectral' gives the same iterate in about "
            f"{spectral * 1e-9:.2g} s for any n_iter"
        )
    warn(
        f"n_iter={n_iter} steps on this route are estimated to take about "
        f"{_duration(seconds)} (cost model of solver='auto'): {advice}.",
        EfficiencyWarning,
    )


def _duration(seconds):
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
