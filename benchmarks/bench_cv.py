"""Cross-validating the stopping time: SAMRegressorCV, SAMKernelRidgeCV vs sklearn.

Plain script, one run: every figure is a median over repeats, and every ratio compares
timings made in this run on this machine. The grid is the same everywhere: 3 rhos
(0, 0.1, 1) x the 50 default stopping times (1..1000, log-spaced), 5 folds (``KFold``
without shuffling, ``cv=5``), default scoring (R^2); ``GridSearchCV`` runs with
``n_jobs=None`` and refits every one of the 150 candidates on every fold. Targets of
issue 5:

1. Linear, (n, d) = (5000, 100) and (2000, 500): ``SAMRegressorCV`` >= 30x faster
   than ``GridSearchCV(SAMRegressor())`` and <= 3x the time of ``RidgeCV`` with 50
   alphas (its default efficient leave-one-out mode; ``RidgeCV(cv=5)`` for reference).
2. Kernel, n = 2000, RBF: ``SAMKernelRidgeCV`` >= 10x faster than
   ``GridSearchCV(SAMKernelRidge())``; ``GridSearchCV(KernelRidge())`` over 50 alphas
   for reference.

The script also checks that the searches select the same ``(n_iter, rho)``.
Run ``python benchmarks/bench_cv.py`` (``--quick`` for smaller problems while
developing; ``--blas-threads 1`` on a loaded machine).
"""

import argparse
import time
from contextlib import nullcontext

import numpy as np
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from sksam import SAMKernelRidge, SAMKernelRidgeCV, SAMRegressor, SAMRegressorCV

# One explicit grid for both sides: the 50 distinct integers from 1 to 1000 that
# round np.geomspace(1, 1000, 61) (the searches' default grid is scale-free and
# data-dependent; an explicit one keeps GridSearchCV's work the same).
N_ITERS = np.unique(np.rint(np.geomspace(1, 1000, 61)).astype(np.int64))
RHOS = (0.0, 0.1, 1.0)
GRID = {"n_iter": N_ITERS.tolist(), "rho": list(RHOS)}
ALPHAS = np.logspace(-3, 3, 50)


def median_time(func, repeats):
    """Median wall time of ``func()`` over ``repeats`` calls; returns (time, result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def linear_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.1, d)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return X, y


def kernel_data(n, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    y = np.sin(X).sum(axis=1) + 0.3 * rng.standard_normal(n)
    return X, y


def selected(search):
    """``(n_iter, rho)`` of a sksam CV estimator or a GridSearchCV."""
    if hasattr(search, "best_params_"):
        return search.best_params_["n_iter"], search.best_params_["rho"]
    return search.n_iter_, search.rho_


def linear_row(n, d, repeats, search_repeats):
    X, y = linear_data(n, d)
    grid = dict(n_iters=N_ITERS, rhos=RHOS)  # the same grid as GRID
    t_sam, sam = median_time(lambda: SAMRegressorCV(cv=5, **grid).fit(X, y), repeats)
    t_gcv, _ = median_time(lambda: SAMRegressorCV(cv="gcv", **grid).fit(X, y), repeats)
    t_ridge, _ = median_time(lambda: RidgeCV(alphas=ALPHAS).fit(X, y), repeats)
    t_ridge5, _ = median_time(lambda: RidgeCV(alphas=ALPHAS, cv=5).fit(X, y), repeats)
    t_grid, grid = median_time(
        lambda: GridSearchCV(SAMRegressor(), GRID, cv=5).fit(X, y), search_repeats
    )
    print(
        f"{n:>6} {d:>5} {t_sam:>10.3f} {t_gcv:>8.3f} {t_grid:>15.2f} "
        f"{t_ridge:>12.3f} {t_ridge5:>18.3f} {t_grid / t_sam:>9.1f} "
        f"{t_sam / t_ridge:>14.2f} {str(selected(sam) == selected(grid)):>10}"
    )


def bench_linear(shapes, repeats, search_repeats):
    print("\n1. SAMRegressorCV vs GridSearchCV(SAMRegressor) and RidgeCV (50 alphas)")
    print(
        f"{'n':>6} {'d':>5} {'SAMCV [s]':>10} {'gcv [s]':>8} {'GridSearch [s]':>15} "
        f"{'RidgeCV [s]':>12} {'RidgeCV(cv=5) [s]':>18} {'GS/SAMCV':>9} "
        f"{'SAMCV/RidgeCV':>14} {'same pick':>10}"
    )
    for n, d in shapes:
        linear_row(n, d, repeats, search_repeats)


def bench_kernel(n, gamma, repeats, search_repeats):
    print(f"\n2. SAMKernelRidgeCV vs GridSearchCV (RBF, gamma={gamma}, n={n})")
    X, y = kernel_data(n)
    kernel = {"kernel": "rbf", "gamma": gamma}
    t_sam, sam = median_time(
        lambda: SAMKernelRidgeCV(N_ITERS, RHOS, **kernel).fit(X, y), repeats
    )
    t_kr, _ = median_time(
        lambda: GridSearchCV(KernelRidge(**kernel), {"alpha": ALPHAS}, cv=5).fit(X, y),
        search_repeats,
    )
    t_grid, grid = median_time(
        lambda: GridSearchCV(SAMKernelRidge(**kernel), GRID, cv=5).fit(X, y),
        search_repeats,
    )
    print(
        f"{'SAMKernelRidgeCV [s]':>21} {'GS(SAMKernelRidge) [s]':>23} "
        f"{'GS(KernelRidge) [s]':>20} {'GS(SAM)/SAMCV':>14} {'GS(KR)/SAMCV':>13} "
        f"{'same pick':>10}"
    )
    print(
        f"{t_sam:>21.2f} {t_grid:>23.1f} {t_kr:>20.2f} {t_grid / t_sam:>14.1f} "
        f"{t_kr / t_sam:>13.2f} {str(selected(sam) == selected(grid)):>10}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--search-repeats", type=int, default=1, help="repeats of the GridSearchCVs"
    )
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--skip-kernel", action="store_true")
    args = parser.parse_args()
    shapes = [(1000, 50), (500, 200)] if args.quick else [(5000, 100), (2000, 500)]
    n_kernel = 400 if args.quick else 2000
    limit = (
        nullcontext()
        if args.blas_threads is None
        else threadpool_limits(limits=args.blas_threads, user_api="blas")
    )
    with limit:
        bench_linear(shapes, args.repeats, args.search_repeats)
        if not args.skip_kernel:
            bench_kernel(n_kernel, 0.2, args.repeats, args.search_repeats)


if __name__ == "__main__":
    main()
