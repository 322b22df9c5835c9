"""Cross-validating SAM classifiers: SAMClassifierCV vs GridSearchCV, RidgeClassifierCV.

Plain script, one run: every figure is a median over repeats, and every ratio compares
timings made in this run on this machine. Data: ``make_classification`` with
(n, d) = (5000, 100) and 10 classes. The grid is the same for both SAM searches: 3
rhos (0, 0.1, 1) x the 50 default stopping times (1..1000, log-spaced), 5 stratified
folds (``cv=5``), default scoring (accuracy); ``GridSearchCV`` runs with
``n_jobs=None`` and refits every one of the 150 candidates on every fold. Targets of
issue 17:

1. ``SAMClassifierCV`` >= 30x faster than ``GridSearchCV(SAMClassifier())``;
2. ``SAMClassifierCV`` <= 3x the time of ``RidgeClassifierCV`` (its default efficient
   leave-one-out mode; with its default 3 alphas and with 50 alphas).

The script also checks that both searches select the same ``(n_iter, rho)`` and
prints the cross-validated accuracies. Run ``python benchmarks/bench_classifier.py``
(``--quick`` for a smaller problem; ``--blas-threads 1`` on a loaded machine).
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
from sksam._selection._search import DEFAULT_N_ITERS

RHOS = (0.0, 0.1, 1.0)
GRID = {"n_iter": DEFAULT_N_ITERS.tolist(), "rho": list(RHOS)}
ALPHAS = np.logspace(-3, 3, 50)


def median_time(func, repeats):
    """Median wall time of ``func()`` over ``repeats`` calls; returns (time, result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def data(n, d, n_classes, seed=0):
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


def bench(n, d, n_classes, repeats, search_repeats):
    X, y = data(n, d, n_classes)
    grid = dict(n_iters=DEFAULT_N_ITERS, rhos=RHOS)  # the same grid as GRID
    t_sam, sam = median_time(lambda: SAMClassifierCV(cv=5, **grid).fit(X, y), repeats)
    t_gcv, _ = median_time(lambda: SAMClassifierCV(cv="gcv", **grid).fit(X, y), repeats)
    t_ridge, ridge = median_time(lambda: RidgeClassifierCV().fit(X, y), repeats)
    t_ridge50, _ = median_time(
        lambda: RidgeClassifierCV(alphas=ALPHAS).fit(X, y), repeats
    )
    t_grid, grid = median_time(
        lambda: GridSearchCV(SAMClassifier(), GRID, cv=5).fit(X, y), search_repeats
    )
    same = (sam.n_iter_, sam.rho_) == (
        grid.best_params_["n_iter"],
        grid.best_params_["rho"],
    )
    print(
        f"\nSAMClassifierCV vs GridSearchCV(SAMClassifier) and RidgeClassifierCV: "
        f"n={n}, d={d}, {n_classes} classes, 150 candidates x 5 folds"
    )
    rows = [
        ("SAMClassifierCV(cv=5)", t_sam),
        ('SAMClassifierCV(cv="gcv")', t_gcv),
        ("GridSearchCV(SAMClassifier(), cv=5)", t_grid),
        ("RidgeClassifierCV() (3 alphas, LOO)", t_ridge),
        ("RidgeClassifierCV(50 alphas, LOO)", t_ridge50),
    ]
    for name, t in rows:
        print(f"{name:>38}: {t:8.3f} s  ({t / t_sam:7.2f}x SAMClassifierCV)")
    print(f"GridSearch / SAMClassifierCV : {t_grid / t_sam:.1f}  (target >= 30)")
    print(f"SAMClassifierCV / RidgeCCV   : {t_sam / t_ridge:.2f}  (target <= 3)")
    print(f"SAMClassifierCV / RidgeCCV50 : {t_sam / t_ridge50:.2f}  (target <= 3)")
    print(
        f"same pick: {same} (n_iter={sam.n_iter_}, rho={sam.rho_}); CV accuracy "
        f"SAM {sam.best_score_:.4f}, grid {grid.best_score_:.4f}; "
        f"RidgeClassifierCV alpha={ridge.alpha_}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller problem")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--search-repeats", type=int, default=1, help="repeats of the GridSearchCV"
    )
    parser.add_argument("--blas-threads", type=int, default=None)
    args = parser.parse_args()
    n, d = (1000, 50) if args.quick else (5000, 100)
    limit = (
        nullcontext()
        if args.blas_threads is None
        else threadpool_limits(limits=args.blas_threads, user_api="blas")
    )
    with limit:
        bench(n, d, 10, args.repeats, args.search_repeats)


if __name__ == "__main__":
    main()
