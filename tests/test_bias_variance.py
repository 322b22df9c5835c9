"""Tests of bias_variance_decomposition against explicit loops and closed forms."""

import sys

import numpy as np
import pytest
from _reference import linear_sam
from joblib import parallel_config
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.feature_selection import SelectKBest, f_regression
from sklearn.kernel_approximation import Nystroem
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from sksam import SAMKernelRidge, SAMRegressor, bias_variance_decomposition
from sksam._bias_variance_fits import _smoother_exact

RTOL = 1e-8
SIGMA = 0.7


def make_problem(n=40, d=6, n_test=25, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d)
    X_test = rng.standard_normal((n_test, d))
    w = rng.standard_normal(d)
    return X, X_test, w, X @ w + 0.3, X_test @ w + 0.3


def risks_from_smoother(A_test, A_train, f_train, f_test, offset=0.0):
    """Exact bias^2, variance, dof of predictions ``A y + offset``."""
    bias2 = np.mean((A_test @ f_train + offset - f_test) ** 2)
    var = SIGMA**2 * np.mean(np.sum(A_test**2, axis=1))
    return bias2, var, np.trace(A_train)


def sam_loop_smoothers(X, X_test, eta, rho, steps, fit_intercept):
    """The plain loop (``_reference.linear_sam``) on the unit-vector targets.

    Returns, for each step in ``steps``, the test and training smoother matrices and
    the coefficient smoother ``W`` (coef = W y).
    """
    n = X.shape[0]
    coefs, intercepts, _ = linear_sam(
        X, np.eye(n), eta, rho, steps, fit_intercept=fit_intercept
    )
    return {
        k: (X_test @ W + b, X @ W + b, W)
        for k, W, b in zip(steps, coefs, intercepts, strict=True)
    }


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_sam_exact_matches_design_sums(fit_intercept, rho):
    X, _, _, f, _ = make_problem()
    n = X.shape[0]
    Xc = X - X.mean(axis=0) if fit_intercept else X
    mu, U = np.linalg.eigh(Xc @ Xc.T / n)  # all n eigenpairs (zeros included)
    mu = np.clip(mu, 0, None)
    eta = 0.8 / (mu.max() * (1 + rho * mu.max()))
    steps = np.array([0, 1, 2, 5, 20, 100, 1000])
    est = SAMRegressor(rho=rho, learning_rate=eta, fit_intercept=fit_intercept)
    res = bias_variance_decomposition(
        est, X, None, X, f_train=f, f_test=f, noise_std=SIGMA,
        param_name="n_iter", param_range=steps,
    )  # fmt: skip
    r = 1 - eta * mu * (1 + rho * mu)
    fc = f - f.mean() if fit_intercept else f
    coords = (U.T @ fc) ** 2
    bias2 = np.array([np.sum(r ** (2 * k) * coords) / n for k in steps])
    var = np.array([SIGMA**2 / n * np.sum((1 - r**k) ** 2) for k in steps])
    dof = np.array([np.sum(1 - r**k) for k in steps])
    if fit_intercept:
        var += SIGMA**2 / n
        dof += 1
    np.testing.assert_allclose(res.bias_squared, bias2, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(res.variance, var, rtol=RTOL)
    np.testing.assert_allclose(res.dof, dof, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(res.noise, SIGMA**2)
    np.testing.assert_allclose(res.expected_loss, bias2 + var + SIGMA**2, rtol=RTOL)
    assert res.oracle_index == np.argmin(res.expected_loss)
    assert res.oracle_param == steps[res.oracle_index]


@pytest.mark.parametrize("shape", [(40, 6), (15, 30)])  # primal and dual factor
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sam_exact_matches_explicit_loop(shape, fit_intercept):
    X, X_test, w, f, f_test = make_problem(*shape)
    rho, eta = 0.3, 0.02
    steps = [0, 1, 3, 10, 40]
    res = bias_variance_decomposition(
        SAMRegressor(rho=rho, learning_rate=eta, fit_intercept=fit_intercept),
        X, None, X_test, f_train=f, f_test=f_test, noise_std=SIGMA,
        param_name="n_iter", param_range=steps, coef_true=w,
    )  # fmt: skip
    loops = sam_loop_smoothers(X, X_test, eta, rho, steps, fit_intercept)
    for j, k in enumerate(steps):
        A_test, A_train, W = loops[k]
        bias2, var, dof = risks_from_smoother(A_test, A_train, f, f_test)
        np.testing.assert_allclose(res.bias_squared[j], bias2, rtol=RTOL)
        np.testing.assert_allclose(res.variance[j], var, rtol=RTOL)
        np.testing.assert_allclose(res.dof[j], dof, rtol=RTOL, atol=1e-12)
        coef_bias2 = np.sum((W @ f - w) ** 2)
        coef_var = SIGMA**2 * np.sum(W**2)
        np.testing.assert_allclose(res.coef_bias_squared[j], coef_bias2, rtol=RTOL)
        np.testing.assert_allclose(res.coef_variance[j], coef_var, rtol=RTOL)
        np.testing.assert_allclose(res.coef_risk[j], coef_bias2 + coef_var, rtol=RTOL)


def test_kernel_sam_exact_matches_explicit_dual_loop():
    X, X_test, _, _, _ = make_problem(n=30, d=2)
    f, f_test = np.sin(X[:, 0]) + X[:, 1], np.sin(X_test[:, 0]) + X_test[:, 1]
    n, rho, eta, gamma = X.shape[0], 0.5, 0.3, 0.4
    steps = [1, 4, 25]
    res = bias_variance_decomposition(
        SAMKernelRidge(rho=rho, kernel="rbf", gamma=gamma, learning_rate=eta),
        X, None, X_test, f_train=f, f_test=f_test, noise_std=SIGMA,
        param_name="n_iter", param_range=steps,
    )  # fmt: skip
    # Explicit dual loop (the kernel update rule) on the feature-space-centred kernel.
    C = np.eye(n) - 1.0 / n
    K, K_test = rbf_kernel(X, gamma=gamma), rbf_kernel(X_test, X, gamma=gamma)
    Kc = C @ K @ C
    K_test_c = (K_test - K.mean(axis=0)) @ C
    alpha = np.zeros((n, n))
    for k in range(1, max(steps) + 1):
        alpha -= eta * (np.eye(n) + rho * Kc / n) @ (Kc @ alpha - C) / n
        if k in steps:
            j = steps.index(k)
            bias2, var, dof = risks_from_smoother(
                K_test_c @ alpha + 1.0 / n, Kc @ alpha + 1.0 / n, f, f_test
            )
            np.testing.assert_allclose(res.bias_squared[j], bias2, rtol=RTOL)
            np.testing.assert_allclose(res.variance[j], var, rtol=RTOL)
            np.testing.assert_allclose(res.dof[j], dof, rtol=RTOL)


def test_linear_kernel_sam_equals_sam_regressor():
    X, X_test, _, f, f_test = make_problem()
    kwargs = dict(f_train=f, f_test=f_test, noise_std=SIGMA, param_name="n_iter")
    steps = [1, 10, 100]
    lin = bias_variance_decomposition(
        SAMRegressor(rho=0.2), X, None, X_test, param_range=steps, **kwargs
    )
    ker = bias_variance_decomposition(
        SAMKernelRidge(rho=0.2), X, None, X_test, param_range=steps, **kwargs
    )
    for key in ("bias_squared", "variance", "dof"):
        np.testing.assert_allclose(lin[key], ker[key], rtol=1e-7)


def ridge_smoother(Xc, Z, alpha):
    """Test smoother of a centred ridge fit: Z (X_c^T X_c + alpha I)^-1 X_c^T."""
    d = Xc.shape[1]
    return Z @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(d), Xc.T)


def test_ridge_matches_direct_smoother():
    X, X_test, w, f, f_test = make_problem()
    n = X.shape[0]
    alphas = [0.01, 1.0, 30.0]
    res = bias_variance_decomposition(
        Ridge(), X, None, X_test, f_train=f, f_test=f_test, noise_std=SIGMA,
        param_name="alpha", param_range=alphas, coef_true=w,
    )  # fmt: skip
    x_mean = X.mean(axis=0)
    Xc = X - x_mean
    for j, alpha in enumerate(alphas):
        A_test = ridge_smoother(Xc, X_test - x_mean, alpha) + 1.0 / n
        A_train = ridge_smoother(Xc, Xc, alpha) + 1.0 / n
        bias2, var, dof = risks_from_smoother(A_test, A_train, f, f_test)
        np.testing.assert_allclose(res.bias_squared[j], bias2, rtol=1e-7)
        np.testing.assert_allclose(res.variance[j], var, rtol=1e-7)
        np.testing.assert_allclose(res.dof[j], dof, rtol=1e-7)
        W = ridge_smoother(Xc, np.eye(X.shape[1]), alpha)
        np.testing.assert_allclose(
            res.coef_bias_squared[j], np.sum((W @ f - w) ** 2), rtol=1e-7
        )
        np.testing.assert_allclose(res.coef_variance[j], SIGMA**2 * np.sum(W**2))


def test_kernel_ridge_linear_regression_and_pipeline_match_direct_smoothers():
    X, X_test, _, f, f_test = make_problem(n=30, d=3)
    f, f_test = f + np.sin(2 * X[:, 0]), f_test + np.sin(2 * X_test[:, 0])  # biased
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA)
    n = X.shape[0]

    K, K_test = rbf_kernel(X, gamma=0.3), rbf_kernel(X_test, X, gamma=0.3)
    inv = np.linalg.inv(K + 0.5 * np.eye(n))
    res = bias_variance_decomposition(
        KernelRidge(alpha=0.5, kernel="rbf", gamma=0.3), X, None, X_test, **kw
    )
    expected = risks_from_smoother(K_test @ inv, K @ inv, f, f_test)
    np.testing.assert_allclose((res.bias_squared, res.variance, res.dof), expected)

    ones = np.ones((n, 1))
    pinv = np.linalg.pinv(np.hstack([ones, X]))
    res = bias_variance_decomposition(LinearRegression(), X, None, X_test, **kw)
    A_test = np.hstack([np.ones((len(X_test), 1)), X_test]) @ pinv
    expected = risks_from_smoother(A_test, np.hstack([ones, X]) @ pinv, f, f_test)
    np.testing.assert_allclose((res.bias_squared, res.variance, res.dof), expected)

    pipe = make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge(alpha=2.0))
    res = bias_variance_decomposition(pipe, X, None, X_test, **kw)
    features = make_pipeline(StandardScaler(), PolynomialFeatures(2)).fit(X)
    Z, Z_test = features.transform(X), features.transform(X_test)
    z_mean = Z.mean(axis=0)
    A_test = ridge_smoother(Z - z_mean, Z_test - z_mean, 2.0) + 1.0 / n
    A_train = ridge_smoother(Z - z_mean, Z - z_mean, 2.0) + 1.0 / n
    expected = risks_from_smoother(A_test, A_train, f, f_test)
    np.testing.assert_allclose((res.bias_squared, res.variance, res.dof), expected)

    nystroem = make_pipeline(Nystroem(n_components=10, random_state=0), Ridge())
    res = bias_variance_decomposition(nystroem, X, None, X_test, **kw)
    assert res.variance > 0 and 0 < res.dof < 11


class SingleOutputRidge(Ridge):
    """Ridge that refuses 2-D targets (exercises the column-by-column route)."""

    def fit(self, X, y, sample_weight=None):
        assert np.ndim(y) == 1
        return super().fit(X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags


def test_single_output_estimator_route_and_nonlinear_error():
    X, X_test, w, f, f_test = make_problem(n=20, d=3)
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA, coef_true=w)
    single = bias_variance_decomposition(SingleOutputRidge(2.0), X, None, X_test, **kw)
    multi = bias_variance_decomposition(Ridge(2.0), X, None, X_test, **kw)
    for key in ("bias_squared", "variance", "dof", "coef_risk"):
        np.testing.assert_allclose(single[key], multi[key], rtol=1e-10)
    with pytest.raises(ValueError, match="SVR is not a deterministic estimator"):
        bias_variance_decomposition(
            SVR(), X, None, X_test, f_train=f, f_test=f_test, noise_std=1.0
        )


@pytest.mark.parametrize(
    "estimator",
    [
        SAMRegressor(rho=0.4, learning_rate=0.05),
        SAMKernelRidge(rho=0.1, kernel="rbf", gamma=0.5, fit_intercept=False),
    ],
)
def test_spectral_route_equals_generic_smoother_route(estimator):
    X, X_test, _, f, f_test = make_problem(n=25, d=4)
    data = Bunch(
        X_train=X, X_test=X_test, f_train=f, target=f_test, noise_var=SIGMA**2,
        n_train=len(X), coef_true=None,
    )  # fmt: skip
    generic = _smoother_exact(estimator.set_params(n_iter=30), data)
    res = bias_variance_decomposition(
        estimator, X, None, X_test, f_train=f, f_test=f_test, noise_std=SIGMA
    )
    got = (res.bias_squared, res.variance, res.dof)
    np.testing.assert_allclose(got, [part[0] for part in generic[:3]], rtol=1e-8)


def test_rho_and_learning_rate_curves_from_one_decomposition():
    X, X_test, w, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA, coef_true=w)
    rhos = [0.0, 0.1, 1.0, 5.0]
    curve = bias_variance_decomposition(
        SAMRegressor(n_iter=15), X, None, X_test, param_name="rho",
        param_range=rhos, **kw,
    )  # fmt: skip
    for j, rho in enumerate(rhos):  # "auto" learning rate depends on rho
        point = bias_variance_decomposition(
            SAMRegressor(n_iter=15, rho=rho, solver="iterative"), X, None, X_test, **kw
        )
        for key in ("bias_squared", "variance", "dof", "coef_risk"):
            np.testing.assert_allclose(curve[key][j], point[key], rtol=1e-8)
    etas = [0.01, 0.05]
    curve = bias_variance_decomposition(
        SAMRegressor(n_iter=15), X, None, X_test, param_name="learning_rate",
        param_range=etas, **kw,
    )  # fmt: skip
    point = bias_variance_decomposition(
        SAMRegressor(n_iter=15, learning_rate=0.05), X, None, X_test, **kw
    )
    np.testing.assert_allclose(curve.variance[1], point.variance, rtol=1e-12)


def test_pipeline_and_sparse_sam_exact():
    X, X_test, _, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA, param_name="n_iter")
    steps = [1, 10, 100]
    scaler = StandardScaler().fit(X)
    direct = bias_variance_decomposition(
        SAMRegressor(rho=0.2), scaler.transform(X), None, scaler.transform(X_test),
        param_range=steps, **kw,
    )  # fmt: skip
    kw["param_name"] = "samregressor__n_iter"
    piped = bias_variance_decomposition(
        make_pipeline(StandardScaler(), SAMRegressor(rho=0.2)), X, None, X_test,
        param_range=steps, **kw,
    )  # fmt: skip
    np.testing.assert_allclose(piped.variance, direct.variance, rtol=1e-10)
    np.testing.assert_allclose(piped.bias_squared, direct.bias_squared, rtol=1e-10)
    kw["param_name"] = "n_iter"
    dense = bias_variance_decomposition(
        SAMRegressor(), X, None, X_test, param_range=steps, **kw
    )
    sparse_res = bias_variance_decomposition(
        SAMRegressor(), sparse.csr_matrix(X), None, sparse.csr_matrix(X_test),
        param_range=steps, **kw,
    )  # fmt: skip
    np.testing.assert_allclose(sparse_res.variance, dense.variance, rtol=1e-8)
    np.testing.assert_allclose(sparse_res.bias_squared, dense.bias_squared, rtol=1e-8)
    # A parameter of an earlier step: one decomposition per value.
    degrees = bias_variance_decomposition(
        make_pipeline(PolynomialFeatures(), SAMRegressor(n_iter=50)), X, None,
        X_test, f_train=f, f_test=f_test, noise_std=SIGMA,
        param_name="polynomialfeatures__degree", param_range=[1, 2],
    )  # fmt: skip
    one = bias_variance_decomposition(
        SAMRegressor(n_iter=50), X, None, X_test, f_train=f, f_test=f_test,
        noise_std=SIGMA,
    )  # fmt: skip
    np.testing.assert_allclose(degrees.variance[0], one.variance, rtol=1e-8)
    assert degrees.dof[1] > degrees.dof[0]


def test_sam_lower_bias_higher_variance_than_gd_in_monotone_regime():
    X, _, _, f, _ = make_problem(n=60, d=10)
    rho = 2.0
    lam_max = np.linalg.eigvalsh(np.cov(X.T, bias=True)).max()
    eta = 1.0 / (lam_max * (1 + rho * lam_max))  # monotone for SAM, hence for GD
    steps = np.arange(1, 301)
    kw = dict(f_train=f, f_test=f, noise_std=SIGMA, param_name="n_iter")
    sam = bias_variance_decomposition(
        SAMRegressor(rho=rho, learning_rate=eta), X, None, X, param_range=steps, **kw
    )
    gd = bias_variance_decomposition(
        SAMRegressor(rho=0.0, learning_rate=eta), X, None, X, param_range=steps, **kw
    )
    assert np.all(sam.bias_squared < gd.bias_squared)
    assert np.all(sam.variance > gd.variance)


def test_simulate_agrees_with_exact_within_monte_carlo_error():
    X, X_test, w, f, f_test = make_problem(n=50, d=5, n_test=40)
    n_rounds, steps = 400, [0, 2, 10, 50]
    kw = dict(
        f_train=f, f_test=f_test, noise_std=SIGMA, param_name="n_iter",
        param_range=steps, coef_true=w,
    )  # fmt: skip
    est = SAMRegressor(rho=0.5)
    exact = bias_variance_decomposition(est, X, None, X_test, **kw)
    sim = bias_variance_decomposition(
        est, X, None, X_test, method="simulate", n_rounds=n_rounds,
        random_state=0, **kw,
    )  # fmt: skip
    assert sim.dof is None and sim.n_rounds == n_rounds
    # Relative standard error of a variance from R draws is about sqrt(2 / R) = 7%.
    np.testing.assert_allclose(sim.variance, exact.variance, rtol=0.2)
    np.testing.assert_allclose(sim.coef_variance, exact.coef_variance, rtol=0.2)
    # The Monte Carlo bias^2 carries + variance / R, plus noise of that order.
    slack = 6 * exact.variance / n_rounds + 0.05 * exact.bias_squared
    assert np.all(np.abs(sim.bias_squared - exact.bias_squared) <= slack)
    np.testing.assert_allclose(sim.expected_loss, exact.expected_loss, rtol=0.02)


def test_simulate_curve_equals_pointwise_refits_and_jobs():
    # The staged_predict shortcut (here for normalized SAM, which has no exact
    # route) gives what separate refits on the same noise draws give.
    X, X_test, w, f, f_test = make_problem(n=30, d=4)
    est = SAMRegressor(rho=0.05, variant="normalized", learning_rate=0.01)
    kw = dict(
        method="simulate", f_train=f, f_test=f_test, noise_std=SIGMA, n_rounds=5,
        random_state=3, coef_true=w,
    )  # fmt: skip
    steps = [0, 3, 7]
    curve = bias_variance_decomposition(
        est, X, None, X_test, param_name="n_iter", param_range=steps, **kw
    )
    for j, k in enumerate(steps):
        point = bias_variance_decomposition(
            clone(est).set_params(n_iter=k), X, None, X_test, **kw
        )
        for key in ("bias_squared", "variance", "coef_bias_squared", "coef_variance"):
            np.testing.assert_allclose(curve[key][j], point[key], rtol=1e-9, atol=1e-14)
    with parallel_config(backend="threading"):  # the seeds do not depend on n_jobs
        parallel = bias_variance_decomposition(
            est, X, None, X_test, param_name="n_iter", param_range=steps, n_jobs=2, **kw
        )
    np.testing.assert_allclose(parallel.variance, curve.variance, rtol=1e-12)


def test_simulate_stochastic_sam_with_full_batches_equals_full_batch():
    # batch_size >= n_samples reproduces full-batch SAM exactly.
    X, X_test, _, f, f_test = make_problem(n=30, d=4)
    kw = dict(
        method="simulate", f_train=f, f_test=f_test, noise_std=SIGMA, n_rounds=4,
        random_state=0, param_name="n_iter", param_range=[2, 9],
    )  # fmt: skip
    full = bias_variance_decomposition(SAMRegressor(rho=0.2), X, None, X_test, **kw)
    batched = bias_variance_decomposition(
        SAMRegressor(rho=0.2, batch_size=30, random_state=0), X, None, X_test, **kw
    )
    np.testing.assert_allclose(batched.variance, full.variance, rtol=1e-8)
    np.testing.assert_allclose(batched.bias_squared, full.bias_squared, rtol=1e-8)


def test_bootstrap_on_known_model_behaves_as_documented():
    rng = np.random.default_rng(1)
    n, d, n_test, noise = 300, 3, 2000, 0.5
    X, X_test = rng.standard_normal((n, d)), rng.standard_normal((n_test, d))
    w = np.array([1.0, -2.0, 0.5])
    y = X @ w + noise * rng.standard_normal(n)
    y_test = X_test @ w + noise * rng.standard_normal(n_test)
    res = bias_variance_decomposition(
        LinearRegression(), X, y, X_test, y_test, method="bootstrap", n_rounds=60,
        random_state=0, param_name="fit_intercept", param_range=[True, False],
        coef_true=w,
    )  # fmt: skip
    assert res.bias_squared is None and res.noise is None and res.dof is None
    np.testing.assert_allclose(
        res.expected_loss, res.bias_squared_plus_noise + res.variance, rtol=1e-12
    )
    # OLS on the true model is unbiased: "bias^2 + noise" is the test-label noise.
    test_noise = np.mean((y_test - X_test @ w) ** 2)
    np.testing.assert_allclose(res.bias_squared_plus_noise, test_noise, rtol=0.03)
    # Variance of OLS predictions ~ noise^2 (d + 1) / n (random design, roughly).
    assert np.all(res.variance < 3 * noise**2 * (d + 1) / n)
    assert np.all(res.variance > noise**2 * d / n / 3)
    assert np.all(res.coef_risk < 3 * noise**2 * d / n)
    again = bias_variance_decomposition(
        LinearRegression(), X, y, X_test, y_test, method="bootstrap", n_rounds=60,
        random_state=0, param_name="fit_intercept", param_range=[True, False],
    )  # fmt: skip
    np.testing.assert_array_equal(again.variance, res.variance)
    staged = bias_variance_decomposition(
        make_pipeline(StandardScaler(), SAMRegressor()), X, y, X_test, y_test,
        method="bootstrap", n_rounds=10, random_state=0,
        param_name="samregressor__n_iter", param_range=[1, 5, 100],
    )  # fmt: skip
    assert staged.expected_loss[0] > staged.expected_loss[-1]
    # After 100 steps SAM has converged to the least-squares fit.
    np.testing.assert_allclose(
        staged.expected_loss[-1], res.expected_loss[0], rtol=0.02
    )


@pytest.mark.parametrize("method", ["exact", "simulate", "bootstrap"])
@pytest.mark.parametrize(
    "estimator", [SAMRegressor(), Ridge(), make_pipeline(StandardScaler(), Ridge())]
)
def test_estimator_stays_unfitted(estimator, method):
    X, X_test, _, f, f_test = make_problem()
    bias_variance_decomposition(
        estimator, X, f, X_test, f_test, method=method, f_train=f, f_test=f_test,
        noise_std=SIGMA, n_rounds=3, random_state=0,
    )  # fmt: skip
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


def test_without_curve_returns_floats():
    X, X_test, w, f, f_test = make_problem()
    res = bias_variance_decomposition(
        Ridge(), X, None, X_test, f_train=f, f_test=f_test, noise_std=0.0,
        coef_true=w,
    )  # fmt: skip
    assert isinstance(res.bias_squared, float) and res.param_range is None
    assert res.oracle_index is None and res.oracle_param is None
    assert res.variance == 0.0 and res.noise == 0.0
    assert res.expected_loss == res.bias_squared


def test_plot_returns_axes(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, X_test, _, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA, param_name="n_iter")
    sam = bias_variance_decomposition(
        SAMRegressor(rho=1.0), X, None, X_test, param_range=range(0, 50, 5), **kw
    )
    gd = bias_variance_decomposition(
        SAMRegressor(rho=0.0), X, None, X_test, param_range=range(0, 50, 5), **kw
    )
    ax = sam.plot(label="SAM")
    assert gd.plot(ax=ax, label="GD") is ax
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "SAM: expected loss" in texts and "GD: variance" in texts
    assert ax.get_xlabel() == "n_iter"
    plt.close("all")
    no_curve = bias_variance_decomposition(
        Ridge(), X, None, X_test, f_train=f, f_test=f_test, noise_std=SIGMA
    )
    with pytest.raises(ValueError, match="param_name and param_range"):
        no_curve.plot()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sksam\[plot\]"):
        sam.plot()


def test_plot_against_dof_shares_one_axis():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, X_test, _, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA)
    sam = bias_variance_decomposition(
        SAMRegressor(rho=1.0),
        X,
        None,
        X_test,
        param_name="n_iter",
        param_range=range(0, 50, 5),
        **kw,
    )
    ridge = bias_variance_decomposition(
        Ridge(),
        X,
        None,
        X_test,
        param_name="alpha",
        param_range=np.geomspace(1e-2, 1e3, 7),
        **kw,
    )
    ax = sam.plot(x="dof", label="SAM")
    assert ridge.plot(ax=ax, x="dof", label="Ridge") is ax
    assert ax.get_xlabel() == "effective degrees of freedom"
    lines = {line.get_label(): line for line in ax.get_lines()}
    for res, name in ((sam, "SAM"), (ridge, "Ridge")):
        for field, text in (
            ("expected_loss", "expected loss"),
            ("bias_squared", "bias$^2$"),
            ("variance", "variance"),
        ):
            line = lines[f"{name}: {text}"]
            np.testing.assert_array_equal(line.get_xdata(), res.dof)
            np.testing.assert_array_equal(line.get_ydata(), res[field])
    # The oracle marker sits at the dof of the best parameter value.
    markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [m.get_xdata()[0] for m in markers] == [
        sam.dof[sam.oracle_index],
        ridge.dof[ridge.oracle_index],
    ]
    plt.close("all")
    # The default axis is still the parameter.
    ax = sam.plot(components=("variance",))
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), sam.param_range)
    plt.close("all")
    with pytest.raises(ValueError, match="x must be 'param' or 'dof'"):
        sam.plot(x="alpha")


def test_plot_against_dof_needs_exact_dof():
    pytest.importorskip("matplotlib")
    X, X_test, _, f, f_test = make_problem()
    res = bias_variance_decomposition(
        Ridge(),
        X,
        None,
        X_test,
        method="simulate",
        f_train=f,
        f_test=f_test,
        noise_std=SIGMA,
        param_name="alpha",
        param_range=[0.1, 1.0],
        n_rounds=5,
        random_state=0,
    )
    assert res.dof is None
    with pytest.raises(ValueError, match="only method='exact' computes"):
        res.plot(x="dof")


def test_to_frame_has_one_column_per_field(monkeypatch):
    pd = pytest.importorskip("pandas")
    X, X_test, w, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA)
    res = bias_variance_decomposition(
        SAMRegressor(rho=1.0),
        X,
        None,
        X_test,
        param_name="n_iter",
        param_range=[1, 5, 20],
        coef_true=w,
        **kw,
    )
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    assert list(frame.columns) == [
        "n_iter",
        "expected_loss",
        "bias_squared",
        "variance",
        "bias_squared_plus_noise",
        "noise",
        "dof",
        "coef_risk",
        "coef_bias_squared",
        "coef_variance",
    ]
    np.testing.assert_array_equal(frame["n_iter"], [1, 5, 20])
    np.testing.assert_array_equal(frame["variance"], res.variance)
    np.testing.assert_array_equal(frame["noise"], [SIGMA**2] * 3)
    # Without a curve: one row; fields that do not exist are left out.
    single = bias_variance_decomposition(
        Ridge(),
        X,
        X @ w,
        X_test,
        X_test @ w,
        method="bootstrap",
        n_rounds=5,
        random_state=0,
    ).to_frame()
    assert len(single) == 1
    assert set(single.columns) == {
        "expected_loss",
        "variance",
        "bias_squared_plus_noise",
    }
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="to_frame needs pandas"):
        res.to_frame()


def test_repr_is_a_summary():
    X, X_test, _, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA)
    res = bias_variance_decomposition(
        Ridge(),
        X,
        None,
        X_test,
        param_name="alpha",
        param_range=np.geomspace(1e-2, 1e3, 40),
        **kw,
    )
    text = repr(res)
    assert text.startswith("BiasVarianceResult(method='exact'")
    assert "alpha from 0.01 to 1000 (40 points)" in text
    i = res.oracle_index
    assert f"oracle alpha={res.oracle_param:.4g}:" in text
    assert f"dof={res.dof[i]:.4g}" in text
    assert "fields: expected_loss, bias_squared, variance" in text
    assert "array" not in text and "[" not in text  # no raw array dumps
    assert len(text.splitlines()) <= 8
    single = bias_variance_decomposition(
        SAMRegressor(),
        X,
        None,
        X_test,
        method="simulate",
        n_rounds=5,
        random_state=0,
        **kw,
    )
    text = repr(single)
    assert "method='simulate'" in text and "n_rounds=5" in text
    assert f"variance={single.variance:.4g}" in text and "dof" not in text


def test_clear_errors():
    X, X_test, w, f, f_test = make_problem()
    kw = dict(f_train=f, f_test=f_test, noise_std=SIGMA)
    with pytest.raises(ValueError, match="normalized SAM is not linear.*simulate"):
        bias_variance_decomposition(
            SAMRegressor(variant="normalized"), X, None, X_test, **kw
        )
    with pytest.raises(ValueError, match="batch_size=None.*simulate"):
        bias_variance_decomposition(SAMRegressor(batch_size=5), X, None, X_test, **kw)
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        sigmoid = SAMKernelRidge(kernel="sigmoid", gamma=0.3, coef0=1.0)
        bias_variance_decomposition(sigmoid, X, None, X_test, **kw)
    with pytest.raises(ValueError, match="early_stopping=False.*simulate"):
        bias_variance_decomposition(
            SAMKernelRidge(early_stopping=True), X, None, X_test, **kw
        )
    with pytest.raises(ValueError, match="not a deterministic estimator linear"):
        bias_variance_decomposition(
            DecisionTreeRegressor(random_state=0), X, None, X_test, **kw
        )
    with pytest.raises(ValueError, match="fitted on X alone"):
        bias_variance_decomposition(
            make_pipeline(SelectKBest(f_regression, k=2), SAMRegressor()),
            X, None, X_test, **kw,
        )  # fmt: skip
    with pytest.raises(ValueError, match="missing f_test, noise_std"):
        bias_variance_decomposition(Ridge(), X, None, X_test, f_train=f)
    with pytest.raises(ValueError, match="needs the observed y_train and y_test"):
        bias_variance_decomposition(Ridge(), X, f, X_test, method="bootstrap")
    with pytest.raises(ValueError, match=r"f_train must be of shape \(40,\)"):
        bias_variance_decomposition(
            Ridge(), X, None, X_test, f_train=f[:5], f_test=f_test, noise_std=1.0
        )
    with pytest.raises(ValueError, match="must be given together"):
        bias_variance_decomposition(Ridge(), X, None, X_test, param_name="alpha", **kw)
    with pytest.raises(ValueError, match="'n_iters' is not a parameter"):
        bias_variance_decomposition(
            SAMRegressor(), X, None, X_test, param_name="n_iters", param_range=[1], **kw
        )
    with pytest.raises(ValueError, match="non-negative integers"):
        bias_variance_decomposition(
            SAMRegressor(), X, None, X_test, param_name="n_iter",
            param_range=[1.5, 3], **kw,
        )  # fmt: skip
    with pytest.raises(ValueError, match="dual coefficients only"):
        bias_variance_decomposition(
            SAMKernelRidge(), X, None, X_test, coef_true=w, **kw
        )
    with pytest.raises(ValueError, match="coef_true has 2 entries"):
        bias_variance_decomposition(Ridge(), X, None, X_test, coef_true=w[:2], **kw)
    with pytest.raises(ValueError, match="method"):
        bias_variance_decomposition(Ridge(), X, None, X_test, method="mlxtend", **kw)


@pytest.mark.parametrize("through_design", [False, True])
def test_spectral_risk_keeps_accuracy_when_the_bias_cancels(through_design):
    # The Gram shortcut ||T c + e||^2 = c'Gc + 2 (T'e).c + ||e||^2 cancels when the
    # fit is nearly exact; those steps must fall back to the direct error.
    from sksam._core._smoother import project_test_points, spectral_risk

    rng = np.random.default_rng(3)
    test_basis = rng.standard_normal((40, 6))
    proj = rng.standard_normal(6)
    lam = rng.uniform(0.5, 2.0, 6)
    exact_psi = 1.0 / lam  # the fit reproduces f_test exactly at this column
    psi = np.column_stack([0.5 / lam, exact_psi * (1.0 - 1e-7), exact_psi])
    f_test = test_basis @ (exact_psi * proj) + 5.0
    test = project_test_points(
        np.eye(6),
        5.0 - f_test,
        lambda basis: test_basis @ basis,
        test_basis if through_design else None,
    )
    bias_squared, _, _ = spectral_risk(psi, proj, lam, np.ones(6), test, 1.0, None)
    error = test_basis @ (psi * proj[:, None]) + (5.0 - f_test)[:, None]
    expected = np.mean(error**2, axis=0)
    np.testing.assert_allclose(bias_squared, expected, rtol=1e-9, atol=0)
    assert bias_squared[2] < 1e-25


def test_test_points_through_the_design_equal_the_mapped_basis():
    # A tall dense test design takes the route through its Gram M'M (fewer products);
    # it must give the same T'T, T'e and T as forming T = M basis.
    from sksam._core._smoother import project_test_points

    rng = np.random.default_rng(4)
    design = rng.standard_normal((50, 8))
    basis = rng.standard_normal((8, 5))
    shift = rng.standard_normal(50)

    def no_map(coef):
        raise AssertionError("the design route must not call the test map")

    through_design = project_test_points(basis, shift, no_map, design)
    mapped = project_test_points(basis, shift, lambda coef: design @ coef)
    test_basis = design @ basis
    for got in (through_design, mapped):
        np.testing.assert_allclose(got.gram, test_basis.T @ test_basis, rtol=1e-12)
        np.testing.assert_allclose(got.cross, test_basis.T @ shift, rtol=1e-12)
        np.testing.assert_allclose(got.test_basis(), test_basis, rtol=1e-12)
    # A wide design (more parameters than test points) forms T instead.
    wide = rng.standard_normal((3, 8))
    called = []
    project_test_points(basis, shift[:3], lambda c: called.append(1) or wide @ c, wide)
    assert called == [1]
