"""The ``python -m sksam`` demonstration: it runs, prints its tables, and its numbers
are the exact bias-variance formulas of the user guide (checked against numpy here)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split

from sksam import _demo


@pytest.mark.slow  # a subprocess or the gallery
def test_cli_quick_prints_tables_and_writes_figure(tmp_path):
    out_dir = tmp_path / "demo"
    proc = _run_cli(["--quick", "--output-dir", str(out_dir)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for header in (
        "GD bias^2",
        "SAM bias^2",
        "GD own step, best k",
        "Ridge at SAM's dof",
        "Ridge, best alpha",
        "dof  grid end",
    ):
        assert header in text
    for model in (
        "GD, SAM's step (SAMRegressorCV)",
        "GD, own step (SAMRegressorCV)",
        "SAM, rho=",
        "RidgeCV (same folds)",
        "RidgeCV (leave-one-out)",
    ):
        assert model in text
    # Both comparisons are said in words: one shared step, and GD's own.
    assert "shared by GD: the paper's comparison" in text
    assert "GD at SAM's automatic step" in text.replace("\n    ", " ")
    # The table says what its fit time is, and why RidgeCV's default is fast.
    assert "fit time: the whole selection" in text
    assert "leave-one-out in closed form" in text
    assert "SAM bias^2 < GD bias^2: True; SAM variance > GD variance: True" in text
    figure = out_dir / "sksam_demo.png"
    assert f"Figure written to {figure}" in text
    assert figure.stat().st_size > 10_000


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as exc:
        _demo.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--output-dir", "--seed", "--quick"):
        assert option in text


@pytest.fixture(scope="module")
def synthetic():
    return _demo.synthetic_part(seed=3, quick=True)


def _design(seed):
    """The demo's design, rebuilt independently."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((_demo.N_SAMPLES, _demo.N_FEATURES))
    X *= np.geomspace(2.0, 0.5, _demo.N_FEATURES)
    return X, X @ rng.standard_normal(_demo.N_FEATURES)


def test_synthetic_curves_match_closed_form(synthetic):
    # Bias and variance (user guide): in-sample, over the eigenpairs of the centred
    # design; the fitted intercept adds sigma^2 / n to the variance and 1 to the dof.
    X, f = _design(3)
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    lam = s**2 / n
    proj = U.T @ f
    sigma2 = _demo.NOISE_STD**2
    eta = synthetic.learning_rate
    assert np.isclose(synthetic.rho * lam.max(), _demo.RHO_SCALE)
    assert np.isclose(eta, 1 / (lam.max() * (1 + synthetic.rho * lam.max())))
    k = synthetic.n_iters[:, None]
    for res, rho in ((synthetic.gd, 0.0), (synthetic.sam, synthetic.rho)):
        r = 1 - eta * lam * (1 + rho * lam)
        bias = (r[None, :] ** (2 * k) * proj**2).sum(axis=1) / n
        var = sigma2 / n * ((1 - r[None, :] ** k) ** 2).sum(axis=1) + sigma2 / n
        dof = (1 - r[None, :] ** k).sum(axis=1) + 1
        np.testing.assert_allclose(res.bias_squared, bias, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(res.variance, var, rtol=1e-8)
        np.testing.assert_allclose(res.dof, dof, rtol=1e-8)
    # The paper's claim on this design, at every stopping time k >= 1.
    assert synthetic.sam_bias_below and synthetic.sam_variance_above


def test_ridge_matched_by_degrees_of_freedom(synthetic):
    X, f = _design(3)
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / n)
    for name, res in (("GD", synthetic.gd), ("SAM", synthetic.sam)):
        matched = synthetic.matched[name]
        target = res.dof[res.oracle_index]
        # sklearn's Ridge: ||y - Xw||^2 + alpha ||w||^2, filter lam / (lam + alpha / n)
        ridge_dof = 1 + np.sum(lam / (lam + matched.alpha / n))
        assert ridge_dof == pytest.approx(target, rel=1e-6)
        assert matched.rule == pytest.approx(
            n / (synthetic.learning_rate * matched.n_iter)
        )
        # The smoother trace of the fitted Ridge agrees (fit the n unit vectors).
        smoother = Ridge(alpha=matched.alpha).fit(X, np.eye(n)).predict(X)
        assert np.trace(smoother) == pytest.approx(target, rel=1e-6)


def _run_cli(args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "sksam", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow  # a subprocess or the gallery
def test_output_dir_that_cannot_be_created_is_a_usage_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    proc = _run_cli(["--quick", "--output-dir", str(blocker / "figures")], tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("usage: python -m sksam")
    assert f"argument --output-dir: cannot create directory '{blocker}" in proc.stderr
    assert proc.stdout == ""  # failed before computing anything
    # An existing file given as the directory is refused too (through main()).
    with pytest.raises(SystemExit) as exc:
        _demo.main(["--quick", "--output-dir", str(blocker)])
    assert exc.value.code == 2


@pytest.mark.parametrize("seed", ["-1", "abc"])
def test_unusable_seed_is_a_usage_error(seed, capsys):
    with pytest.raises(SystemExit) as exc:
        _demo.main(["--seed", seed])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: must be a non-negative integer" in err


def test_diabetes_part_reports_library_scores():
    res = _demo.diabetes_part(seed=1, quick=True)
    assert len(res.models) == 5
    # RidgeCV's default leave-one-out is timed too, scored by R^2 like the others.
    loo = res.models["RidgeCV (leave-one-out)"][-1]
    assert loo.cv is None and 0 < loo.best_score_ < 1
    for name, model in res.models.items():
        assert name in res.table
        assert f"{model[-1].best_score_:.4g}" in res.table
    for n_iters, r2, chosen in res.test_curves.values():
        assert chosen in n_iters
        assert r2.shape == n_iters.shape and np.all(r2 < 1)


def test_gd_at_its_own_step_reaches_the_same_best_risk(synthetic):
    # GD's automatic step 1 / lam_max is (1 + RHO_SCALE) times SAM's: the same fit
    # in about that many times fewer steps.
    assert synthetic.gd_own_learning_rate == pytest.approx(
        (1 + _demo.RHO_SCALE) * synthetic.learning_rate
    )
    own, shared = synthetic.gd_own, synthetic.gd
    best_own = own.expected_loss[own.oracle_index]
    best_shared = shared.expected_loss[shared.oracle_index]
    assert best_own == pytest.approx(best_shared, rel=0.02)
    assert own.oracle_param < shared.oracle_param


def test_diabetes_degrees_of_freedom_and_grid_ends():
    from sklearn.preprocessing import StandardScaler

    res = _demo.diabetes_part(seed=3)
    # seed 3: least squares wins; every selection sits at an end of its grid, and
    # the table says which (the RidgeCV grid's smallest alpha, the SAM/GD paths'
    # converged end), without a warning.
    ridge = res.models["RidgeCV (same folds)"]
    assert res.grid_end["RidgeCV (same folds)"] == "lower"
    for name, model in res.models.items():
        if name.endswith("(SAMRegressorCV)"):
            assert res.grid_end[name] == "converged"
            assert model[-1].n_iter_at_edge_ is None
        assert f"{res.dof[name]:.4g}" in res.table
    # The dof of a selected model is the trace of its smoother (fit n unit vectors).
    X, y = load_diabetes(return_X_y=True)
    X_train = train_test_split(X, y, test_size=0.25, random_state=3)[0]
    X_scaled = StandardScaler().fit_transform(X_train)
    n = len(X_train)
    for name, model in res.models.items():
        final = model[-1]
        base = (
            Ridge(alpha=final.alpha_)
            if name.startswith("RidgeCV")
            else final.best_estimator_
        )
        smoother = base.fit(X_scaled, np.eye(n)).predict(X_scaled)
        assert np.trace(smoother) == pytest.approx(res.dof[name], rel=1e-6)
    assert ridge[-1].alpha_ == pytest.approx(1e-3)
