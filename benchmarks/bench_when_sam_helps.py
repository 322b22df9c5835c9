"""When does SAM help? The measurements of the user-guide page of that name.

Four parts, each a few tables in reStructuredText (pasted into
``docs/user_guide/when_sam_helps.rst``), from generated data and data that ships with
scikit-learn (no download):

- ``synthetic``: exact out-of-sample bias^2 and variance
  (``bias_variance_decomposition(method="exact")``, known truth) of gradient descent
  (GD), SAM and Ridge on Gaussian designs with power-law spectra, a truth aligned
  with the top eigen-directions or isotropic, and two noise levels: SAM against GD at
  one shared step after 10 steps, at each one's automatic step, and at each one's
  best stopping time; Ridge at its best penalty.
- ``regression``: held-out R^2 under cross-validation: GD and SAM with the stopping
  time (and SAM's radius) chosen by ``SAMRegressorCV``, against ``RidgeCV`` and least
  squares.
- ``classification``: held-out accuracy with 0/20/40% of the training labels flipped:
  ``SAMClassifierCV`` (GD and SAM) against ``RidgeClassifierCV`` and
  ``LogisticRegressionCV``.
- ``kernels``: held-out R^2 of ``SAMKernelRidgeCV`` (RBF; GD and SAM) against
  ``KernelRidge`` with ``alpha`` chosen by ``GridSearchCV``, same kernel.

Every model is a pipeline with a ``StandardScaler``. SAM's radii are relative
(``rho * lam_max`` in ``(0.1, 1, 10)``, ``relative_rho=True``); GD is the same search
with ``rhos=(0,)``, so each method is scored at its own best stopping time and at its
own automatic step. "+-" is one standard error over the outer splits (the splits share
training points, so it understates the uncertainty); "SAM - GD" is the mean paired
difference over the same splits. "edge" counts the outer splits whose selected
``n_iter`` (or ``alpha``) lies at an end of its grid that does not bound the path
(``n_iter_at_edge_``).

Run:  python benchmarks/bench_when_sam_helps.py [--part synthetic|regression|
      classification|kernels|all] [--quick]

Runtime on the shared 2-core development machine (one BLAS thread): synthetic
23-44 s, regression 2-4 s, classification 35 s, kernels 28 s, about 2 minutes in all
(``--quick``: 15 s in all, coarser grids, fewer data sets and splits).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
    make_friedman1,
    make_regression,
)
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeClassifierCV,
    RidgeCV,
)
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RepeatedKFold,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sksam import (
    SAMClassifierCV,
    SAMKernelRidgeCV,
    SAMRegressor,
    SAMRegressorCV,
    bias_variance_decomposition,
)

SAM_RHOS = (0.1, 1.0, 10.0)  # relative: rho * lam_max
RIDGE_ALPHAS = np.logspace(-3, 5, 81)


# -- output ---------------------------------------------------------------------------
def rst_table(headers, rows):
    """A reStructuredText simple table (readable as plain text too)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    rule = "  ".join("=" * w for w in widths)

    def line(row):
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([rule, line(headers), rule, *map(line, cells), rule])


def mean_se(values, digits=3):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
    return f"{values.mean():.{digits}f} +- {se:.{digits}f}"


# -- synthetic: exact bias and variance -----------------------------------------------
def _design(decay, truth, n, d, n_test, seed):
    """Gaussian design with population eigenvalues ``j**-decay`` (the coordinates are
    the population eigen-directions) and a truth of unit signal variance."""
    rng = np.random.default_rng(seed)
    lam = np.arange(1, d + 1, dtype=float) ** -decay
    X = rng.standard_normal((n, d)) * np.sqrt(lam)
    X_test = rng.standard_normal((n_test, d)) * np.sqrt(lam)
    if truth == "aligned":  # the signal sits in the top 5 directions
        w = np.zeros(d)
        w[:5] = rng.standard_normal(5)
    else:  # isotropic: w ~ N(0, I)
        w = rng.standard_normal(d)
    w /= np.sqrt(np.sum(lam * w**2))  # E (x . w)^2 = 1
    return X, X_test, w


def _below(a, b):
    """``a <= b`` at every point, to rounding (1e-12 of the largest value): both
    curves reach ~1e-30 at convergence, where the order is rounding noise."""
    return bool(np.all(a <= b + 1e-12 * max(np.max(a), np.max(b))))


def _exact(estimator, X, f, X_eval, f_eval, noise, name, grid):
    """Exact bias^2, variance and risk at ``X_eval`` over ``grid`` (known truth)."""
    return bias_variance_decomposition(
        estimator,
        X,
        None,
        X_eval,
        f_train=f,
        f_test=f_eval,
        noise_std=noise,
        param_name=name,
        param_range=grid,
    )


def _excess(result):
    """Excess risk: expected loss minus the noise, i.e. bias^2 + variance."""
    return result.expected_loss - result.noise


def synthetic(quick=False, seed=0):
    n, d, n_test = 200, 100, 500 if quick else 2000
    n_iters = np.unique(
        np.r_[np.arange(1, 31), np.geomspace(1, 2e6, 120 if quick else 400)].astype(int)
    )
    alphas = np.geomspace(1e-6, 1e4, 60 if quick else 201) * n
    early = 10
    i_early = int(np.searchsorted(n_iters, early))
    rows, orders = [], []
    for decay in (1.0, 2.0):
        for truth in ("aligned", "isotropic"):
            X, X_test, w = _design(decay, truth, n, d, n_test, seed)
            f, f_test = X @ w, X_test @ w
            lam_max = 1.0 / SAMRegressor(rho=0.0).fit(X, f).learning_rate_
            for noise in (0.5, 2.0):
                out = (X, f, X_test, f_test, noise)  # out of sample
                ins = (X, f, X, f, noise)  # in sample (fixed design)
                ridge = np.min(_excess(_exact(Ridge(), *out, "alpha", alphas)))
                # GD at its own automatic step, 1 / lam_max, after `early` steps.
                gd_own = _excess(_exact(SAMRegressor(rho=0.0), *out, "n_iter", [early]))
                for c_rho in (1.0, 10.0):
                    eta = 1.0 / (lam_max * (1.0 + c_rho))  # SAM's auto step: shared
                    gd, sam = (
                        SAMRegressor(rho=rho, learning_rate=eta)
                        for rho in (0.0, c_rho / lam_max)
                    )
                    res = {
                        (name, where): _exact(model, *data, "n_iter", n_iters)
                        for name, model in (("gd", gd), ("sam", sam))
                        for where, data in (("out", out), ("in", ins))
                    }
                    risk_gd, risk_sam = (
                        _excess(res["gd", "out"]),
                        _excess(res["sam", "out"]),
                    )
                    best_gd, best_sam = risk_gd.min(), risk_sam.min()
                    rows.append(
                        [
                            f"{decay:g}",
                            truth,
                            f"{noise:g}",
                            f"{c_rho:g}",
                            f"{risk_sam[i_early] / risk_gd[i_early]:.3f}",
                            f"{risk_sam[i_early] / gd_own[0]:.2f}",
                            f"{best_gd:.4f} ({n_iters[risk_gd.argmin()]})",
                            f"{best_sam:.4f} ({n_iters[risk_sam.argmin()]})",
                            f"{ridge:.4f}",
                            f"{100 * (best_gd - best_sam) / best_gd:+.1f}%",
                        ]
                    )
                    orders.append(
                        [
                            _below(s.bias_squared, g.bias_squared)
                            and _below(g.variance, s.variance)
                            for g, s in (
                                (res["gd", "in"], res["sam", "in"]),
                                (res["gd", "out"], res["sam", "out"]),
                            )
                        ]
                    )
    orders = np.array(orders)
    table = rst_table(
        [
            "decay",
            "truth",
            "noise",
            "rho lam_max",
            "SAM/GD k=10",
            "SAM/GD-own k=10",
            "GD best (k)",
            "SAM best (k)",
            "Ridge best",
            "SAM gain",
        ],
        rows,
    )
    summary = (
        f"SAM bias^2 <= GD's and SAM variance >= GD's (to rounding) at all "
        f"{n_iters.size} stopping times, one shared step: in sample in "
        f"{orders[:, 0].sum()} of {len(orders)} cases, out of sample in "
        f"{orders[:, 1].sum()} of {len(orders)}."
    )
    return table + "\n" + summary


# -- real data: nested cross-validation ---------------------------------------------
def _regression_sets(quick):
    # (linnerud, 20 samples, is left out: R^2 on test folds of 4 samples says nothing)
    X, y = load_diabetes(return_X_y=True)
    sets = {"diabetes (442 x 10)": (X, y)}
    wine = load_wine().data
    sets["wine: alcohol (178 x 12)"] = (wine[:, 1:], wine[:, 0])
    iris = load_iris().data
    sets["iris: petal width (150 x 3)"] = (iris[:, :3], iris[:, 3])
    X, y = make_regression(
        200, 100, n_informative=30, effective_rank=10, noise=1.0, random_state=0
    )
    sets["make_regression (200 x 100, rank 10)"] = (X, y)
    if not quick:
        X, y = make_friedman1(300, noise=1.0, random_state=0)
        sets["friedman1, linear fit (300 x 10)"] = (X, y)
    return sets


def _edge(model):
    """'lower' / 'upper' / None: the selected n_iter or alpha at a grid end."""
    final = model[-1]
    if hasattr(final, "n_iter_at_edge_"):
        return final.n_iter_at_edge_
    if hasattr(final, "param_grid"):  # GridSearchCV over one parameter
        ((key, grid),) = final.param_grid.items()
        alpha = final.best_params_[key]
    elif hasattr(final, "alpha_"):
        alpha, grid = final.alpha_, final.alphas
    elif hasattr(final, "C_"):  # LogisticRegressionCV: C = 1 / alpha
        alpha, grid = np.atleast_1d(final.C_)[0], final.Cs_
    else:
        return None
    if alpha == np.min(grid):
        return "lower"
    if alpha == np.max(grid):
        return "upper"
    return None


def _evaluate(models, X, y, splitter, flip=0.0, seed=0):
    """Held-out scores of each model over the outer splits (labels of the training
    parts flipped at the rate ``flip`` to a random other class)."""
    rng = np.random.default_rng(seed)
    scores = {name: [] for name in models}
    edges = {name: 0 for name in models}
    for train, test in splitter.split(X, y):
        y_train = y[train].copy()
        if flip:
            classes = np.unique(y)
            flipped = rng.random(train.size) < flip
            offset = rng.integers(1, classes.size, size=flipped.sum())
            index = np.searchsorted(classes, y_train[flipped])
            y_train[flipped] = classes[(index + offset) % classes.size]
        for name, model in models.items():
            fitted = clone(model)
            with warnings.catch_warnings():
                # Grid-edge picks are counted below (n_iter_at_edge_), not warned;
                # LogisticRegressionCV's announcements of its future defaults are
                # not about these results.
                warnings.filterwarnings("ignore", message="The selected n_iter=")
                warnings.filterwarnings("ignore", category=FutureWarning)
                fitted.fit(X[train], y_train)
            scores[name].append(fitted.score(X[test], y[test]))
            edges[name] += _edge(fitted) is not None
    return scores, edges


def _score_row(label, scores, edges, names, diffs, digits=3):
    row = [label]
    row += [f"{mean_se(scores[n], digits)} ({edges[n]})" for n in names]
    for a, b in diffs:
        row.append(mean_se(np.subtract(scores[a], scores[b]), digits))
    return row


def regression(quick=False, seed=0):
    splitter = (
        KFold(3, shuffle=True, random_state=seed)
        if quick
        else RepeatedKFold(n_splits=5, n_repeats=2, random_state=seed)
    )
    models = {
        "GD": SAMRegressorCV(rhos=(0.0,)),
        "SAM": SAMRegressorCV(rhos=SAM_RHOS, relative_rho=True),
        "RidgeCV": RidgeCV(alphas=RIDGE_ALPHAS),
        "OLS": LinearRegression(),
    }
    models = {k: make_pipeline(StandardScaler(), m) for k, m in models.items()}
    names = list(models)
    rows = []
    for label, (X, y) in _regression_sets(quick).items():
        scores, edges = _evaluate(models, X, y, splitter)
        rows.append(
            _score_row(label, scores, edges, names, [("SAM", "GD"), ("SAM", "RidgeCV")])
        )
    return rst_table(
        [
            "data (n x d)",
            *[f"{n} R^2 (edge)" for n in names],
            "SAM - GD",
            "SAM - RidgeCV",
        ],
        rows,
    )


def _classification_sets(quick):
    sets = {
        "breast cancer (569 x 30, 2)": load_breast_cancer(return_X_y=True),
        "wine (178 x 13, 3)": load_wine(return_X_y=True),
        "iris (150 x 4, 3)": load_iris(return_X_y=True),
    }
    if not quick:
        sets = {"digits (1797 x 64, 10)": load_digits(return_X_y=True), **sets}
        sets["make_classification (500 x 20, 3)"] = make_classification(
            500, 20, n_informative=8, n_classes=3, random_state=0
        )
    return sets


def classification(quick=False, seed=0):
    splitter = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=seed)
    models = {
        "GD": SAMClassifierCV(rhos=(0.0,)),
        "SAM": SAMClassifierCV(rhos=SAM_RHOS, relative_rho=True),
        "RidgeClsCV": RidgeClassifierCV(alphas=RIDGE_ALPHAS),
        "LogisticCV": LogisticRegressionCV(
            Cs=np.logspace(-3, 3, 13), scoring="accuracy", max_iter=2000
        ),
    }
    models = {k: make_pipeline(StandardScaler(), m) for k, m in models.items()}
    names = list(models)
    rows = []
    for label, (X, y) in _classification_sets(quick).items():
        for flip in (0.0, 0.4) if quick else (0.0, 0.2, 0.4):
            scores, edges = _evaluate(models, X, y, splitter, flip, seed)
            rows.append(
                _score_row(
                    f"{label}, {int(100 * flip)}%",
                    scores,
                    edges,
                    names,
                    [("SAM", "GD"), ("SAM", "RidgeClsCV"), ("LogisticCV", "SAM")],
                )
            )
    return rst_table(
        [
            "data (n x d, classes), flipped",
            *[f"{n} acc. (edge)" for n in names],
            "SAM - GD",
            "SAM - RidgeClsCV",
            "LogisticCV - SAM",
        ],
        rows,
    )


def _kernel_sets(quick):
    rng = np.random.default_rng(0)
    t = rng.uniform(-3, 3, (200, 1))
    sets = {
        "sine, 1-D (200 x 1)": (t, np.sin(2 * t[:, 0]) + 0.3 * rng.standard_normal(200))
    }
    X, y = make_friedman1(300, noise=1.0, random_state=0)
    sets["friedman1 (300 x 10)"] = (X, y)
    if not quick:
        X, y = load_diabetes(return_X_y=True)
        sets["diabetes (442 x 10)"] = (X, y)
        wine = load_wine().data
        sets["wine: alcohol (178 x 12)"] = (wine[:, 1:], wine[:, 0])
    return sets


def kernels(quick=False, seed=0):
    splitter = KFold(3 if quick else 5, shuffle=True, random_state=seed)
    kernel_alphas = np.logspace(-8, 3, 23 if quick else 45)
    models = {
        "GD": SAMKernelRidgeCV(rhos=(0.0,), kernel="rbf"),
        "SAM": SAMKernelRidgeCV(rhos=SAM_RHOS, relative_rho=True, kernel="rbf"),
        # KernelRidge fits no intercept: it is given centred (standardized) targets,
        # as the SAM models centre them.
        "KernelRidge": GridSearchCV(
            TransformedTargetRegressor(
                KernelRidge(kernel="rbf"), transformer=StandardScaler()
            ),
            {"regressor__alpha": kernel_alphas},
            cv=5,
        ),
    }
    models = {k: make_pipeline(StandardScaler(), m) for k, m in models.items()}
    names = list(models)
    rows = []
    for label, (X, y) in _kernel_sets(quick).items():
        scores, edges = _evaluate(models, X, y, splitter)
        rows.append(
            _score_row(
                label, scores, edges, names, [("SAM", "GD"), ("SAM", "KernelRidge")]
            )
        )
    return rst_table(
        [
            "data (n x d), RBF kernel",
            *[f"{n} R^2 (edge)" for n in names],
            "SAM - GD",
            "SAM - KernelRidge",
        ],
        rows,
    )


PARTS = {
    "synthetic": synthetic,
    "regression": regression,
    "classification": classification,
    "kernels": kernels,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="coarser and smaller")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    parts = PARTS if args.part == "all" else {args.part: PARTS[args.part]}
    with threadpool_limits(limits=1):
        for name, part in parts.items():
            tic = time.perf_counter()
            text = part(quick=args.quick, seed=args.seed)
            print(f"== {name} ({time.perf_counter() - tic:.0f} s)\n{text}\n")


if __name__ == "__main__":
    main()
