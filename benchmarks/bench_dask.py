"""SAMRegressor on a dask array that never sits in memory, against Ridge in memory.

The data (default 2,000,000 x 100 float64, 1.6 GB) are drawn chunk by chunk by
``dask.array.random``; each case runs in its own subprocess so that its peak resident
memory (``resource.getrusage(...).ru_maxrss``) is its own:

- ``sam_dask``: ``SAMRegressor.fit`` on the lazy dask array (threaded scheduler): the
  chunks are generated, reduced to the 100 x 100 Gram and dropped.
- ``ridge_numpy``: the same values computed into one numpy array, then
  ``sklearn.linear_model.Ridge`` (the in-memory baseline).
- ``sam_numpy``: the same in-memory array fitted by ``SAMRegressor`` (numpy path).
- ``samcv_dask``: ``SAMRegressorCV(cv=5)`` (150 ``(n_iter, rho)`` candidates) on the
  dask array: all folds in one pass, the refit in a second one.

The timed part is the ``fit`` call (for ``sam_dask`` it includes drawing the data,
which happens inside the reduction; ``draw_only`` times one pass that only draws and
sums the chunks, for reference). Peak memory is that of the whole subprocess. The
dask cases run with one BLAS thread per dask task (``threadpoolctl``), as dask
recommends for its threaded scheduler; the in-memory fits use the threaded BLAS.

Run:  python benchmarks/bench_dask.py [--n 2000000] [--d 100] [--repeat 1]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

CASES = ("draw_only", "sam_dask", "ridge_numpy", "sam_numpy", "samcv_dask")


def peak_rss_mb():
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def lazy_data(n, d, chunk_rows):
    """X (n x d) and y = X beta + noise, both lazy and drawn per row chunk."""
    import dask.array as da

    rng = da.random.default_rng(0)
    X = rng.standard_normal((n, d), chunks=(chunk_rows, d)) + 1.0
    beta = np.linspace(-1.0, 1.0, d)
    y = X @ beta + rng.standard_normal(n, chunks=chunk_rows)
    return X, y


def run_case(case, n, d, chunk_rows):
    """Body of one subprocess: returns wall time of the fit and memory figures."""
    import dask
    from sklearn.linear_model import Ridge
    from threadpoolctl import threadpool_limits

    from sksam import SAMRegressor, SAMRegressorCV

    dask.config.set(scheduler="threads")
    X, y = lazy_data(n, d, chunk_rows)
    model = SAMRegressorCV(cv=5) if case == "samcv_dask" else SAMRegressor(n_iter=100)
    if case in ("ridge_numpy", "sam_numpy"):
        X, y = dask.compute(X, y)
        model = Ridge(alpha=1.0) if case == "ridge_numpy" else model
    # dask runs one task per core: one BLAS thread per task avoids oversubscription
    # (in-memory fits keep the multi-threaded BLAS).
    blas_threads = None if case.endswith("numpy") else 1
    before = peak_rss_mb()
    start = time.perf_counter()
    with threadpool_limits(blas_threads, user_api="blas"):
        if case == "draw_only":
            dask.compute(X.sum(axis=0), y.sum())
        else:
            model.fit(X, y)
    seconds = time.perf_counter() - start
    coef = [] if case == "draw_only" else np.ravel(model.coef_).tolist()
    return {
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "before_mb": before,
        "coef": coef,
    }


def spawn(case, args):
    cmd = [sys.executable, __file__, "--case", case, "--n", str(args.n)]
    cmd += ["--d", str(args.d), "--chunk-rows", str(args.chunk_rows)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.d, args.chunk_rows)))
        return

    x_mb = args.n * args.d * 8 / 2**20
    print(
        f"X: {args.n:,} x {args.d} float64 = {x_mb:,.0f} MB, dask chunks of "
        f"{args.chunk_rows:,} rows ({args.chunk_rows * args.d * 8 / 2**20:.0f} MB); "
        f"median of {args.repeat} subprocess run(s) per case"
    )
    results = {}
    for case in CASES:
        runs = [spawn(case, args) for _ in range(args.repeat)]
        results[case] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("seconds", "peak_mb", "before_mb")
        } | {"coef": np.array(runs[0]["coef"])}
    header = f"{'case':<12} {'fit [s]':>8} {'RSS before fit':>15} {'peak RSS':>9}"
    print(f"{header} {'peak / size(X)':>15}   (RSS in MB)")
    for case, res in results.items():
        print(
            f"{case:<12} {res['seconds']:8.2f} {res['before_mb']:15,.0f} "
            f"{res['peak_mb']:9,.0f} {res['peak_mb'] / x_mb:15.2f}"
        )
    dask_fit, ridge = results["sam_dask"], results["ridge_numpy"]
    coef_dask, coef_numpy = dask_fit["coef"], results["sam_numpy"]["coef"]
    rel = np.abs(coef_dask - coef_numpy).max() / np.abs(coef_numpy).max()
    print(f"time sam_dask / ridge_numpy: {dask_fit['seconds'] / ridge['seconds']:.2f}")
    print(f"peak sam_dask / ridge_numpy: {dask_fit['peak_mb'] / ridge['peak_mb']:.3f}")
    print(f"max |coef_dask - coef_numpy| / max |coef_numpy|: {rel:.1e}")
    verdict = "below" if dask_fit["peak_mb"] < x_mb else "NOT below"
    print(f"dask fit peak RSS {dask_fit['peak_mb']:,.0f} MB is {verdict} size(X)")


if __name__ == "__main__":
    main()
