"""The ``python -m sksam`` demonstration: SAM, gradient descent and Ridge, side by side.

Part (a) uses a synthetic fixed design with a decaying spectrum and a known truth: the
exact bias^2, variance and risk of gradient descent (GD) and SAM over the stopping time,
at one float learning rate (SAM's automatic step, shared by GD), of GD at its own
automatic step too, and of Ridge over ``alpha``, matched by effective degrees of
freedom. Part (b) cross-validates the stopping time of GD (at SAM's step and at its own)
and SAM on scikit-learn's diabetes data (shipped with scikit-learn: no download) against
``RidgeCV``, with the effective degrees of freedom of each selected model and whether
the selection sits at an end of its grid. Every number printed is computed by sksam and
scikit-learn at run time.
"""

import argparse
import importlib.util
import os
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch
from threadpoolctl import threadpool_limits

from .._bias_variance import bias_variance_decomposition
from .._linear import SAMRegressor
from .._path import sam_path
from .._selection import SAMRegressorCV
from ._plot import plot_demo

__all__ = ["diabetes_part", "main", "run_demo", "synthetic_part"]

# Design of part (a): eigenvalues of X^T X / n spread over a factor ~16, a signal in
# every direction, and enough noise for the stopping time to matter. rho is chosen
# relative to the largest eigenvalue: rho * lam_max = RHO_SCALE.
N_SAMPLES, N_FEATURES, NOISE_STD, RHO_SCALE = 100, 20, 3.0, 5.0
TABLE_STEPS = (1, 3, 10, 30, 100, 300, 1000)


def _format_table(headers, rows):
    """Right-aligned plain-text table; floats with 4 significant digits."""

    def cell(value):
        if isinstance(value, float | np.floating):
            return f"{value:.4g}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *cells]
    lines = [
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in lines
    ]
    return "\n".join("    " + line for line in lines)


def _exact(estimator, X, f, param_name=None, param_range=None):
    """Exact in-sample bias^2 / variance / dof of a linear smoother (known truth)."""
    return bias_variance_decomposition(
        estimator,
        X,
        None,
        X,
        f_train=f,
        f_test=f,
        noise_std=NOISE_STD,
        param_name=param_name,
        param_range=param_range,
    )


def _ridge_at_dof(X, f, target_dof):
    """Ridge ``alpha`` whose effective degrees of freedom equal ``target_dof``."""

    def gap(log_alpha):
        return _exact(Ridge(alpha=10.0**log_alpha), X, f).dof - target_dof

    log_alpha = brentq(gap, -8.0, 8.0, xtol=1e-8)
    return 10.0**log_alpha, _exact(Ridge(alpha=10.0**log_alpha), X, f)


def _best_ridge(X, f, alphas, i):
    """Minimise Ridge's exact risk over ``alpha`` between the neighbours of ``i``."""
    lo, hi = (
        np.log10(alphas[max(i - 1, 0)]),
        np.log10(alphas[min(i + 1, alphas.size - 1)]),
    )

    def risk(log_alpha):
        return _exact(Ridge(alpha=10.0**log_alpha), X, f).expected_loss

    log_alpha = minimize_scalar(risk, bounds=(lo, hi), method="bounded").x
    return 10.0**log_alpha, _exact(Ridge(alpha=10.0**log_alpha), X, f)


def synthetic_part(seed=0, quick=False):
    """Part (a): exact bias-variance curves of GD, SAM and Ridge on a known model.

    Parameters
    ----------
    seed : int, default=0
        Seed of the design and of the true coefficients.
    quick : bool, default=False
        Coarser grids of stopping times and penalties.

    Returns
    -------
    result : Bunch
        ``gd``, ``sam``, ``ridge`` (bias-variance results over ``n_iters`` and
        ``alphas``), ``gd_own`` (GD at its own automatic step
        ``gd_own_learning_rate``), ``learning_rate``, ``rho``, ``lam_max``, ``matched``
        (Ridge at the degrees of freedom of the best GD and SAM stopping times) and
        the two tables as text.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    X *= np.geomspace(2.0, 0.5, N_FEATURES)
    f = X @ rng.standard_normal(N_FEATURES)

    # lam_max is one over GD's automatic step; the SAM step of the monotone regime is
    # then used by both methods (the paper compares them at one float learning rate).
    gd_auto = SAMRegressor(rho=0.0, n_iter=0).fit(X, f)
    lam_max = 1.0 / gd_auto.learning_rate_
    rho = RHO_SCALE / lam_max
    eta = SAMRegressor(rho=rho, n_iter=0).fit(X, f).learning_rate_
    # Every stopping time: the whole curve costs one decomposition.
    n_iters = np.arange(1, 3001)
    gd = _exact(SAMRegressor(rho=0.0, learning_rate=eta), X, f, "n_iter", n_iters)
    sam = _exact(SAMRegressor(rho=rho, learning_rate=eta), X, f, "n_iter", n_iters)
    # GD at its own automatic step 1 / lam_max (larger: fewer steps to the same fit).
    gd_own = _exact(SAMRegressor(rho=0.0), X, f, "n_iter", n_iters)
    alphas = np.geomspace(1e-2, 1e5, 15 if quick else 60)
    ridge = _exact(Ridge(), X, f, "alpha", alphas)

    rows = []
    for k in TABLE_STEPS:
        i = int(np.searchsorted(n_iters, k))
        rows.append(
            [k]
            + [res[key][i] for res in (gd, sam) for key in ("dof", "bias_squared")]
            + [gd.variance[i], sam.variance[i]]
            + [gd.expected_loss[i] - gd.noise, sam.expected_loss[i] - sam.noise]
        )
    steps_table = _format_table(
        [
            "k",
            "GD dof",
            "GD bias^2",
            "SAM dof",
            "SAM bias^2",
            "GD var",
            "SAM var",
            "GD risk",
            "SAM risk",
        ],
        rows,
    )

    def row(name, param, res, i=None):
        values = [
            res.dof,
            res.bias_squared,
            res.variance,
            res.expected_loss - res.noise,
        ]
        return [name, param] + [v if i is None else v[i] for v in values]

    matched = {}
    best_rows = []
    for name, res in (("GD", gd), ("SAM", sam)):
        i = res.oracle_index
        k = int(n_iters[i])
        best_rows.append(row(f"{name}, best k", f"n_iter={k}", res, i))
        alpha, at_dof = _ridge_at_dof(X, f, res.dof[i])
        matched[name] = Bunch(n_iter=k, alpha=alpha, rule=N_SAMPLES / (eta * k))
        ratio = alpha / matched[name].rule
        best_rows.append(row(f"Ridge at {name}'s dof", f"alpha={alpha:.4g}", at_dof))
        best_rows[-1].append(f"{ratio:.2f}")
    i = gd_own.oracle_index
    best_rows.insert(
        1, row("GD own step, best k", f"n_iter={int(n_iters[i])}", gd_own, i)
    )
    alpha, best_ridge = _best_ridge(X, f, alphas, ridge.oracle_index)
    best_rows.append(row("Ridge, best alpha", f"alpha={alpha:.4g}", best_ridge))
    for r in best_rows:
        r += [""] * (7 - len(r))
    best_table = _format_table(
        [
            "model",
            "parameter",
            "dof",
            "bias^2",
            "variance",
            "risk",
            "alpha/(n/(eta k))",
        ],
        best_rows,
    )
    return Bunch(
        gd=gd,
        sam=sam,
        gd_own=gd_own,
        gd_own_learning_rate=1.0 / lam_max,
        ridge=ridge,
        n_iters=n_iters,
        alphas=alphas,
        learning_rate=eta,
        rho=rho,
        lam_max=lam_max,
        matched=matched,
        sam_bias_below=bool(np.all(sam.bias_squared < gd.bias_squared)),
        sam_variance_above=bool(np.all(sam.variance > gd.variance)),
        steps_table=steps_table,
        best_table=best_table,
    )


def diabetes_part(seed=0, quick=False):
    """Part (b): cross-validated stopping time of GD and SAM vs ``RidgeCV``.

    Parameters
    ----------
    seed : int, default=0
        Seed of the train/test split and of the cross-validation folds.
    quick : bool, default=False
        Coarser grids of stopping times and penalties, 3 folds instead of 5.

    Returns
    -------
    result : Bunch
        ``models`` (name -> fitted pipeline), ``cv_curves`` (name -> (n_iters, mean
        CV R^2)), ``test_curves`` (name -> test R^2 after every step), ``ridge_r2``,
        ``learning_rate`` (SAM's automatic step, shared by one GD search),
        ``gd_own_learning_rate``, ``rho``, ``dof`` (name -> effective degrees of
        freedom of the selected model), ``grid_end`` (name -> ``"lower"``,
        ``"upper"``, ``"converged"`` or None) and the table as text.
    """
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_scaled = scaler.transform(X_train)
    # Eigenvalues of the centred Gram matrix of the standardized training data: the
    # effective degrees of freedom of every selected model follow from them.
    centred = X_scaled - X_scaled.mean(axis=0)
    lam = np.clip(np.linalg.eigvalsh(centred.T @ centred / len(y_train)), 0.0, None)
    lam_max = lam.max()
    rho = 1.0 / lam_max
    eta = 1.0 / (lam_max * (1.0 + rho * lam_max))  # SAM's "auto" step
    n_iters = np.unique(np.geomspace(1, 1e4, 40 if quick else 120).astype(int))
    cv = KFold(3 if quick else 5, shuffle=True, random_state=seed)
    alphas = np.geomspace(1e-3, 1e4, 30 if quick else 100)

    def search(rho, learning_rate):
        return SAMRegressorCV(
            n_iters,
            rhos=(rho,),
            cv=cv,
            learning_rate=learning_rate,
        )

    candidates = {
        "GD, SAM's step (SAMRegressorCV)": search(0.0, eta),
        "GD, own step (SAMRegressorCV)": search(0.0, "auto"),
        f"SAM, rho={rho:.3g} (SAMRegressorCV)": search(rho, eta),
        "RidgeCV (same folds)": RidgeCV(alphas=alphas, cv=cv),
        # RidgeCV's default cv=None: leave-one-out in closed form (no refits), in
        # milliseconds; scored by R^2 of the leave-one-out predictions like the rest.
        "RidgeCV (leave-one-out)": RidgeCV(alphas=alphas, scoring="r2"),
    }
    rows, models, cv_curves, test_curves, dofs, ends = [], {}, {}, {}, {}, {}
    for name, estimator in candidates.items():
        tic = time.perf_counter()
        with warnings.catch_warnings():
            # A selection at an end of its grid is reported in the table instead.
            warnings.filterwarnings("ignore", "The selected n_iter=", UserWarning)
            model = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
        seconds = time.perf_counter() - tic
        final = model[-1]
        pred = model.predict(X_test)
        if isinstance(final, SAMRegressorCV):
            param = f"n_iter={final.n_iter_}"
            step = final.learning_rate_
            r = 1.0 - step * lam * (1.0 + final.rho_ * lam)
            dof = 1.0 + np.sum(1.0 - r**final.n_iter_)
            edge = final.n_iter_at_edge_
            if edge is None and final.n_iter_ == n_iters.max():
                edge = "converged"  # the end of the grid, where the path has converged
            cv_curves[name] = (n_iters, final.cv_results_["mean_test_score"])
            # Test score at every stopping time of the grid, from one decomposition.
            _, coefs, intercepts = sam_path(
                X_scaled, y_train, n_iters, rho=final.rho_, learning_rate=step
            )
            pred_path = model[0].transform(X_test) @ coefs + intercepts
            resid = ((pred_path - y_test[:, None]) ** 2).mean(axis=0)
            test_curves[name] = (n_iters, 1 - resid / np.var(y_test), final.n_iter_)
        else:
            param = f"alpha={final.alpha_:.3g}"
            dof = 1.0 + np.sum(lam / (lam + final.alpha_ / len(y_train)))
            edge = {alphas.min(): "lower", alphas.max(): "upper"}.get(final.alpha_)
        models[name] = model
        dofs[name], ends[name] = float(dof), edge
        rows.append(
            [name, param, float(dof), edge or "no", final.best_score_]
            + [model.score(X_test, y_test), mean_squared_error(y_test, pred)]
            + [f"{1000 * seconds:.0f} ms"]
        )
    table = _format_table(
        [
            "model",
            "selected",
            "dof",
            "grid end",
            "CV score",
            "test R^2",
            "test MSE",
            "fit time",
        ],
        rows,
    )
    return Bunch(
        models=models,
        cv_curves=cv_curves,
        test_curves=test_curves,
        ridge_r2=models["RidgeCV (same folds)"].score(X_test, y_test),
        dof=dofs,
        grid_end=ends,
        learning_rate=eta,
        gd_own_learning_rate=1.0 / lam_max,
        rho=rho,
        n_train=len(y_train),
        n_test=len(y_test),
        table=table,
    )


def run_demo(output_dir="sksam_demo_output", seed=0, quick=False, out=print):
    """Run both parts, print the tables and write the figure when possible.

    Parameters
    ----------
    output_dir : str or Path, default="sksam_demo_output"
        Directory of the figure (created if needed).
    seed : int, default=0
        Seed of the synthetic design and of the diabetes split and folds.
    quick : bool, default=False
        Coarser grids (a few seconds).
    out : callable, default=print
        Receives each block of text.

    Returns
    -------
    result : Bunch
        ``synthetic`` and ``diabetes`` results, ``figure`` (path or ``None``) and
        ``seconds``.
    """
    tic = time.perf_counter()
    syn = synthetic_part(seed, quick)
    out(
        f"(a) Synthetic fixed design, n={N_SAMPLES}, d={N_FEATURES}, noise sd "
        f"{NOISE_STD:g}, known truth.\n    Exact in-sample bias^2, variance and risk "
        "(= bias^2 + variance) after k steps of GD and SAM\n    at ONE learning rate "
        f"{syn.learning_rate:.4g} (SAM's monotone step for rho = {syn.rho:.3g} = "
        f"{RHO_SCALE:g} / lam_max,\n    shared by GD: the paper's comparison; GD's own "
        f"automatic step, 1 / lam_max = {syn.gd_own_learning_rate:.4g},\n    is "
        f"{syn.gd_own_learning_rate / syn.learning_rate:.3g} times larger); "
        "dof = effective degrees of freedom (trace of the smoother).\n"
    )
    out(syn.steps_table + "\n")
    out(
        f"    At every k = 1..{syn.n_iters[-1]}: SAM bias^2 < GD bias^2: "
        f"{syn.sam_bias_below}; SAM variance > GD variance: {syn.sam_variance_above}.\n"
    )
    out(
        "    Best stopping times (GD also at its own step: about the same fit, in "
        "fewer steps), best\n    Ridge penalty, and Ridge matched to the best GD and "
        "SAM fits by effective degrees of\n    freedom (last column: the matched alpha "
        "over the rule of thumb n / (eta k), the rule's\n    measured error):\n"
    )
    out(syn.best_table + "\n")
    dia = diabetes_part(seed, quick)
    out(
        f"(b) Diabetes ({dia.n_train} train / {dia.n_test} test samples, standardized "
        f"features): stopping time by {3 if quick else 5}-fold CV\n    for SAM and GD "
        f"at SAM's automatic step {dia.learning_rate:.3g} and for GD at its own, "
        f"{dia.gd_own_learning_rate:.3g},\n    vs RidgeCV on the same folds and with "
        "its default leave-one-out; scores are R^2.\n"
    )
    out(dia.table + "\n")
    out(
        "    dof: effective degrees of freedom of the selected model (trace of its "
        "smoother, intercept\n    included): equal dof, equal complexity. grid end: "
        "lower / upper when the selection is\n    at an end of its grid that may "
        "have cut the search short (n_iter_at_edge_ of the CV\n    searches), "
        "converged when it is the last stopping time and the path has converged "
        "there.\n"
        "    fit time: the whole selection (every candidate on every fold) plus the "
        "refit, in the pipeline.\n"
        "    SAMRegressorCV scores all stopping times from one decomposition per fold; "
        "RidgeCV with\n"
        "    explicit folds refits every alpha on every fold (a grid search), while "
        "its default\n"
        "    (cv=None) scores leave-one-out in closed form from one decomposition.\n"
    )
    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        out("matplotlib is not installed: no figure (pip install sksam[plot]).")
    else:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        figure = plot_demo(syn, dia, output_dir / "sksam_demo.png")
        out(f"Figure written to {figure}")
    seconds = time.perf_counter() - tic
    out(f"Done in {seconds:.1f} s.")
    return Bunch(synthetic=syn, diabetes=dia, figure=figure, seconds=seconds)


def _seed(text):
    """A non-negative integer seed (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer; got {text!r}"
        )
    return value


def main(argv=None):
    """Command-line entry point of ``python -m sksam``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (``sys.argv[1:]`` when ``None``).

    Returns
    -------
    status : int
        The exit status (0). Unusable arguments (an ``--output-dir`` that cannot be
        created, a negative ``--seed``) exit with status 2 and a usage message, as
        argparse does.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sksam",
        description=(
            "Exact early-stopped SAM vs gradient descent vs Ridge: (a) exact "
            "bias-variance curves on a synthetic design with known truth, matched by "
            "effective degrees of freedom; (b) cross-validated stopping time on the "
            "diabetes data vs RidgeCV. Uses only data shipped with scikit-learn."
        ),
    )
    parser.add_argument(
        "--output-dir",
        default="sksam_demo_output",
        help="directory for the figure (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="random seed, a non-negative integer (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="coarser grids: a few seconds"
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("matplotlib") is not None:
        # Fail before the computation, as a usage error, not with a traceback.
        output_dir = Path(args.output_dir)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(
                f"argument --output-dir: cannot create directory '{output_dir}': "
                f"{exc.strerror or exc}"
            )
        if not os.access(output_dir, os.W_OK):
            parser.error(
                f"argument --output-dir: directory '{output_dir}' is not writable"
            )
    # The problems are small: threaded BLAS only adds synchronisation overhead.
    with threadpool_limits(limits=1):
        run_demo(args.output_dir, args.seed, args.quick)
    return 0
