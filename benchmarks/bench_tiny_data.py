"""Selection rules of the CV searches on tiny data: accuracy, not speed.

The figures of the user guide's "Tiny data: the interpolation guard"
(``docs/user_guide/model_selection.rst``). On each data set, 20 random outer
splits; on each training part a default search (``cv=5``, default grids) picks
``(n_iter, rho)`` by one of these rules, and the refitted model is scored (R^2) on
the held-out part:

- ``GridSearchCV``: the best mean validation score (``max_dof_fraction=None``:
  exactly ``GridSearchCV``'s pick over the same grid and folds);
- ``guard 0.999`` (the default) and ``guard 0.9``: the interpolation guard,
  ``max_dof_fraction=0.999`` and ``0.9`` (the fraction of ``cv="gcv"``'s guard);
- ``1 SE``: the fewest steps whose mean score is within one standard error of the
  best (glmnet's rule), as a ``refit`` callable (the recipe of the user guide);
- ``cap 1000``: the best mean score among ``n_iter <= 1000``, as a ``refit``
  callable.

Data sets: R's ``stackloss`` (21 rows; outer splits of 15 training and 6 held-out
rows) with an RBF kernel on standardized features, and as is with the default
linear kernel; ``load_diabetes`` subsamples of 30 training rows (held out: the other
412) with the linear and the RBF kernel; 20 points of a sine curve with noise 0.3
(RBF, ``gamma=1``), noise 0.1 and noise 0 (RBF, ``gamma=10``: a sharp kernel, where
interpolation is close to the truth), held out: 1000 fresh points; 50 rows of a
linear truth with little noise under a rough RBF kernel (``gamma=0.2``, features
scaled 0.2 to 3), where the best fits nearly interpolate, held out: 2000 rows.

Printed per data set and rule: the median, mean and smallest held-out R^2 over the
20 splits, and in how many splits the pick differs from ``GridSearchCV``'s.

Run:  python benchmarks/bench_tiny_data.py [--splits 20]

Runtime on the shared 2-core development machine (one BLAS thread): about 2
minutes.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sksam import SAMKernelRidgeCV

#: R's ``datasets::stackloss``: Air.Flow, Water.Temp, Acid.Conc., stack.loss.
STACKLOSS = np.array(
    [
        [80, 27, 89, 42],
        [80, 27, 88, 37],
        [75, 25, 90, 37],
        [62, 24, 87, 28],
        [62, 22, 87, 18],
        [62, 23, 87, 18],
        [62, 24, 93, 19],
        [62, 24, 93, 20],
        [58, 23, 87, 15],
        [58, 18, 80, 14],
        [58, 18, 89, 14],
        [58, 17, 88, 13],
        [58, 18, 82, 11],
        [58, 19, 93, 12],
        [50, 18, 89, 8],
        [50, 18, 86, 7],
        [50, 19, 72, 8],
        [50, 19, 79, 8],
        [50, 20, 80, 9],
        [56, 20, 82, 15],
        [70, 20, 91, 15],
    ],
    dtype=float,
)


def one_standard_error(results):
    """The fewest steps (then the first radius) whose mean score is within one
    standard error of the best (the user guide's recipe)."""
    means = results["mean_test_score"]
    n_splits = sum(key.startswith("split") for key in results)
    best = int(np.argmax(means))
    error = results["std_test_score"][best] / np.sqrt(n_splits - 1)
    steps = np.asarray(results["param_n_iter"], dtype=float)
    within = np.flatnonzero(means >= means[best] - error)
    return int(within[np.argmin(steps[within])])


def capped(results, cap=1000):
    """The best mean score among ``n_iter <= cap``."""
    means = np.where(np.isnan(results["mean_test_score"]), -np.inf,
                     results["mean_test_score"])  # fmt: skip
    steps = np.asarray(results["param_n_iter"], dtype=float)
    return int(np.argmax(np.where(steps <= cap, means, -np.inf)))


RULES = {
    "GridSearchCV": {"max_dof_fraction": None},
    "guard 0.999": {},
    "guard 0.9": {"max_dof_fraction": 0.9},
    "1 SE": {"refit": one_standard_error},
    "cap 1000": {"refit": capped},
}


def stackloss_splits(n_splits, standardize):
    X, y = STACKLOSS[:, :3], STACKLOSS[:, 3]
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    for seed in range(n_splits):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        yield X_train, y_train, X_test, y_test


def diabetes_splits(n_splits, n_train=30):
    X, y = load_diabetes(return_X_y=True)
    for seed in range(n_splits):
        order = np.random.default_rng(seed).permutation(y.size)
        train, test = order[:n_train], order[n_train:]
        yield X[train], y[train], X[test], y[test]


def sine_splits(n_splits, noise, n=20):
    for seed in range(n_splits):
        rng = np.random.default_rng(seed)
        x, x_test = rng.uniform(-3, 3, (n, 1)), rng.uniform(-3, 3, (1000, 1))
        y = np.sin(x[:, 0]) + noise * rng.standard_normal(n)
        y_test = np.sin(x_test[:, 0]) + noise * rng.standard_normal(1000)
        yield x, y, x_test, y_test


def rough_splits(n_splits, n=50, d=6):
    """A linear truth, high signal-to-noise, features scaled 0.2 to 3: an RBF
    kernel with ``gamma=0.2`` is rough there, and the best fits nearly
    interpolate (the array-API tests' data)."""
    scale = np.linspace(0.2, 3.0, d)
    for seed in range(n_splits):
        rng = np.random.default_rng(seed)
        coef = rng.standard_normal(d)
        X = rng.standard_normal((n, d)) * scale
        X_test = rng.standard_normal((2000, d)) * scale
        y = X @ coef + 0.3 * rng.standard_normal(n)
        y_test = X_test @ coef + 0.3 * rng.standard_normal(2000)
        yield X, y, X_test, y_test


DATA = {
    "stackloss, RBF (standardized)": (
        {"kernel": "rbf"},
        lambda k: stackloss_splits(k, True),
    ),
    "stackloss, linear (as is)": ({}, lambda k: stackloss_splits(k, False)),
    "diabetes 30 rows, linear": ({}, diabetes_splits),
    "diabetes 30 rows, RBF": ({"kernel": "rbf"}, diabetes_splits),
    "sine 20 points, noise 0.3, RBF gamma=1": (
        {"kernel": "rbf", "gamma": 1.0},
        lambda k: sine_splits(k, 0.3),
    ),
    "sine 20 points, noise 0.1, RBF gamma=10": (
        {"kernel": "rbf", "gamma": 10.0},
        lambda k: sine_splits(k, 0.1),
    ),
    "sine 20 points, noiseless, RBF gamma=10": (
        {"kernel": "rbf", "gamma": 10.0},
        lambda k: sine_splits(k, 0.0),
    ),
    "linear truth 50 rows, RBF gamma=0.2": (
        {"kernel": "rbf", "gamma": 0.2},
        rough_splits,
    ),
}


def held_out_scores(kernel_params, splits):
    """Held-out R^2 and picks of every rule on every split."""
    scores = {rule: [] for rule in RULES}
    picks = {rule: [] for rule in RULES}
    for X, y, X_test, y_test in splits:
        for rule, params in RULES.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the guard's and the edges'
                search = SAMKernelRidgeCV(**kernel_params, **params).fit(X, y)
            scores[rule].append(r2_score(y_test, search.predict(X_test)))
            picks[rule].append(search.best_index_)
    return scores, picks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    with threadpool_limits(1):
        for name, (kernel_params, make_splits) in DATA.items():
            scores, picks = held_out_scores(kernel_params, make_splits(args.splits))
            print(f"\n{name} ({args.splits} splits): held-out R^2")
            print(f"  {'rule':<13} {'median':>7} {'mean':>7} {'min':>8}  changed")
            for rule in RULES:
                values = np.array(scores[rule])
                changed = np.sum(
                    np.array(picks[rule]) != np.array(picks["GridSearchCV"])
                )
                print(
                    f"  {rule:<13} {np.median(values):7.3f} {values.mean():7.3f} "
                    f"{values.min():8.3f}  {changed:2d}/{len(values)}"
                )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
