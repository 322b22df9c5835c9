"""SAM on a dask array that never sits in memory: one fit, CV, IC, classifier.

The data (default 4,000,000 x 20 float64, 610 MiB) are drawn chunk by chunk by
``dask.array.random`` (``y = X beta + noise``, labels ``y > 0``); each case runs in
its own subprocess, and its peak resident memory (Linux ``VmHWM``, reset just before
the call) is reported above the memory of the process before the call (interpreter,
imports, the lazy graph; for ``ridge_numpy`` before the data are computed into
memory):

- ``draw_only``: one pass that only draws and sums the chunks (the floor of a pass);
- ``fit``: ``SAMRegressor(n_iter=100).fit`` (one pass: the Gram reduced per chunk);
- ``cv5``: ``SAMRegressorCV(cv=5)`` with its default grid (one pass for all the folds
  and the refit; the default grid is short on these well-conditioned data);
- ``cv5_grid``: the same with ``LONG_GRID`` (~320 candidates, scored from the moments);
- ``gcv``: ``SAMRegressorCV(cv="gcv")``; ``ic``: ``SAMRegressorIC()`` (one pass each);
- ``clf``: ``SAMClassifier(n_iter=100).fit`` on the labels ``y > 0`` (one pass over
  the labels for the classes, one pass over ``X`` for the moments);
- ``clf_cv5``: ``SAMClassifierCV(cv=5)`` (the labels brought into memory once for
  the stratified folds, one pass over ``X`` for the moments of every split and the
  refit, one more for the accuracy of every candidate on the test rows);
  ``clf_cv5_grid``: the same with ``LONG_GRID`` (the accuracy pass grows with it);

The classifier cases hold their labels as if stored (``persist``, outside the timed
call: 4 MB of booleans), since here they are computed from ``X`` and each pass over
lazy labels would draw ``X`` again.
- ``ridge_numpy``: the same values computed into one numpy array, then
  ``sklearn.linear_model.Ridge`` (the in-memory baseline).

Times are medians over ``--repeat`` subprocess runs, and the dask cases are also
given relative to ``fit`` (the ratios of the medians). The dask cases run on the
threaded scheduler with one BLAS thread per dask task (``threadpoolctl``), as dask
recommends; the in-memory fit uses the threaded BLAS.

Run:  python benchmarks/bench_dask.py [--n 4000000] [--d 20] [--chunk-rows 100000]
      [--repeat 3] [--cases fit,cv5,...]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

CASES = (
    "draw_only",
    "fit",
    "cv5",
    "cv5_grid",
    "gcv",
    "ic",
    "clf",
    "clf_cv5",
    "clf_cv5_grid",
    "ridge_numpy",
)

#: A long grid: ~80 stopping times up to 10**4 and 4 relative radii.
LONG_GRID = dict(
    n_iters=np.unique(np.geomspace(1, 1e4, 100).round().astype(int)),
    rhos=(0.0, 0.1, 1.0, 10.0),
    relative_rho=True,
)


def peak_rss_mb():
    """Peak resident set size of this process since ``reset_peak`` (Linux: VmHWM),
    or since its start (``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def reset_peak():
    """Reset the peak to the current resident set size (Linux >= 4.0), so that the
    peak of the timed call is its own (not that of the set-up before it)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def lazy_data(n, d, chunk_rows):
    """X (n x d) and y = X beta + noise, both lazy and drawn per row chunk."""
    import dask.array as da

    rng = da.random.default_rng(0)
    X = rng.standard_normal((n, d), chunks=(chunk_rows, d)) + 1.0
    beta = np.linspace(-1.0, 1.0, d)
    y = X @ beta + rng.standard_normal(n, chunks=chunk_rows)
    return X, y


def run_case(case, n, d, chunk_rows):
    """Body of one subprocess: the wall time of the call and memory figures."""
    import dask
    from sklearn.linear_model import Ridge
    from threadpoolctl import threadpool_limits

    from sksam import (
        SAMClassifier,
        SAMClassifierCV,
        SAMRegressor,
        SAMRegressorCV,
        SAMRegressorIC,
    )

    warnings.simplefilter("ignore")  # grid-edge notes of the default grids
    dask.config.set(scheduler="threads")
    X, y = lazy_data(n, d, chunk_rows)
    models = {
        "fit": SAMRegressor(n_iter=100),
        "cv5": SAMRegressorCV(cv=5),
        "cv5_grid": SAMRegressorCV(cv=5, **LONG_GRID),
        "gcv": SAMRegressorCV(cv="gcv"),
        "ic": SAMRegressorIC(),
        "clf": SAMClassifier(n_iter=100),
        "clf_cv5": SAMClassifierCV(cv=5),
        "clf_cv5_grid": SAMClassifierCV(cv=5, **LONG_GRID),
        "ridge_numpy": Ridge(alpha=1.0),
    }
    model = models.get(case)
    if case.startswith("clf"):
        # Labels as if stored: computed once (one value per row, 4 MB), so that
        # their passes do not draw X again.
        y = (y > 0).persist()
    reset_peak()
    before = peak_rss_mb()
    if case == "ridge_numpy":  # its memory includes the data it needs in memory
        X, y = dask.compute(X, y)
    # dask runs one task per core: one BLAS thread per task avoids oversubscription
    # (the in-memory fit keeps the multi-threaded BLAS).
    blas_threads = None if case == "ridge_numpy" else 1
    start = time.perf_counter()
    with threadpool_limits(blas_threads, user_api="blas"):
        if case == "draw_only":
            dask.compute(X.sum(axis=0), y.sum())
        else:
            model.fit(X, y)
    seconds = time.perf_counter() - start
    candidates = len(getattr(model, "cv_results_", {}).get("params", ()))
    return {
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "before_mb": before,
        "candidates": candidates,
    }


def spawn(case, args):
    cmd = [sys.executable, __file__, "--case", case, "--n", str(args.n)]
    cmd += ["--d", str(args.d), "--chunk-rows", str(args.chunk_rows)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.d, args.chunk_rows)))
        return

    x_mb = args.n * args.d * 8 / 2**20
    print(
        f"X: {args.n:,} x {args.d} float64 = {x_mb:,.0f} MiB, dask chunks of "
        f"{args.chunk_rows:,} rows ({args.chunk_rows * args.d * 8 / 2**20:.0f} MiB); "
        f"median of {args.repeat} subprocess run(s) per case"
    )
    cases = args.cases.split(",")
    runs = {case: [] for case in cases}
    for _ in range(args.repeat):  # interleaved: a load spike hits every case alike
        for case in cases:
            runs[case].append(spawn(case, args))
    results = {}
    for case, case_runs in runs.items():
        results[case] = {
            "seconds": statistics.median(r["seconds"] for r in case_runs),
            "above_mb": statistics.median(
                r["peak_mb"] - r["before_mb"] for r in case_runs
            ),
            "peak_mb": statistics.median(r["peak_mb"] for r in case_runs),
            "candidates": case_runs[0]["candidates"],
        }
    fit = results.get("fit")
    print(
        f"{'case':<12} {'time [s]':>9} {'/ fit':>7} {'MiB above imports':>18} "
        f"{'peak RSS [MiB]':>15}"
    )
    for case, res in results.items():
        ratio = f"{res['seconds'] / fit['seconds']:7.2f}" if fit else f"{'':>7}"
        print(
            f"{case:<12} {res['seconds']:9.2f} {ratio} {res['above_mb']:18,.0f} "
            f"{res['peak_mb']:15,.0f}"
            + (f"   ({res['candidates']} candidates)" if res["candidates"] else "")
        )


if __name__ == "__main__":
    main()
