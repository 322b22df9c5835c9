"""Fit time of SAMRegressor against scikit-learn's Ridge, and of its solvers.

Plain script, one run: the functions compared are timed in interleaved rounds (shuffled
order), and every figure is the median over ``--repeats`` rounds of the time or of the
per-round ratio. Sections (targets of issue 2):

1. ``SAMRegressor(solver="spectral").fit`` / ``Ridge(solver="cholesky" | "svd").fit``
   on (n, d) = (20000, 200), (5000, 500), (1000, 3000); targets on the n >= d shapes:
   <= 2x cholesky and <= 1x svd.
2. Spectral fit time at ``n_iter=10**6`` / at ``n_iter=10``; target <= 1.2.
3. ``solver="auto"`` / the faster of ``"spectral"`` and ``"iterative"`` over a grid of
   ``n_iter``, dense and sparse; target <= 1.3 everywhere.
4. Iterative SAM step / gradient-descent step (``rho=0``), same code path; the time
   per step is the difference of two ``n_iter`` values, so the learning-rate set-up
   (Lanczos) cancels; target <= 2.2.

Run ``python benchmarks/bench_fit.py``. Options: ``--quick`` (smaller problems),
``--sections 3 4``, ``--blas-threads 1`` and ``--clock cpu`` (process CPU time: robust
on a shared machine), ``--calibrate`` (measure the cost-model constants of
``sksam/_core/_costs.py`` that ``solver="auto"`` uses, and print them next to the
values in the code).
"""

import argparse
import time
import warnings

import numpy as np
from scipy import sparse
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from sksam import SAMRegressor

CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCK["wall"]


def median_time(func, repeats):
    """Median time of ``func()`` over ``repeats`` calls (after one warm-up)."""
    return float(np.median(timed_rounds({"f": func}, repeats)["f"]))


def timed_rounds(funcs, repeats):
    """Times of each of ``funcs`` (a dict) in ``repeats`` interleaved rounds.

    Every round calls each function once, in a shuffled order, so the functions
    compared share the same machine load (after one warm-up call each). ``--clock
    cpu`` measures the CPU time of this process: with one BLAS thread that is the
    compute time, insensitive to other processes sharing the cores. Returns a dict of
    arrays of shape (repeats,).
    """
    for func in funcs.values():
        func()
    times = {name: [] for name in funcs}
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        for index in rng.permutation(len(funcs)):
            name, func = list(funcs.items())[index]
            start = clock()
            func()
            times[name].append(clock() - start)
    return {name: np.array(values) for name, values in times.items()}


def regression_data(n, d, seed=0, density=None):
    """Gaussian design (or sparse with ``density``) and a noisy linear target."""
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.standard_normal((n, d))
    else:
        X = sparse.random(n, d, density=density, format="csr", random_state=seed)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return X, y


def fit(estimator, X, y):
    return lambda: estimator.fit(X, y)


def bench_ridge(shapes, repeats):
    print("\n1. SAMRegressor(solver='spectral').fit vs Ridge.fit (n_iter=100, rho=0.1)")
    print(f"{'n':>7} {'d':>6} {'sam [s]':>9} {'/cholesky':>10} {'/svd':>7}")
    for n, d in shapes:
        X, y = regression_data(n, d)
        times = timed_rounds(
            {
                "sam": fit(SAMRegressor(solver="spectral"), X, y),
                "cholesky": fit(Ridge(solver="cholesky"), X, y),
                "svd": fit(Ridge(solver="svd"), X, y),
            },
            repeats,
        )
        sam = times["sam"]
        print(
            f"{n:>7} {d:>6} {np.median(sam):>9.3f} "
            f"{np.median(sam / times['cholesky']):>10.2f} "
            f"{np.median(sam / times['svd']):>7.2f}"
        )


def bench_n_iter(shapes, repeats):
    print("\n2. SAMRegressor(solver='spectral').fit, n_iter=10**6 vs n_iter=10")
    print(f"{'n':>7} {'d':>6} {'n_iter=10 [s]':>14} {'ratio':>6}")
    for n, d in shapes:
        X, y = regression_data(n, d)
        times = timed_rounds(
            {
                k: fit(SAMRegressor(solver="spectral", n_iter=k), X, y)
                for k in (10, 10**6)
            },
            repeats,
        )
        ratio = np.median(times[10**6] / times[10])
        print(f"{n:>7} {d:>6} {np.median(times[10]):>14.3f} {ratio:>6.2f}")


def bench_auto(problems, n_iters, repeats):
    print("\n3. solver='auto' vs the faster explicit solver (rho=0.1)")
    print(
        f"{'problem':>22} {'n_iter':>7} {'spectral':>9} {'iterative':>10} "
        f"{'auto/faster':>12}"
    )
    worst = 0.0
    for name, (X, y) in problems.items():
        for n_iter in n_iters:
            times = timed_rounds(
                {
                    solver: fit(SAMRegressor(n_iter=n_iter, solver=solver), X, y)
                    for solver in ("spectral", "iterative", "auto")
                },
                repeats,
            )
            chosen = SAMRegressor(n_iter=n_iter).fit(X, y).solver_
            # Median times first: a per-round minimum of two noisy timings is biased
            # low whenever the two solvers cost about the same.
            faster = min(np.median(times["spectral"]), np.median(times["iterative"]))
            ratio = np.median(times["auto"]) / faster
            worst = max(worst, ratio)
            print(
                f"{name:>22} {n_iter:>7} {np.median(times['spectral']):>9.4f} "
                f"{np.median(times['iterative']):>10.4f} {ratio:>12.2f} ({chosen})"
            )
    print(f"{'worst auto / faster':>22} {worst:.2f}")


def bench_step(problems, n_iters, repeats):
    print("\n4. iterative solver: time per step, SAM (rho=0.1) vs GD (rho=0)")
    print(f"{'problem':>22} {'GD step [ms]':>13} {'SAM step [ms]':>14} {'ratio':>6}")
    low, high = n_iters
    for name, (X, y) in problems.items():
        times = timed_rounds(
            {
                (rho, k): fit(SAMRegressor(rho=rho, n_iter=k, solver="iterative"), X, y)
                for rho in (0.0, 0.1)
                for k in (low, high)
            },
            repeats,
        )
        gd, sam = (
            (times[rho, high] - times[rho, low]) / (high - low) for rho in (0.0, 0.1)
        )
        print(
            f"{name:>22} {1e3 * np.median(gd):>13.4f} {1e3 * np.median(sam):>14.4f} "
            f"{np.median(sam / gd):>6.2f}"
        )


def calibrate(repeats):
    """Measure the cost-model constants (``sksam._core._costs``) on this machine."""
    from sksam._core import _operators
    from sksam._core._costs import COSTS
    from sksam._core._iterative import sam_loop
    from sksam._core._namespaces import largest_eigenvalue, symmetric_eigh
    from sksam._core._operators import ScaledDesign
    from sksam._core._spectral import SpectralFactor
    from sksam._core._variants import Normalized

    def design(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        return ScaledDesign(X, None, mean, float(X.shape[0]))

    def product_seconds(op):
        coef, resid = np.ones((op.n_params, 1)), np.ones((op.n_samples, 1))
        pair = median_time(lambda: (op.apply(coef), op.adjoint(resid)), 3 * repeats)
        return pair / 2

    measured = {}
    # Fixed overheads, on a tiny problem: a loop step (4 products) and a factor.
    tiny, tiny_y = regression_data(8, 4)
    tiny = design(tiny)
    tiny_y = tiny_y[:, None] - tiny_y.mean()
    steps = median_time(lambda: sam_loop(tiny, tiny_y, 0.1, 0.1, 100, "normalized"), 3)
    measured["product_call"] = 1e9 * steps / 400
    call = product_seconds(tiny)
    dense = [design(regression_data(n, d)[0]) for n, d in [(20000, 200), (2000, 2000)]]
    measured["gemv"] = np.mean(
        [
            1e9 * (product_seconds(op) - call) / (op.n_samples * op.n_params)
            for op in dense
        ]
    )
    sparse_ops = [
        design(regression_data(n, d, density=rho)[0])
        for n, d, rho in [(100000, 2000, 0.001), (20000, 1000, 0.01), (2000, 300, 0.2)]
    ]
    # sparse products: segments (rows of CSR, columns of CSC), gathers, scatters
    features, seconds = [], []
    for op in sparse_ops:
        for csr in (op.X, op._transposed):
            for matrix in (csr, csr.T):  # CSR and its CSC view
                vector = np.ones((matrix.shape[1], 1))
                gather = matrix.format == "csr"
                segments = matrix.shape[0] if gather else matrix.shape[1]
                nnz = float(matrix.nnz)
                features.append([segments, nnz * gather, nnz * (not gather)])
                seconds.append(median_time(lambda m=matrix, v=vector: m @ v, repeats))
    coefs = np.linalg.lstsq(np.array(features), 1e9 * np.array(seconds), rcond=None)[0]
    for name, value in zip(("segment", "gather", "scatter"), coefs, strict=True):
        measured[f"sparse_{name}"] = value
    syrk = []
    for n, d in [(20000, 200), (5000, 500), (1000, 3000)]:
        op = design(regression_data(n, d)[0])
        gram = op._gram_primal if n >= d else op._gram_dual
        syrk.append(1e9 * median_time(gram, repeats) / (max(n, d) * min(n, d) ** 2))
    measured["syrk"] = np.mean(syrk)
    # sparse Gram time = spgemm * pairs + densify * d^2 (least squares)
    features, seconds = [], []
    for op in sparse_ops:
        counts = np.diff(op.X.indptr)
        features.append([float(counts @ counts), float(op.n_params) ** 2])
        seconds.append(median_time(op._gram_primal, repeats))
    coefs = np.linalg.lstsq(np.array(features), 1e9 * np.array(seconds), rcond=None)[0]
    measured["spgemm"], measured["densify"] = np.maximum(coefs, 0.0)
    eigh, eigvalsh = [], []
    rng = np.random.default_rng(0)
    for m in (300, 600, 1000):
        A = rng.standard_normal((m + 10, m))
        gram = A.T @ A
        eigh.append(
            median_time(lambda g=gram: symmetric_eigh(np, g.copy()), repeats) / m**3
        )
        eigvalsh.append(
            median_time(lambda g=gram: largest_eigenvalue(np, g.copy()), repeats) / m**3
        )
    measured["eigh"] = 1e9 * np.mean(eigh)
    measured["eigvalsh"] = 1e9 * np.mean(eigvalsh)
    measured["decomposition_call"] = 1e9 * median_time(
        lambda: tiny.factor(tiny_y), 10 * repeats
    )
    pairs = []
    for op in dense + sparse_ops[:2]:
        count = [0]

        def matvec(v, op=op, count=count):
            count[0] += 1
            return op.adjoint(op.apply(v[:, None]))[:, 0]

        _operators._top_eigenvalue(matvec, op.n_params, tol=_operators._LANCZOS_TOL)
        pairs.append(count[0])
    measured["lanczos_pairs"] = np.mean(pairs)
    lam = np.geomspace(0.01, 1.0, 100)
    factor = SpectralFactor(lam, np.eye(100), np.ones((100, 1)), np.ones((100, 1)), 1.0)
    measured["recursion_step"] = (
        1e9
        * median_time(lambda: Normalized().filter(factor, 0.5, 0.1, [2000]), repeats)
        / 2000
    )

    print("\ncost-model constants (nanoseconds; sksam/_core/_costs.py, COSTS)")
    print(f"{'constant':>28} {'in code':>10} {'measured':>10}")
    for name, value in measured.items():
        print(f"{name:>28} {getattr(COSTS, name):>10.4g} {value:>10.4g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument(
        "--calibrate", action="store_true", help="measure the cost-model constants"
    )
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="limit BLAS threads"
    )
    parser.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    parser.add_argument(
        "--sections", type=int, nargs="+", default=[1, 2, 3, 4], help="e.g. 3 4"
    )
    args = parser.parse_args()
    global clock
    clock = CLOCK[args.clock]
    if args.blas_threads is not None:
        threadpool_limits(args.blas_threads, user_api="blas")
    if args.calibrate:
        calibrate(args.repeats)
        return
    scale = 4 if args.quick else 1
    shapes = [(20000 // scale, 200), (5000 // scale, 500), (1000 // scale, 3000)]
    solver_problems = {
        "dense 4000x400": regression_data(4000 // scale, 400),
        "dense 500x2000": regression_data(500, 2000 // scale),
        "sparse 20000x1000 1%": regression_data(20000 // scale, 1000, density=0.01),
    }
    step_problems = {
        "dense 20000x200": regression_data(20000 // scale, 200),
        "sparse 100000x2000 .1%": regression_data(100000 // scale, 2000, density=0.001),
    }
    warnings.simplefilter("ignore")  # e.g. Ridge's ill-conditioning warnings
    sections = {
        1: lambda: bench_ridge(shapes, args.repeats),
        2: lambda: bench_n_iter(shapes[:2], args.repeats),
        3: lambda: bench_auto(solver_problems, [1, 10, 100, 1000], args.repeats),
        4: lambda: bench_step(step_problems, (20, 220), args.repeats),
    }
    for section in args.sections:
        sections[section]()


if __name__ == "__main__":
    main()
