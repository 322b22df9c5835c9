"""Per-target selection: one stopping time per target vs one pick for all targets.

Plain script. X is 2000 x 100 (column scales from 1 to 0.1), ``Y = X W + noise``
with 2,000 and 10,000 targets whose noise levels spread over two decades (so the
targets' best stopping times differ). Every case runs in its own subprocess, which
fits it ``--repeats`` times and reports the median wall time and its peak resident
set size (``ru_maxrss``, the whole process: the data take part of it, see the
``data`` row), with the median process CPU time (robust on a shared machine).
Cases, all with 5 folds (``KFold``) unless said:

- ``SAMRegressorCV()``: the default grid (4 radii x the scale-free stopping times),
  R^2, one pick for all targets;
- ``SAMRegressorCV(per_target=True)``: the same search, each target its own pick.
  Target: at most 3x the one-pick time at 2,000 targets;
- himalaya's ``RidgeCV`` (numpy backend, per-target alphas, 5 folds, 50 alphas), if
  installed: the reference of per-target K-fold selection for encoding models;
- scikit-learn's ``RidgeCV(alpha_per_target=True)`` with 50 alphas: efficient
  leave-one-out, the only per-target mode scikit-learn has.

BLAS runs on ``--blas-threads`` threads (default 1: the timings are then less
sensitive to other load on a shared machine). Run
``python benchmarks/bench_per_target.py`` (``--quick``: 200 and 1,000 targets,
one repeat).
"""

import argparse
import json
import subprocess
import sys

CODE = """
import json, resource, time
import numpy as np
from threadpoolctl import threadpool_limits

n_samples, n_features, n_targets = 2000, 100, {n_targets}
rng = np.random.default_rng(0)
X = rng.standard_normal((n_samples, n_features)) * np.geomspace(1.0, 0.1, n_features)
W = rng.standard_normal((n_features, n_targets))
noise = np.geomspace(0.1, 10.0, n_targets)
Y = X @ W + rng.standard_normal((n_samples, n_targets)) * noise
case = {case!r}
alphas = np.logspace(-2, 6, 50)

def make():
    if case.startswith("sksam"):
        import sksam
        return sksam.SAMRegressorCV(cv=5, per_target=case == "sksam-per-target")
    if case == "himalaya":
        from himalaya.backend import set_backend
        from himalaya.ridge import RidgeCV
        set_backend("numpy", on_error="raise")
        return RidgeCV(alphas=alphas, cv=5, fit_intercept=True,
                       solver_params={{"local_alpha": True}})
    if case == "sklearn-loo":
        from sklearn.linear_model import RidgeCV
        return RidgeCV(alphas=alphas, alpha_per_target=True)
    return None

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
times, cpu, picks = [], [], None
import warnings
with threadpool_limits({threads}), warnings.catch_warnings():
    warnings.simplefilter("ignore")  # grid-edge notes of the default grid
    for _ in range({repeats}):
        model = make()
        if model is None:
            break
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(X, Y)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if case.startswith("sksam"):
            picks = np.unique(np.asarray(model.n_iter_)).size
            n_candidates = len(model.cv_results_["params"])
print(json.dumps({{
    "seconds": float(np.median(times)) if times else None,
    "cpu_seconds": float(np.median(cpu)) if cpu else None,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "data_mb": base,
    "distinct_n_iter": picks,
    "n_candidates": n_candidates if picks is not None else None,
}}))
"""

CASES = ["data", "sksam-one-pick", "sksam-per-target", "himalaya", "sklearn-loo"]


def run_case(case, n_targets, repeats, threads):
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CODE.format(
                case=case, n_targets=n_targets, repeats=repeats, threads=threads
            ),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def himalaya_available():
    check = "import himalaya.ridge"
    return subprocess.run([sys.executable, "-c", check]).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--targets", type=int, nargs="*", default=None)
    args = parser.parse_args()
    sizes = args.targets or ([200, 1000] if args.quick else [2000, 10000])
    repeats = 1 if args.quick else args.repeats
    cases = CASES if himalaya_available() else [c for c in CASES if c != "himalaya"]
    print(
        f"X 2000 x 100, 5 folds, {repeats} repeat(s) per case (median), "
        f"{args.blas_threads} BLAS thread(s)"
    )
    for n_targets in sizes:
        results = {
            case: run_case(case, n_targets, repeats, args.blas_threads)
            for case in cases
        }
        one = results["sksam-one-pick"]
        print(f"\n{n_targets} targets")
        head = f"{'case':<20}{'wall s':>9}{'/ one':>7}{'CPU s':>9}{'/ one':>7}"
        print(f"{head}{'peak MB':>9}")
        for case, result in results.items():
            if "error" in result:
                print(f"{case:<20} failed: {result['error']}")
                continue
            row = f"{case:<20}"
            for key in ("seconds", "cpu_seconds"):
                value, base = result[key], one.get(key)
                row += f"{'' if value is None else f'{value:.2f}':>9}"
                ratio = "" if value is None or not base else f"{value / base:.2f}"
                row += f"{ratio:>7}"
            print(f"{row}{result['peak_mb']:>9.0f}")
        per = results["sksam-per-target"]
        if "error" not in per and one.get("seconds"):
            ratio = per["seconds"] / one["seconds"]
            cpu_ratio = per["cpu_seconds"] / one["cpu_seconds"]
            print(
                f"per-target / one pick: {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
                "(target <= 3 at 2,000 targets); "
                f"{per['n_candidates']} candidates, {per['distinct_n_iter']} "
                "distinct n_iter_ picked"
            )


if __name__ == "__main__":
    main()
