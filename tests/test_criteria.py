"""SAMRegressorIC / SAMKernelRidgeIC against explicit smoother matrices and refits."""

import warnings

import numpy as np
import pytest
from _data import spread_spectrum_data
from _reference import kernel_sam, linear_sam
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoLarsIC
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils._param_validation import InvalidParameterError

from sksam import (
    SAMKernelRidge,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorIC,
    bias_variance_decomposition,
)

GRID = np.array([0, 1, 3, 10, 30])
RHOS = (0.0, 0.5, 3.0)
CRITERIA = ("cp", "aic", "bic", "discrepancy")


def make_problem(n=30, d=5, seed=0, noise=0.5, n_targets=None):
    """A design with a spread spectrum and a signal that needs early stopping."""
    X, y, f, _ = spread_spectrum_data(
        n, d, n_targets=n_targets, decay=0.05, noise=noise, seed=seed
    )
    return X, f, y


def frequency(n, weighted):
    return np.random.default_rng(1).uniform(0.5, 2.0, n) if weighted else np.ones(n)


def centring(n, s, fit_intercept):
    """``I - 1 s^T / S`` (weighted centring), or the identity."""
    return np.eye(n) - np.outer(np.ones(n), s) / s.sum() if fit_intercept else np.eye(n)


def explicit_linear_smoothers(X, s, eta, rho, steps, fit_intercept):
    """Training smoother matrices ``A_k`` (fitted = ``A_k y``) by the plain loop
    (``_reference.linear_sam``) on the targets ``y = e_j``, each as if alone."""
    n = X.shape[0]
    coefs, intercepts, _ = linear_sam(
        X, np.eye(n), eta, rho, steps, fit_intercept=fit_intercept, sample_weight=s
    )
    return [X @ W + b for W, b in zip(coefs, intercepts, strict=True)]


def explicit_kernel_smoothers(K, s, eta, rho, steps, fit_intercept):
    """The same for the plain dual loop (``_reference.kernel_sam``)."""
    preds, _ = kernel_sam(
        K, np.eye(K.shape[0]), eta, rho, steps, K_eval=K,
        fit_intercept=fit_intercept, sample_weight=s,
    )  # fmt: skip
    return list(preds)


def explicit_criteria(smoothers_by_rho, y, s, sigma2, tau=1.0):
    """Criterion arrays (n_rhos, n_iters) from smoother matrices, by the formulas."""
    S = s.sum()
    rss = np.array([[s @ (y - A @ y) ** 2 for A in row] for row in smoothers_by_rho])
    dof = np.array([[np.trace(A) for A in row] for row in smoothers_by_rho])
    log_term = S * np.log(2 * np.pi * sigma2)
    return (
        rss,
        dof,
        {
            "cp": rss / S + 2 * sigma2 * dof / S,
            "aic": log_term + rss / sigma2 + 2 * dof,
            "bic": log_term + rss / sigma2 + np.log(S) * dof,
            "discrepancy": rss / S - tau * sigma2,
        },
    )


def least_squares_noise(X, y, s, fit_intercept):
    C = centring(X.shape[0], s, fit_intercept)
    Xs, ys = np.sqrt(s)[:, None] * (C @ X), np.sqrt(s) * (C @ y)
    coef = np.linalg.lstsq(Xs, ys, rcond=None)[0]
    rank = np.linalg.matrix_rank(Xs)
    return np.sum((ys - Xs @ coef) ** 2) / (s.sum() - rank - fit_intercept)


def top_eigenvalue(M, s, fit_intercept, kernel=False):
    C = centring(M.shape[0], s, fit_intercept)
    if kernel:
        scaled = np.sqrt(s)[:, None] * (C @ M @ C.T) * np.sqrt(s)[None, :]
    else:
        scaled = (C @ M).T @ (s[:, None] * (C @ M))
    return np.linalg.eigvalsh(scaled / s.sum())[-1]


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_criteria_match_explicit_smoothers(criterion, weighted, fit_intercept):
    X, _, y = make_problem()
    s = frequency(X.shape[0], weighted)
    lam_max = top_eigenvalue(X, s, fit_intercept)
    smoothers = [
        explicit_linear_smoothers(
            X, s, 1 / (lam_max * (1 + rho * lam_max)), rho, list(GRID), fit_intercept
        )
        for rho in RHOS
    ]
    sigma2 = least_squares_noise(X, y, s, fit_intercept)
    rss, dof, expected = explicit_criteria(smoothers, y, s, sigma2, tau=1.5)
    model = fit_search(
        SAMRegressorIC(
            GRID,
            RHOS,
            criterion=criterion,
            discrepancy_tau=1.5,
            fit_intercept=fit_intercept,
        ),
        X,
        y,
        sample_weight=s if weighted else None,
    )
    assert_allclose(model.noise_variance_, sigma2, rtol=1e-10)
    assert_allclose(model.dof_, dof, rtol=1e-10)
    assert_allclose(model.criterion_, expected[criterion], rtol=1e-8, atol=1e-10)
    assert_array_equal(model.n_iters_, GRID)
    assert_array_equal(model.rhos_, RHOS)
    if criterion != "discrepancy":
        r, k = np.unravel_index(np.argmin(expected[criterion]), dof.shape)
        assert (model.rho_, model.n_iter_) == (RHOS[r], GRID[k])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_noise_estimate_equals_lasso_lars_ic(fit_intercept):
    X, _, y = make_problem(n=50, d=8, seed=4)
    ours = fit_search(SAMRegressorIC(GRID, RHOS, fit_intercept=fit_intercept), X, y)
    theirs = LassoLarsIC(fit_intercept=fit_intercept).fit(X, y)
    assert_allclose(ours.noise_variance_, theirs.noise_variance_, rtol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_kernel_criteria_and_gcv_noise_rule_match_explicit_smoothers(weighted):
    X, _, y = make_problem(n=25, d=2, noise=0.3)
    s = frequency(X.shape[0], weighted)
    K = rbf_kernel(X, gamma=0.5)
    lam_max = top_eigenvalue(K, s, True, kernel=True)
    smoothers = [
        explicit_kernel_smoothers(
            K, s, 1 / (lam_max * (1 + rho * lam_max)), rho, list(GRID), True
        )
        for rho in RHOS
    ]
    rss, dof, _ = explicit_criteria(smoothers, y, s, 1.0)
    S = s.sum()
    gcv = (rss / S) / (1 - dof / S) ** 2
    best = np.unravel_index(np.argmin(gcv), gcv.shape)
    sigma2 = rss[best] / (S - dof[best])
    _, _, expected = explicit_criteria(smoothers, y, s, sigma2)
    for criterion in CRITERIA:
        model = SAMKernelRidgeIC(
            GRID, RHOS, criterion=criterion, kernel="rbf", gamma=0.5
        ).fit(X, y, sample_weight=s if weighted else None)
        assert_allclose(model.noise_variance_, sigma2, rtol=1e-9)
        assert_allclose(model.dof_, dof, rtol=1e-9)
        assert_allclose(model.criterion_, expected[criterion], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "kernel, estimated", [(False, False), (False, True), (True, False)]
)
def test_cp_is_unbiased_for_the_exact_risk_curve(kernel, estimated):
    """Mean Cp over noise draws = bias^2 + variance + noise (method="exact").

    Exact for a known sigma^2 and for the unbiased least-squares estimate of the
    linear model (the dof do not depend on y); the kernel's GCV rule is not unbiased.
    """
    X, f, _ = make_problem(n=40, d=6)
    sigma, rho, n_draws = 0.5, 0.5, 200
    grid = np.array([1, 3, 10, 30, 100, 1000])
    if kernel:
        base = SAMKernelRidge(rho=rho, kernel="rbf", gamma=0.3)
        search = SAMKernelRidgeIC(grid, (rho,), kernel="rbf", gamma=0.3)
    else:
        base, search = SAMRegressor(rho=rho), SAMRegressorIC(grid, (rho,))
    if not estimated:
        search.set_params(noise_variance=sigma**2)
    truth = bias_variance_decomposition(
        base, X, None, X, f_train=f, f_test=f, noise_std=sigma,
        param_name="n_iter", param_range=grid,
    ).expected_loss  # fmt: skip
    rng = np.random.default_rng(42)
    draws = np.array(
        [
            fit_search(search, X, f + sigma * rng.standard_normal(f.shape)).criterion_[
                0
            ]
            for _ in range(n_draws)
        ]
    )
    error = np.abs(draws.mean(axis=0) - truth)
    standard_error = draws.std(axis=0, ddof=1) / np.sqrt(n_draws)
    assert np.all(error < 4 * standard_error + 1e-12), (error, standard_error)
    risk = truth - sigma**2  # the curve is not flat: the check has power
    assert risk.max() > 3 * risk.min()


@pytest.mark.parametrize("tau", [1.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_discrepancy_index_matches_brute_force_scan(tau, weighted):
    X, _, y = make_problem(n=40, d=6, seed=3)
    s = frequency(X.shape[0], weighted)
    sw = s if weighted else None
    grid = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
    sigma2 = SAMRegressorIC(grid, RHOS).fit(X, y, sample_weight=sw).noise_variance_
    stops = []
    for rho in RHOS:
        mean_sq = [
            s
            @ (y - SAMRegressor(rho=rho, n_iter=k).fit(X, y, sw).predict(X)) ** 2
            / s.sum()
            for k in grid
        ]
        first = int(np.argmax(np.array(mean_sq) <= tau * sigma2))
        assert mean_sq[first] <= tau * sigma2 and first > 0
        stops.append(first)
        single = SAMRegressorIC(
            grid, (rho,), criterion="discrepancy", discrepancy_tau=tau
        ).fit(X, y, sample_weight=sw)
        assert single.n_iter_ == grid[first]
    # Across rhos: the stopped model with the smallest Cp.
    cp = SAMRegressorIC(grid, RHOS).fit(X, y, sample_weight=sw).criterion_
    best = int(np.argmin([cp[r, k] for r, k in enumerate(stops)]))
    model = SAMRegressorIC(
        grid, RHOS, criterion="discrepancy", discrepancy_tau=tau
    ).fit(X, y, sample_weight=sw)
    assert (model.rho_, model.n_iter_) == (RHOS[best], grid[stops[best]])


def test_discrepancy_not_reached_warns_and_uses_the_last_step():
    X, _, y = make_problem()
    model = SAMRegressorIC([1, 2], RHOS, criterion="discrepancy", noise_variance=1e-9)
    with pytest.warns(ConvergenceWarning, match="discrepancy_tau"):
        fit_search(model, X, y)
    assert model.n_iter_ == 2
    assert np.all(model.criterion_ > 0)


@pytest.mark.parametrize("kernel", [False, True])
def test_selected_model_equals_a_refit(kernel):
    X, _, y = make_problem(n=30, d=4, n_targets=2)
    s = frequency(X.shape[0], True)
    if kernel:
        model = SAMKernelRidgeIC(GRID, RHOS, kernel="rbf", gamma=0.5)
        attrs = ("dual_coef_", "intercept_", "learning_rate_", "n_iter_", "X_fit_")
    else:
        model = SAMRegressorIC(GRID, RHOS, criterion="bic")
        attrs = ("coef_", "intercept_", "learning_rate_", "n_iter_")
    fit_search(model, X, y, sample_weight=s)
    base = model.best_estimator_
    assert (base.rho, base.n_iter, base.solver) == (
        model.rho_,
        model.n_iter_,
        "spectral",
    )
    refit = type(base)(**base.get_params()).fit(X, y, sample_weight=s)
    for name in attrs:
        assert_array_equal(getattr(base, name), getattr(refit, name))
        if name != "n_iter_":
            assert_array_equal(getattr(model, name), getattr(refit, name))
    assert_array_equal(model.predict(X[:7]), refit.predict(X[:7]))
    for a, b in zip(
        model.staged_predict(X[:7]), refit.staged_predict(X[:7]), strict=True
    ):
        assert_array_equal(a, b)
    auto = type(base)(**{**base.get_params(), "solver": "auto"}).fit(X, y, s)
    assert_allclose(model.predict(X), auto.predict(X), rtol=1e-10)


def test_linear_kernel_selects_what_the_linear_model_selects():
    X, _, y = make_problem(n=30, d=4, seed=5)
    for criterion in CRITERIA:
        lin = SAMRegressorIC(GRID, RHOS, criterion=criterion, noise_variance=0.3)
        ker = SAMKernelRidgeIC(GRID, RHOS, criterion=criterion, noise_variance=0.3)
        fit_search(lin, X, y)
        fit_search(ker, X, y)
        assert (lin.rho_, lin.n_iter_) == (ker.rho_, ker.n_iter_)
        assert_allclose(lin.criterion_, ker.criterion_, rtol=1e-9)
        assert_allclose(lin.dof_, ker.dof_, rtol=1e-9)
        assert_allclose(lin.predict(X), ker.predict(X), rtol=1e-9)


def test_integer_weights_equal_repeated_rows():
    X, _, y = make_problem(n=20, d=3)
    counts = np.random.default_rng(2).integers(1, 4, X.shape[0])
    Xr, yr = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    for criterion in CRITERIA:
        weighted = fit_search(
            SAMRegressorIC(GRID, RHOS, criterion=criterion), X, y, counts
        )
        repeated = fit_search(SAMRegressorIC(GRID, RHOS, criterion=criterion), Xr, yr)
        assert_allclose(weighted.noise_variance_, repeated.noise_variance_, rtol=1e-9)
        assert_allclose(weighted.criterion_, repeated.criterion_, rtol=1e-9, atol=1e-12)
        assert (weighted.rho_, weighted.n_iter_) == (repeated.rho_, repeated.n_iter_)


def test_multi_output_averages_per_target_criteria():
    X, _, Y = make_problem(n=40, d=5, n_targets=3)
    Y[:, 1] *= 10.0  # very different noise levels per target
    grid = np.append(GRID, 1000)
    for criterion in CRITERIA:
        both = fit_search(SAMRegressorIC(grid, RHOS, criterion=criterion), X, Y)
        alone = [
            fit_search(SAMRegressorIC(grid, RHOS, criterion=criterion), X, Y[:, j])
            for j in range(3)
        ]
        assert_allclose(both.noise_variance_, [m.noise_variance_ for m in alone])
        assert_allclose(
            both.criterion_, np.mean([m.criterion_ for m in alone], axis=0), rtol=1e-10
        )
        assert both.coef_.shape == (3, 5)


def test_aic_selects_like_cp_and_defaults():
    X, _, y = make_problem(n=60, d=8, seed=7)
    cp = fit_search(SAMRegressorIC(criterion="cp"), X, y)
    aic = fit_search(SAMRegressorIC(criterion="aic"), X, y)
    assert (cp.rho_, cp.n_iter_) == (aic.rho_, aic.n_iter_)
    S, sigma2 = X.shape[0], cp.noise_variance_
    assert_allclose(
        aic.criterion_, S * np.log(2 * np.pi * sigma2) + S * cp.criterion_ / sigma2
    )
    # Scale-free defaults: rho in units of 1 / lam_max, steps to the converged path.
    Xc = X - X.mean(axis=0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / S)
    lam_max, lam_min = lam[-1], lam[lam >= 1e-6 * lam[-1]].min()
    assert_allclose(cp.rhos_, np.array([0.0, 0.1, 1.0, 10.0]) / lam_max, rtol=1e-10)
    assert_allclose(cp.rho_unit_, 1 / lam_max, rtol=1e-10)
    rho = cp.rhos_[-1]
    eta = 1 / (lam_max * (1 + rho * lam_max))
    last = np.ceil(np.log(1e-3) / np.log1p(-eta * lam_min * (1 + rho * lam_min)))
    assert cp.n_iters_[:10].tolist() == list(range(1, 11))
    assert cp.n_iters_[-1] == last and np.all(np.diff(cp.n_iters_) > 0)
    long = cp.n_iters_[cp.n_iters_ >= 100]
    assert np.all(long[1:] / long[:-1] < 1.13)  # 20 a decade
    assert cp.criterion_.shape == cp.dof_.shape == (4, cp.n_iters_.size)
    # degrees of freedom grow from 1 (intercept) to the least-squares count
    assert np.all(np.diff(cp.dof_, axis=1) >= 0) and np.all(cp.dof_ <= 9 + 1e-9)


def test_noiseless_data_keep_finite_criteria():
    X, f, _ = make_problem(n=30, d=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Noiseless data pick the last point of GRID, short of the converged path:
        # the one warning expected (the edge-of-grid rule), checked by fit_search.
        for criterion in ("cp", "aic", "bic"):
            model = fit_search(SAMRegressorIC(GRID, RHOS, criterion=criterion), X, f)
            assert model.n_iter_at_edge_ == "upper"
            assert np.all(np.isfinite(model.criterion_))
            assert 0 < model.noise_variance_ < 1e-12
        constant = SAMKernelRidgeIC(GRID, RHOS, criterion="aic").fit(X, np.ones(30))
    with pytest.warns(ConvergenceWarning, match="discrepancy"):
        fit_search(SAMRegressorIC(GRID, RHOS, criterion="discrepancy"), X, f)
    assert np.all(np.isfinite(constant.criterion_))
    assert constant.n_iter_ == 0


def test_clear_errors():
    X, _, y = make_problem(n=10, d=12)
    # p >= n: no least-squares residual; the GCV rule of the kernel estimators.
    with pytest.warns(UserWarning, match="GCV minimiser"):
        model = SAMRegressorIC().fit(X, y)
    kernel = SAMKernelRidgeIC(kernel="linear").fit(X, y)
    assert_allclose(model.noise_variance_, kernel.noise_variance_, rtol=1e-8)
    assert model.n_iter_ == kernel.n_iter_
    assert_allclose(model.rho_, kernel.rho_, rtol=1e-10)
    SAMRegressorIC(noise_variance=0.5).fit(X, y)  # p >= n works with it
    X, _, y = make_problem(n=6, d=5)  # rank 5 + intercept = 6 = n
    with pytest.raises(ValueError, match="n_samples=6"):
        SAMRegressorIC(n_iters=[10**6]).fit(X, y)  # and dof = n: no GCV either
    with pytest.raises(ValueError, match="n_samples=1"):
        SAMKernelRidgeIC(kernel="rbf").fit(X[:1], y[:1])
    for Est in (SAMRegressorIC, SAMKernelRidgeIC):
        with pytest.raises(ValueError, match="unnormalized"):
            Est(variant="normalized").fit(X, y)
        with pytest.raises(InvalidParameterError, match="criterion"):
            Est(criterion="mdl").fit(X, y)
        with pytest.raises(InvalidParameterError, match="noise_variance"):
            Est(noise_variance=0.0).fit(X, y)
        with pytest.raises(ValueError, match="rhos"):
            Est(rhos=(-1.0,), noise_variance=1.0).fit(X, y)
        with pytest.raises(ValueError, match="n_iters"):
            Est(n_iters=[-3], noise_variance=1.0).fit(X, y)


def test_diverging_rho_is_never_selected():
    X, _, y = make_problem()
    lam_max = top_eigenvalue(X, np.ones(30), True)
    eta = 1.5 / lam_max  # stable for rho = 0 only
    with pytest.warns(ConvergenceWarning, match="not stable"):
        model = SAMRegressorIC([1, 10, 1000], (0.0, 5.0), learning_rate=eta).fit(X, y)
    assert model.rho_ == 0.0
    assert not np.all(np.isfinite(model.criterion_[1]))


@pytest.mark.parametrize("shape", [(40, 6), (12, 30)])
def test_sparse_input_selects_like_dense(shape):
    X, _, y = make_problem(*shape, seed=6)
    X[np.abs(X) < 0.3 * np.abs(X).max(axis=0)] = 0.0
    params = {"n_iters": GRID, "rhos": RHOS, "noise_variance": 0.2}
    dense = fit_search(SAMRegressorIC(**params), X, y)
    csr = fit_search(SAMRegressorIC(**params), sparse.csr_matrix(X), y)
    assert (dense.rho_, dense.n_iter_) == (csr.rho_, csr.n_iter_)
    assert_allclose(csr.criterion_, dense.criterion_, rtol=1e-9)
    assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)


# One weight semantics (issue 24, point 4): every criterion takes sample weights as
# frequency weights (n = S, the sum of the weights), cv="gcv" included.
LONG_GRID = np.array([0, 1, 3, 10, 30, 100, 1000, 30000])
SEARCH_IDS = ["linear-ic-cp", "linear-ic-bic", "kernel-ic", "linear-gcv", "kernel-gcv"]


def _weight_rule_searches():
    from sksam import SAMKernelRidgeCV, SAMRegressorCV

    return [
        SAMRegressorIC(LONG_GRID, RHOS),
        SAMRegressorIC(LONG_GRID, RHOS, criterion="bic"),
        SAMKernelRidgeIC(LONG_GRID, RHOS, kernel="rbf", gamma=0.5),
        SAMRegressorCV(LONG_GRID, RHOS, cv="gcv"),
        SAMKernelRidgeCV(LONG_GRID, RHOS, cv="gcv", kernel="rbf", gamma=0.5),
    ]


def _selection_summary(model):
    summary = [model.rho_, model.n_iter_]
    for name in ("noise_variance_", "criterion_", "dof_", "best_score_"):
        if hasattr(model, name):
            summary.append(np.asarray(getattr(model, name), dtype=float))
    return summary


def _assert_same_selection(got, expected):
    assert got[:2] == expected[:2]
    for a, b in zip(got[2:], expected[2:], strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("search", _weight_rule_searches(), ids=SEARCH_IDS)
@pytest.mark.parametrize("c", [2, 3])
def test_uniform_integer_weights_equal_repeated_rows(search, c):
    # The short grid: rho does not matter on a converged path, where the
    # criteria of different rhos tie to rounding.
    search = clone(search).set_params(n_iters=GRID)
    X, _, y = make_problem(n=20, d=6, seed=2)
    expected = _selection_summary(fit_search(search, np.tile(X, (c, 1)), np.tile(y, c)))
    got = _selection_summary(fit_search(search, X, y, sample_weight=np.full(20, c)))
    _assert_same_selection(got, expected)


@pytest.mark.parametrize("search", _weight_rule_searches(), ids=SEARCH_IDS)
def test_zero_weight_equals_dropping_the_row(search):
    X, _, y = make_problem(n=40, d=6, seed=2)
    s = np.random.default_rng(3).integers(1, 4, 40).astype(float)
    s[[4, 17]] = 0.0
    keep = s > 0
    expected = _selection_summary(
        fit_search(search, X[keep], y[keep], sample_weight=s[keep])
    )
    got = _selection_summary(fit_search(search, X, y, sample_weight=s))
    _assert_same_selection(got, expected)
    # ... and integer weights are repeated rows, for GCV as for the IC.
    rows = np.repeat(np.arange(40), s.astype(int))
    _assert_same_selection(
        _selection_summary(fit_search(search, X[rows], y[rows])), got
    )
