"""Nystroem kernel SAM (``n_components``) against exact kernel SAM, KernelRidge and
scikit-learn's ``Nystroem`` + ``RidgeCV`` pipeline.

Three parts, each case in its own subprocess (its peak resident memory,
``resource.getrusage(...).ru_maxrss``, is its own; "above imports" subtracts the peak
after the imports and the data set-up):

- ``exact`` (in memory, default n = 20,000, RBF, 8 features): exact
  ``SAMKernelRidgeCV(cv="gcv")`` (one ``n x n`` eigendecomposition selects and fits)
  and ``KernelRidge`` (its ``alpha`` chosen by held-out error on a 4,000-row
  subsample, then one fit on all rows), against Nystroem ``SAMKernelRidgeCV(cv="gcv",
  n_components=m)`` for ``m`` in ``--components`` and ``Nystroem`` + ``RidgeCV`` with
  the same ``m`` (same landmarks: same ``random_state``). The exact cases need
  ``O(n^2)`` memory (15 GB at n = 20,000, measured): ``--skip-exact`` leaves them out,
  ``--n`` makes the problem smaller.
- ``dask`` (default n = 1,000,000 x 20, lazy: drawn chunk by chunk by
  ``dask.array.random``, never in memory at once): ``SAMKernelRidgeCV(cv="gcv",
  n_components=m)`` for ``m`` in ``--dask-components`` (time, peak memory above the
  imports, held-out R^2 on 10,000 fresh rows), and 5-fold ``SAMKernelRidgeCV(cv=5,
  n_components=m)`` for ``m`` in ``--dask-cv-components`` (each split draws its own
  landmarks: six feature maps formed in one pass).
- ``pipeline`` (in memory, default n = 200,000 of the same distribution):
  ``Nystroem`` + ``RidgeCV`` and Nystroem SAM on the same rows, the size the pipeline
  takes in memory.

The target is a smooth function of the first features plus noise (noise variance
0.09, so the best possible held-out R^2 is about 1 - 0.09 / var(y)). The SAM searches
use explicit radii ``rhos=(0, 1, 10) / lam_max`` (``relative_rho=True``) and the
default stopping-time grid; GCV selects from one decomposition, so every SAM fit
below is one fit. The times are wall-clock seconds of ``fit`` (and ``predict`` on the
held-out rows), with one BLAS thread (``threadpoolctl``): on a shared machine
that keeps the cases comparable.

Run:  python benchmarks/bench_nystroem.py [--n 20000] [--skip-exact] [--quick]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

NOISE = 0.3
RHOS = (0.0, 1.0, 10.0)


def peak_rss_mb():
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def target(X):
    """A smooth function of the first features (numpy or dask rows)."""
    return np.sin(2.0 * X[:, 0]) + np.cos(X[:, 1] * X[:, 2]) + 0.5 * X[:, 3] * X[:, 4]


def memory_data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, size=(n, d))
    return X, target(X) + NOISE * rng.standard_normal(n)


def _rows(block, rows, d):
    """Rows of chunk ``block``: drawn from its own seed, so that ``y`` can be
    formed without the task that draws ``X`` (as if read from two stores)."""
    return np.random.default_rng([0, block]).uniform(-1.5, 1.5, size=(rows, d))


def _x_block(d, block_info=None):
    block = block_info[None]["chunk-location"][0]
    rows = block_info[None]["chunk-shape"][0]
    return _rows(block, rows, d)


def _y_block(d, block_info=None):
    (block,) = block_info[None]["chunk-location"]
    (rows,) = block_info[None]["chunk-shape"]
    noise = np.random.default_rng([1, block]).standard_normal(rows)
    return target(_rows(block, rows, d)) + NOISE * noise


def lazy_data(n, d, chunk_rows):
    """``X`` (n x d) and ``y``, lazy, each chunk drawn from its own seed; ``y`` is
    computed from its rows redrawn, not from ``X``'s tasks (dask would otherwise
    hold the chunks of ``X`` between the two branches of the graph)."""
    import dask.array as da

    chunks = da.core.normalize_chunks(chunk_rows, (n,))[0]
    X = da.map_blocks(_x_block, d, chunks=(chunks, (d,)), dtype=float)
    y = da.map_blocks(_y_block, d, chunks=(chunks,), dtype=float)
    return X, y


def r2(y_true, y_pred):
    return 1.0 - np.mean((y_true - y_pred) ** 2) / np.var(y_true)


def sam_search(m, gamma, cv="gcv"):
    from sksam import SAMKernelRidgeCV

    return SAMKernelRidgeCV(
        rhos=RHOS,
        relative_rho=True,
        cv=cv,
        kernel="rbf",
        gamma=gamma,
        n_components=m,
        random_state=0,
    )


def pipeline(m, gamma):
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        Nystroem(kernel="rbf", gamma=gamma, n_components=m, random_state=0),
        RidgeCV(alphas=np.logspace(-6, 3, 28)),
    )


def kernel_ridge_alpha(X, y, gamma):
    """``alpha`` of ``KernelRidge`` by held-out error on a 4,000-row subsample."""
    from sklearn.kernel_ridge import KernelRidge

    n_fit = min(3000, int(0.75 * X.shape[0]))
    rows = slice(0, min(4000, X.shape[0]))
    Xs, ys = X[rows], y[rows]
    best = None
    for alpha in np.logspace(-4, 1, 6):
        model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma)
        score = r2(ys[n_fit:], model.fit(Xs[:n_fit], ys[:n_fit]).predict(Xs[n_fit:]))
        if best is None or score > best[0]:
            best = (score, alpha)
    return best[1]


def run_case(case, args):
    """Body of one subprocess: the fit's time, memory and held-out R^2."""
    import warnings

    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")  # the searches' grid-edge notes
    kind, _, m = case.partition(":")
    m = int(m) if m else None
    gamma = 1.0 / args.d
    X_test, y_test = memory_data(10_000, args.d, seed=1)
    info = {}
    with threadpool_limits(1, user_api="blas"):
        if kind in ("dask", "dask_cv"):
            import dask

            dask.config.set(scheduler="threads")
            X, y = lazy_data(args.dask_n, args.d, args.chunk_rows)
            model = sam_search(m, gamma, cv=5 if kind == "dask_cv" else "gcv")
        else:
            n = args.pipeline_n if kind.startswith("big") else args.n
            X, y = memory_data(n, args.d, seed=0)
            if kind == "kernel_ridge":
                from sklearn.kernel_ridge import KernelRidge

                alpha = kernel_ridge_alpha(X, y, gamma)
                info["alpha"] = float(alpha)
                model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma)
            elif kind in ("pipeline", "big_pipeline"):
                model = pipeline(m, gamma)
            else:  # exact (m None) or Nystroem SAM
                model = sam_search(m, gamma)
        before = peak_rss_mb()
        start = time.perf_counter()
        model.fit(X, y)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict(X_test)
        predict_seconds = time.perf_counter() - start
    if hasattr(model, "best_params_"):
        info["n_iter"] = model.best_params_["n_iter"]
        info["rho"] = round(model.rho_ / model.rho_unit_, 6)
    return {
        "case": case,
        "fit_s": fit_seconds,
        "predict_s": predict_seconds,
        "r2": r2(y_test, np.asarray(pred)),
        "imports_mb": before,
        "above_imports_mb": peak_rss_mb() - before,
        **info,
    }


def spawn(case, argv):
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"case": case, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(title, rows, reference=None):
    print(f"\n{title}")
    print(
        f"{'case':>18} {'fit s':>8} {'/ ref':>7} {'held-out R^2':>13} "
        f"{'peak MB':>8} {'selected'}"
    )
    ref = next((r["fit_s"] for r in rows if r["case"] == reference), None)
    for row in rows:
        if "error" in row:
            print(f"{row['case']:>18}  failed: {row['error']}")
            continue
        ratio = f"{row['fit_s'] / ref:7.2f}" if ref else f"{'-':>7}"
        chosen = ""
        if "n_iter" in row:
            chosen = f"n_iter={row['n_iter']}, rho={row['rho']}/lam_max"
        elif "alpha" in row:
            chosen = f"alpha={row['alpha']:.3g}"
        print(
            f"{row['case']:>18} {row['fit_s']:8.2f} {ratio} {row['r2']:13.4f} "
            f"{row['above_imports_mb']:8.0f} {chosen}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=8, help="features (dask part: 20)")
    parser.add_argument(
        "--components", type=int, nargs="+", default=[100, 200, 500, 1000, 2000]
    )
    parser.add_argument("--skip-exact", action="store_true")
    parser.add_argument("--dask-n", type=int, default=1_000_000)
    parser.add_argument(
        "--dask-components", type=int, nargs="+", default=[300, 600, 1000]
    )
    parser.add_argument(
        "--dask-cv-components",
        type=int,
        nargs="*",
        default=[300],
        help="m of 5-fold SAMKernelRidgeCV on the lazy rows (each split's landmarks)",
    )
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--pipeline-n", type=int, default=200_000)
    parser.add_argument(
        "--pipeline-components", type=int, nargs="+", default=[300, 1000]
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["exact", "dask", "pipeline"],
        choices=["exact", "dask", "pipeline"],
    )
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.n, args.components = 2000, [100, 300]
        args.dask_n, args.dask_components, args.chunk_rows = 50_000, [100, 300], 10_000
        args.dask_cv_components = [100]
        args.pipeline_n, args.pipeline_components = 20_000, [100, 300]
    if args.case:
        if args.case.startswith(("dask", "big")):  # dask, dask_cv, big_*
            args.d = 20
        print(json.dumps(run_case(args.case, args)))
        return
    argv = [a for a in sys.argv[1:] if a not in ("--quick",)]
    if args.quick:
        argv += ["--quick"]
    if "exact" in args.parts:
        cases = [] if args.skip_exact else ["exact", "kernel_ridge"]
        cases += [f"nystroem:{m}" for m in args.components]
        cases += [f"pipeline:{m}" for m in args.components]
        rows = [spawn(case, argv) for case in cases]
        show(
            f"In memory, n = {args.n}, d = {args.d}, RBF (fit time / exact SAM)",
            rows,
            None if args.skip_exact else "exact",
        )
    if "dask" in args.parts:
        rows = [spawn(f"dask:{m}", argv) for m in args.dask_components]
        rows += [spawn(f"dask_cv:{m}", argv) for m in args.dask_cv_components]
        show(
            f"Lazy dask, n = {args.dask_n}, d = 20, chunks of {args.chunk_rows} rows "
            "(peak MB above the imports)",
            rows,
        )
    if "pipeline" in args.parts:
        cases = [f"big_nystroem:{m}" for m in args.pipeline_components]
        cases += [f"big_pipeline:{m}" for m in args.pipeline_components]
        rows = [spawn(case, argv) for case in cases]
        show(f"In memory, n = {args.pipeline_n}, d = 20, RBF", rows)


if __name__ == "__main__":
    main()
