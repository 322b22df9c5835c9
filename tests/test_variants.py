"""A new SAM variant is one class: test-only variants fit, give paths,
cross-validate and compute exact bias and variance without any registration.

``GramMetricSAM`` perturbs along the Gram metric, ``p = rho H g``
(``H = X^T diag(s) X / S``, the kernel's ``K_s / S`` in function space): diagonal in
the eigenbasis, with the exact filter of ``mu(lam) = lam (1 + rho lam^2)``.
``CoordinateMetricSAM`` perturbs with a fixed diagonal metric of the coordinates,
``p = rho D g``: linear in ``y`` but not diagonal in the eigenbasis, so it has no
filter and runs on the explicit loop everywhere (the searches included).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV, KFold

from sksam import (
    SAMKernelRidge,
    SAMRegressor,
    SAMRegressorCV,
    bias_variance_decomposition,
    sam_path,
)
from sksam._core._variants import SpectralVariant, Unnormalized


class GramMetricSAM(SpectralVariant):
    """``c <- c - eta grad(c + rho H grad(c))``."""

    name = "gram-metric"

    def effective_eigenvalues(self, lam, rho):
        return lam * (1.0 + rho * lam * lam)

    def perturbation(self, op, grad, rho):
        return rho * op.adjoint(op.apply(grad)) / op.sum_weights


class CoordinateMetricSAM(Unnormalized):
    """``c <- c - eta grad(c + rho D grad(c))``, ``D = diag(metric)`` fixed."""

    name = "coordinate-metric"
    has_filter = False

    def __init__(self, metric=(1.0, 2.0, 0.5, 1.0)):
        self.metric = tuple(metric)

    def perturbation(self, op, grad, rho):
        return rho * np.asarray(self.metric)[:, None] * grad


def regression(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.array([2.0, 1.0, 0.5, 0.2])[:d]
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


def metric_loop(X, y, sw, eta, rho, n_iter, metric):
    """The update rule on the original weighted problem, plain numpy.

    ``metric(H, g)`` is the variant's perturbation direction for gradient ``g``.
    """
    S = sw.sum()
    x_mean = sw @ X / S
    y_mean = sw @ y / S
    Xc, yc = X - x_mean, y - y_mean
    H = Xc.T @ (sw[:, None] * Xc) / S

    def grad(w):
        return Xc.T @ (sw * (Xc @ w - yc)) / S

    w = np.zeros(X.shape[1])
    for _ in range(n_iter):
        g = grad(w)
        w = w - eta * grad(w + rho * metric(H, g))
    return w, y_mean - x_mean @ w


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_gram_metric_fit_equals_its_update_rule(solver):
    X, y, sw = regression()
    model = SAMRegressor(rho=0.3, n_iter=40, variant=GramMetricSAM(), solver=solver)
    model.fit(X, y, sample_weight=sw)
    coef, intercept = metric_loop(
        X, y, sw, model.learning_rate_, 0.3, 40, lambda H, g: H @ g
    )
    assert_allclose(model.coef_, coef, rtol=1e-10)
    assert_allclose(model.intercept_, intercept, rtol=1e-10)
    # The auto step is the monotone one of mu(lam) = lam (1 + rho lam^2).
    lam_max = np.linalg.eigvalsh(
        (X - sw @ X / sw.sum()).T @ (sw[:, None] * (X - sw @ X / sw.sum())) / sw.sum()
    )[-1]
    assert_allclose(model.learning_rate_, 1 / (lam_max * (1 + 0.3 * lam_max**2)))
    # It differs from unnormalized SAM: the loop check can fail.
    plain = SAMRegressor(rho=0.3, n_iter=40, learning_rate=model.learning_rate_)
    assert not np.allclose(plain.fit(X, y, sample_weight=sw).coef_, coef, rtol=1e-6)


def test_gram_metric_kernel_equals_linear_and_paths():
    X, y, sw = regression()
    variant = GramMetricSAM()
    linear = SAMRegressor(rho=0.3, n_iter=25, variant=variant).fit(X, y, sw)
    kernel = SAMKernelRidge(rho=0.3, n_iter=25, variant=variant).fit(X, y, sw)
    assert_allclose(kernel.predict(X), linear.predict(X), rtol=1e-10)
    steps, coefs, intercepts = sam_path(
        X, y, [5, 25], rho=0.3, variant=variant, sample_weight=sw
    )
    assert_allclose(coefs[:, 1], linear.coef_, rtol=1e-10)
    staged = list(linear.staged_predict(X))
    assert_allclose(staged[-1], linear.predict(X), rtol=1e-10)
    short = SAMRegressor(rho=0.3, n_iter=5, variant=variant).fit(X, y, sw)
    assert_allclose(coefs[:, 0], short.coef_, rtol=1e-10)
    assert_allclose(staged[4], short.predict(X), rtol=1e-10)


def test_gram_metric_cross_validates_as_grid_search():
    X, y, _ = regression(80)
    variant = GramMetricSAM()
    n_iters, rhos, cv = [1, 3, 10, 30, 100], [0.0, 0.5, 2.0], KFold(4)
    search = SAMRegressorCV(n_iters=n_iters, rhos=rhos, variant=variant, cv=cv)
    with pytest.warns(UserWarning, match="largest of the grid"):  # a short grid
        search.fit(X, y)
    grid = GridSearchCV(
        SAMRegressor(variant=variant),
        {"n_iter": n_iters, "rho": rhos},
        cv=cv,
        scoring="r2",
    ).fit(X, y)
    assert (search.n_iter_, search.rho_) == (
        grid.best_params_["n_iter"],
        grid.best_params_["rho"],
    )
    assert_allclose(search.best_score_, grid.best_score_, rtol=1e-10)


def test_gram_metric_exact_bias_variance_equals_simulation():
    X, y, _ = regression(50)
    rng = np.random.default_rng(3)
    X_test = rng.standard_normal((20, 4))
    f_train, f_test = X @ np.ones(4), X_test @ np.ones(4)
    model = SAMRegressor(rho=0.5, n_iter=15, variant=GramMetricSAM())
    exact = bias_variance_decomposition(
        model, X, None, X_test, f_train=f_train, f_test=f_test, noise_std=0.5
    )
    # The smoother of the variant, column by column from its own update rule.
    eta = model.fit(X, f_train).learning_rate_
    sw = np.ones(len(X))
    smoother = np.empty((len(X_test), len(X)))
    for j in range(len(X)):
        coef, intercept = metric_loop(
            X, np.eye(len(X))[j], sw, eta, 0.5, 15, lambda H, g: H @ g
        )
        smoother[:, j] = X_test @ coef + intercept
    bias2 = np.mean((smoother @ f_train - f_test) ** 2)
    variance = 0.25 * np.mean(np.sum(smoother**2, axis=1))
    assert_allclose(exact.bias_squared, bias2, rtol=1e-8)
    assert_allclose(exact.variance, variance, rtol=1e-8)


def test_variant_without_filter_runs_on_the_loop_everywhere():
    X, y, sw = regression()
    variant = CoordinateMetricSAM()
    model = SAMRegressor(rho=0.3, n_iter=30, variant=variant).fit(X, y, sw)
    assert model.solver_ == "iterative"
    D = np.diag(variant.metric)
    coef, _ = metric_loop(X, y, sw, model.learning_rate_, 0.3, 30, lambda H, g: D @ g)
    assert_allclose(model.coef_, coef, rtol=1e-10)
    with pytest.raises(ValueError, match="no exact filter|needs an exact filter"):
        SAMRegressor(variant=variant, solver="spectral").fit(X, y)
    # The search scores it on the loop, as GridSearchCV does.
    n_iters, rhos, cv = [1, 5, 20], [0.0, 0.3], KFold(3)
    search = SAMRegressorCV(n_iters=n_iters, rhos=rhos, variant=variant, cv=cv)
    with pytest.warns(UserWarning, match="largest of the grid"):  # a short grid
        search.fit(X, y)
    grid = GridSearchCV(
        SAMRegressor(variant=variant),
        {"n_iter": n_iters, "rho": rhos},
        cv=cv,
        scoring="r2",
    ).fit(X, y)
    assert search.n_iter_ == grid.best_params_["n_iter"]
    assert_allclose(search.best_score_, grid.best_score_, rtol=1e-10)
