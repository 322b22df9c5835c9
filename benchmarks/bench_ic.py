"""Selection by an information criterion against one fit (issue 9).

Plain script, one run: every figure is a median over ``--repeats`` interleaved timings
(after one warm-up), and every ratio compares timings made in this run on this machine.

For each shape, ``SAMRegressorIC(criterion="cp")`` scores 3 rhos x 100 stopping times
(``n_iters = 10, 20, ..., 1000``; the noise variance estimated from the least-squares
residual) and returns the selected model; the baseline is one
``SAMRegressor(rho=0.1, n_iter=100).fit`` (default ``solver="auto"``). Target: the
selection costs <= 1.5 x one fit. For context, the same run times scikit-learn's
``LassoLarsIC(criterion="aic")`` and ``RidgeCV`` over 100 alphas (its efficient
leave-one-out), and the kernel pair ``SAMKernelRidgeIC`` / ``SAMKernelRidge`` (RBF)
against ``KernelRidge``. The kernel selection needs the ``n x n`` eigendecomposition,
so its reference is the ``solver="spectral"`` fit (at ``n_iter=100`` the default
``solver="auto"`` may run the cheaper explicit loop instead).

Run ``python benchmarks/bench_ic.py`` (``--quick`` for smaller problems while
developing; ``--blas-threads 1 --clock cpu`` for figures insensitive to other load on a
shared machine; the figures in README.md say which options they used).
"""

import argparse
import time

import numpy as np
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LassoLarsIC, RidgeCV
from threadpoolctl import threadpool_limits

from sksam import SAMKernelRidge, SAMKernelRidgeIC, SAMRegressor, SAMRegressorIC

N_ITERS = np.arange(1, 101) * 10
RHOS = (0.0, 0.1, 1.0)
ALPHAS = np.logspace(-3, 3, 100)
KERNEL = {"kernel": "rbf", "gamma": 0.2}
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCK["wall"]


def median_times(fits, X, y, repeats):
    """Median wall time of each ``fit(X, y)`` over ``repeats`` interleaved rounds.

    One warm-up each; every round times all fits in turn, so that a load change on
    the (shared) machine hits them alike. ``--clock cpu`` measures the CPU time of
    this process: with one BLAS thread it is the compute time, insensitive to other
    processes sharing the cores.
    """
    for fit in fits:
        fit(X, y)
    times = np.empty((repeats, len(fits)))
    for r in range(repeats):
        for j, fit in enumerate(fits):
            start = clock()
            fit(X, y)
            times[r, j] = clock() - start
    return np.median(times, axis=0)


def regression_data(n, d, seed=0):
    """Gaussian design with a decaying spectrum and a noisy linear target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.01, d)
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    return X, y


def bench_linear(shapes, repeats):
    print("\n1. SAMRegressorIC (3 rhos x 100 n_iters) vs one SAMRegressor fit")
    header = (
        f"{'n':>6} {'d':>5} {'fit [s]':>8} {'IC [s]':>8} {'IC/fit':>7} "
        f"{'LassoLarsIC [s]':>16} {'RidgeCV [s]':>12}"
    )
    print(header)
    for n, d in shapes:
        X, y = regression_data(n, d)
        t_fit, t_ic, t_lars, t_ridge = median_times(
            [
                lambda X, y: SAMRegressor(rho=0.1, n_iter=100).fit(X, y),
                lambda X, y: SAMRegressorIC(N_ITERS, RHOS).fit(X, y),
                lambda X, y: LassoLarsIC(criterion="aic").fit(X, y),
                lambda X, y: RidgeCV(alphas=ALPHAS).fit(X, y),
            ],
            X, y, repeats,
        )  # fmt: skip
        print(
            f"{n:>6} {d:>5} {t_fit:>8.3f} {t_ic:>8.3f} {t_ic / t_fit:>7.2f} "
            f"{t_lars:>16.3f} {t_ridge:>12.3f}"
        )


def bench_kernel(sizes, repeats):
    print("\n2. SAMKernelRidgeIC (3 rhos x 100 n_iters, RBF) vs one SAMKernelRidge fit")
    print(
        f"{'n':>6} {'fit auto [s]':>13} {'fit spectral [s]':>17} {'IC [s]':>8} "
        f"{'IC/spectral':>12} {'KernelRidge [s]':>16}"
    )
    rng = np.random.default_rng(0)
    for n in sizes:
        X = rng.uniform(-3, 3, size=(n, 5))
        y = np.sin(X).sum(axis=1) + 0.3 * rng.standard_normal(n)
        t_auto, t_spectral, t_ic, t_kr = median_times(
            [
                lambda X, y: SAMKernelRidge(rho=0.1, n_iter=100, **KERNEL).fit(X, y),
                lambda X, y: SAMKernelRidge(
                    rho=0.1, n_iter=100, solver="spectral", **KERNEL
                ).fit(X, y),
                lambda X, y: SAMKernelRidgeIC(N_ITERS, RHOS, **KERNEL).fit(X, y),
                lambda X, y: KernelRidge(alpha=1.0, **KERNEL).fit(X, y),
            ],
            X, y, repeats,
        )  # fmt: skip
        print(
            f"{n:>6} {t_auto:>13.3f} {t_spectral:>17.3f} {t_ic:>8.3f} "
            f"{t_ic / t_spectral:>12.2f} {t_kr:>16.3f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small problems")
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="limit BLAS threads"
    )
    parser.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    args = parser.parse_args()
    global clock
    clock = CLOCK[args.clock]
    if args.blas_threads is not None:
        threadpool_limits(args.blas_threads, user_api="blas")
    if args.quick:
        shapes, sizes = [(1000, 50), (500, 100)], [300]
    else:
        shapes, sizes = [(5000, 100), (2000, 500), (20000, 200)], [1000, 2000]
    bench_linear(shapes, args.repeats)
    bench_kernel(sizes, args.repeats)


if __name__ == "__main__":
    main()
