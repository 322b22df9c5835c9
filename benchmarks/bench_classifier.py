"""Cross-validating SAM classifiers: SAMClassifierCV vs GridSearchCV, RidgeClassifierCV.

Plain script, one run: every figure is a median over repeats, and every ratio compares
timings made in this run on this machine. Data: ``make_classification`` with
(n, d) = (5000, 100) and 10 classes (``--dataset plain``: the generator's defaults,
see ``data``). ``SAMClassifierCV()`` runs with its default parameters: 5 stratified
folds, accuracy, the grid derived from the spectrum of the data (its ``n_iters_`` x
its 4 ``rhos_``). ``GridSearchCV(SAMClassifier())`` searches
the same grid (``{"n_iter": n_iters_, "rho": rhos_}``) with ``cv=5`` and
``n_jobs=None``, refitting every candidate on every fold. Targets of issue 17:

1. ``SAMClassifierCV()`` >= 30x faster than ``GridSearchCV(SAMClassifier())``;
2. ``SAMClassifierCV()`` <= 3x the time of ``RidgeClassifierCV()`` (its default
   parameters: 3 alphas, efficient leave-one-out); with 50 alphas for reference.

``SAMClassifierCV`` and the ``RidgeClassifierCV`` rows are timed in interleaved rounds
(each round calls each once, in a shuffled order, after one warm-up call), so that they
share the machine's load; the ratio to ``RidgeClassifierCV()`` is given as the ratio of
the medians and as the median of the per-round ratios. The script also checks that
both searches select the same ``(n_iter, rho)``. Run ``python
benchmarks/bench_classifier.py`` (``--quick`` for a smaller problem; ``--blas-threads
1`` and ``--clock cpu`` (process CPU time) on a loaded machine; ``--search-repeats 0``
skips the grid search).
"""

import argparse
import time
from contextlib import nullcontext

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from sksam import SAMClassifier, SAMClassifierCV

CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
ALPHAS = np.logspace(-3, 3, 50)
N_FOLDS = 5


def timed_rounds(funcs, repeats, clock):
    """Times of each of ``funcs`` (a dict) in ``repeats`` interleaved rounds, after
    one warm-up call each; returns a dict of arrays of shape (repeats,)."""
    for func in funcs.values():
        func()
    times = {name: [] for name in funcs}
    rng = np.random.default_rng(0)
    names = list(funcs)
    for _ in range(repeats):
        for index in rng.permutation(len(names)):
            start = clock()
            funcs[names[index]]()
            times[names[index]].append(clock() - start)
    return {name: np.array(values) for name, values in times.items()}


def data(n, d, n_classes, seed=0, dataset="bench"):
    """The benchmark's data; ``dataset="plain"`` is ``make_classification`` with its
    defaults besides 30 informative features (a finer default grid: 74 n_iters at
    (5000, 100))."""
    if dataset == "plain":
        return make_classification(
            n_samples=n,
            n_features=d,
            n_informative=min(d, 30),
            n_classes=n_classes,
            random_state=seed,
        )
    return make_classification(
        n_samples=n,
        n_features=d,
        n_informative=min(d, 30),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=0.7,
        random_state=seed,
    )


def bench(n, d, n_classes, repeats, search_repeats, clock, dataset):
    X, y = data(n, d, n_classes, dataset=dataset)
    sam = SAMClassifierCV().fit(X, y)
    grid_params = {"n_iter": sam.n_iters_.tolist(), "rho": sam.rhos_.tolist()}
    n_candidates = len(grid_params["n_iter"]) * len(grid_params["rho"])
    times = timed_rounds(
        {
            "sam": lambda: SAMClassifierCV().fit(X, y),
            "gcv": lambda: SAMClassifierCV(cv="gcv").fit(X, y),
            "ridge": lambda: RidgeClassifierCV().fit(X, y),
            "ridge50": lambda: RidgeClassifierCV(alphas=ALPHAS).fit(X, y),
        },
        repeats,
        clock,
    )
    grid_times, grid = [], None
    for _ in range(search_repeats):  # 0: skip the grid search
        start = clock()
        grid = GridSearchCV(SAMClassifier(), grid_params, cv=N_FOLDS).fit(X, y)
        grid_times.append(clock() - start)
    t = {name: float(np.median(values)) for name, values in times.items()}
    t["grid"] = float(np.median(grid_times)) if grid_times else np.nan
    ridge = RidgeClassifierCV().fit(X, y)
    print(
        f"\nSAMClassifierCV() vs GridSearchCV(SAMClassifier()) and RidgeClassifierCV: "
        f"n={n}, d={d}, {n_classes} classes; SAM grid {len(grid_params['n_iter'])} "
        f"n_iters x {len(grid_params['rho'])} rhos = {n_candidates} candidates x "
        f"{N_FOLDS} folds; medians of {repeats} interleaved rounds ({search_repeats} "
        f"for GridSearchCV), clock {clock.__name__}, data {dataset!r}"
    )
    rows = [
        ("SAMClassifierCV()", t["sam"]),
        ('SAMClassifierCV(cv="gcv")', t["gcv"]),
        ("GridSearchCV(SAMClassifier(), cv=5)", t["grid"]),
        ("RidgeClassifierCV() (3 alphas, LOO)", t["ridge"]),
        ("RidgeClassifierCV(50 alphas, LOO)", t["ridge50"]),
    ]
    for name, value in rows:
        print(f"{name:>38}: {value:8.4f} s  ({value / t['sam']:7.2f}x SAMClassifierCV)")
    per_round = times["sam"] / times["ridge"]
    print(
        f"GridSearch / SAMClassifierCV   : {t['grid'] / t['sam']:.1f}  (target >= 30)"
    )
    print(
        f"SAMClassifierCV / RidgeCCV()   : {t['sam'] / t['ridge']:.2f} (medians), "
        f"{np.median(per_round):.2f} (median of rounds; range "
        f"{per_round.min():.2f}-{per_round.max():.2f})  (target <= 3)"
    )
    print(f"SAMClassifierCV / RidgeCCV(50) : {t['sam'] / t['ridge50']:.2f}")
    fits = n_candidates * N_FOLDS
    print(
        f"per candidate and fold: SAMClassifierCV {t['sam'] / fits * 1e6:.1f} us, "
        f"GridSearchCV {t['grid'] / fits * 1e3:.2f} ms; per alpha: RidgeClassifierCV() "
        f"{t['ridge'] / 3 * 1e3:.2f} ms, 50 alphas {t['ridge50'] / 50 * 1e3:.2f} ms"
    )
    print(
        f"SAMClassifierCV picks n_iter={sam.n_iter_}, rho={sam.rho_:.4g} (CV accuracy "
        f"{sam.best_score_:.4f}); RidgeClassifierCV alpha={ridge.alpha_}"
    )
    if grid is not None:
        same = (sam.n_iter_, sam.rho_) == (
            grid.best_params_["n_iter"],
            grid.best_params_["rho"],
        )
        print(
            f"same pick as GridSearchCV: {same} (its accuracy {grid.best_score_:.4f})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller problem")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--search-repeats", type=int, default=1, help="repeats of the GridSearchCV"
    )
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    parser.add_argument("--dataset", choices=("bench", "plain"), default="bench")
    args = parser.parse_args()
    n, d = (1000, 50) if args.quick else (5000, 100)
    limit = (
        nullcontext()
        if args.blas_threads is None
        else threadpool_limits(limits=args.blas_threads, user_api="blas")
    )
    with limit:
        bench(
            n,
            d,
            10,
            args.repeats,
            args.search_repeats,
            CLOCK[args.clock],
            args.dataset,
        )


if __name__ == "__main__":
    main()
