"""numpy vs torch (array API dispatch): the spectral fit and the CV search.

Plain script, one run: each figure is a median over ``--repeats``; the ratio is torch
time / numpy time measured in this run (below 1: torch faster). ``--device cuda``
times torch on a GPU (the data are moved there once, outside the timings; CUDA
calls are synchronised before each clock reading). The fits are checked to agree
with numpy's (float64: the searches must make the same pick). The searches score
every (n_iter, rho) on the device (the folds, the paths, the held-out predictions
and R^2); ``cv="gcv"`` and the 5-fold search share one grid.

    SCIPY_ARRAY_API=1 python benchmarks/bench_array_api.py [--device cuda] [--quick]
"""

import argparse
import os
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402

from sksam import (  # noqa: E402
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMRegressor,
    SAMRegressorCV,
)
from sksam._array_api import to_numpy  # noqa: E402


def median_time(func, repeats, sync):
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        func()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rng = np.random.default_rng(0)
    shapes = [(2000, 200), (1000, 2000)] if args.quick else [(20000, 500), (2000, 4000)]
    print(
        f"torch {torch.__version__} on {device}, {args.dtype}, median of {args.repeats}"
    )
    header = f"{'case':48s} {'numpy s':>9s} {'torch s':>9s} {'ratio':>7s}"
    print(header, f"{'max rel diff':>12s}")

    def report(name, est_np, est_t, fit_args_np, fit_args_t, attr):
        t_np = median_time(lambda: est_np.fit(*fit_args_np), args.repeats, sync)
        with sklearn.config_context(array_api_dispatch=True):
            t_t = median_time(lambda: est_t.fit(*fit_args_t), args.repeats, sync)
        if hasattr(est_np, "best_params_") and args.dtype == "float64":
            assert est_t.best_params_ == est_np.best_params_, "not the same pick"
        a, b = getattr(est_np, attr), to_numpy(getattr(est_t, attr))
        diff = np.max(np.abs(a - b)) / np.max(np.abs(a))
        print(f"{name:48s} {t_np:9.3f} {t_t:9.3f} {t_t / t_np:7.2f} {diff:12.1e}")

    for n, d in shapes:
        X = rng.standard_normal((n, d)).astype(args.dtype)
        y = (X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(n)).astype(
            args.dtype
        )
        Xt, yt = torch.asarray(X, device=device), torch.asarray(y, device=device)
        est = {"rho": 0.1, "n_iter": 100, "solver": "spectral"}
        report(
            f"SAMRegressor spectral ({n}x{d})",
            SAMRegressor(**est),
            SAMRegressor(**est),
            (X, y),
            (Xt, yt),
            "coef_",
        )
    n = 1000 if args.quick else 4000
    X = rng.standard_normal((n, 20)).astype(args.dtype)
    y = (np.sin(X[:, 0]) + 0.1 * rng.standard_normal(n)).astype(args.dtype)
    Xt, yt = torch.asarray(X, device=device), torch.asarray(y, device=device)
    kr = {"kernel": "rbf", "gamma": 0.05, "n_iter": 100}
    report(
        f"SAMKernelRidge rbf spectral (n={n})",
        SAMKernelRidge(**kr),
        SAMKernelRidge(**kr),
        (X, y),
        (Xt, yt),
        "dual_coef_",
    )
    n, d = (2000, 100) if args.quick else (10000, 300)
    X = rng.standard_normal((n, d)).astype(args.dtype)
    y = (X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(n)).astype(
        args.dtype
    )
    Xt, yt = torch.asarray(X, device=device), torch.asarray(y, device=device)
    grid = {"n_iters": np.unique(np.geomspace(1, 1000, 50).astype(int)), "cv": 5}
    grid["rhos"] = [0.0, 0.01, 0.1]
    for search in (SAMRegressorCV(**grid), SAMRegressorCV(**{**grid, "cv": "gcv"})):
        name = "gcv" if search.cv == "gcv" else "5-fold"
        report(
            f"SAMRegressorCV {name}, 3 rhos x 44 n_iters ({n}x{d})",
            search,
            clone(search),
            (X, y),
            (Xt, yt),
            "coef_",
        )
    n = 1000 if args.quick else 3000
    X = rng.standard_normal((n, 20)).astype(args.dtype)
    y = (np.sin(X[:, 0]) + 0.1 * rng.standard_normal(n)).astype(args.dtype)
    Xt, yt = torch.asarray(X, device=device), torch.asarray(y, device=device)
    search = SAMKernelRidgeCV(**grid, kernel="rbf", gamma=0.05)
    report(
        f"SAMKernelRidgeCV rbf 5-fold, 3 x 44 (n={n})",
        search,
        clone(search),
        (X, y),
        (Xt, yt),
        "dual_coef_",
    )


if __name__ == "__main__":
    main()
