"""``relative_rho``: rho stated in units of 1 / lam_max of the training data."""

import numpy as np
import pytest
from _reference import linear_sam, weighted_centring
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from sksam import (
    SAMClassifier,
    SAMKernelClassifier,
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
)


def _data(seed=0, n=60, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(3.0, 0.1, d) + 2.0
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) + 1.0
    return X, y, rng.uniform(0.5, 2.0, n)


def _lam_max(X, sw):
    Xc, _, s, _, _ = weighted_centring(X, np.zeros(len(X)), sw)
    return np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc) / s.sum()).max()


@pytest.mark.parametrize("estimator", [SAMRegressor, SAMKernelRidge])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_relative_rho_is_scale_free_and_equals_rho_over_lam_max(estimator, solver):
    X, y, sw = _data()
    params = dict(rho=1.0, relative_rho=True, n_iter=40, solver=solver)
    base = estimator(**params).fit(X, y, sample_weight=sw)
    pred = base.predict(X)
    for scale in (100.0, 0.01):
        scaled = estimator(**params).fit(scale * X, y, sample_weight=sw)
        assert_allclose(scaled.predict(scale * X), pred, rtol=1e-8)
        assert_allclose(scaled.rho_, base.rho_ / scale**2, rtol=1e-8)
    lam_max = _lam_max(X, sw)
    assert_allclose(base.rho_unit_, 1.0 / lam_max, rtol=1e-8)
    assert base.rho_ == base.rho_unit_ * 1.0
    # The learning rate "auto" is 1 / (lam_max (1 + rho lam_max)) = 1 / (2 lam_max).
    assert_allclose(base.learning_rate_, 0.5 / lam_max, rtol=1e-8)
    absolute = estimator(rho=1.0 / lam_max, n_iter=40, solver=solver)
    absolute.fit(X, y, sample_weight=sw)
    assert_allclose(absolute.predict(X), pred, rtol=1e-8)
    assert absolute.rho_unit_ == 1.0 and absolute.rho_ == 1.0 / lam_max


def test_relative_rho_equals_the_plain_loop():
    X, y, sw = _data(1)
    model = SAMRegressor(rho=0.5, relative_rho=True, n_iter=25).fit(
        X, y, sample_weight=sw
    )
    lam_max = _lam_max(X, sw)
    rho = 0.5 / lam_max
    eta = 1.0 / (lam_max * (1.0 + rho * lam_max))
    coefs, intercepts, _ = linear_sam(X, y, eta, rho, [25], sample_weight=sw)
    assert_allclose(model.coef_, coefs[0, :, 0], rtol=1e-8)
    assert_allclose(model.intercept_, intercepts[0, 0], rtol=1e-8)


def test_relative_rho_normalized_and_early_stopping_and_classifiers():
    X, y, sw = _data(2)
    for params in (
        dict(variant="normalized", n_iter=30),
        dict(early_stopping=True, random_state=0, n_iter=50),
    ):
        base = SAMRegressor(rho=1.0, relative_rho=True, **params).fit(X, y)
        scaled = SAMRegressor(rho=1.0, relative_rho=True, **params).fit(10 * X, y)
        assert_allclose(scaled.predict(10 * X), base.predict(X), rtol=1e-8)
        assert scaled.n_iter_ == base.n_iter_
    labels = (y > np.median(y)).astype(int)
    for classifier in (SAMClassifier, SAMKernelClassifier):
        base = classifier(rho=2.0, relative_rho=True).fit(X, labels)
        scaled = classifier(rho=2.0, relative_rho=True).fit(0.01 * X, labels)
        assert_allclose(
            scaled.decision_function(0.01 * X), base.decision_function(X), rtol=1e-8
        )
        assert_allclose(base.rho_, 2.0 * base.rho_unit_)


@pytest.mark.parametrize("search", [SAMRegressorCV, SAMRegressorIC, SAMKernelRidgeCV])
def test_best_params_of_a_relative_search_refit_the_selected_model(search):
    X, y, sw = _data(3)
    grid = dict(n_iters=[1, 3, 10, 30, 100], rhos=[0.0, 0.5, 5.0])
    model = fit_search(search(**grid, relative_rho=True), X, y, sample_weight=sw)
    assert_allclose(model.rhos_, np.array(grid["rhos"]) * model.rho_unit_)
    # best_params_ holds the absolute radius: SAMRegressor(**best_params_) refits
    # the selected model, as GridSearchCV's best_params_ would.
    assert model.best_params_["rho"] == model.rho_ == model.best_estimator_.rho_
    assert model.best_estimator_.rho_unit_ == 1.0
    plain = model._make_estimator().set_params(**model.best_params_)
    plain.fit(X, y, sample_weight=sw)
    assert_allclose(plain.predict(X), model.predict(X), rtol=1e-10)
    # The same model in relative units: rho_ / rho_unit_ with relative_rho=True.
    relative = model._make_estimator().set_params(
        n_iter=model.n_iter_, rho=model.rho_ / model.rho_unit_, relative_rho=True
    )
    relative.fit(X, y, sample_weight=sw)
    assert_allclose(relative.predict(X), model.predict(X), rtol=1e-8)


def test_relative_search_equals_grid_search_over_its_absolute_grid():
    X, y, _ = _data(4)
    grid = dict(n_iters=[1, 3, 10, 30], rhos=[0.0, 1.0, 10.0])
    model = fit_search(SAMRegressorCV(**grid, relative_rho=True, cv=3), X, y)
    search = GridSearchCV(
        SAMRegressor(), {"n_iter": grid["n_iters"], "rho": list(model.rhos_)}, cv=3
    ).fit(X, y)
    assert model.best_params_ == search.best_params_
    assert_allclose(model.best_score_, search.best_score_, rtol=1e-10)
    assert_allclose(model.predict(X), search.best_estimator_.predict(X), rtol=1e-10)
