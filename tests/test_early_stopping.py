"""early_stopping=True against a brute-force scan of separately fitted models."""

import warnings

import numpy as np
import pytest
from _data import spread_spectrum_data
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksam import SAMKernelRidge, SAMRegressor

SAMPLE_WEIGHT_CHECKS = {
    name: (
        "a random validation split of repeated samples differs from the split of "
        "the weighted samples, so the selected stopping time can differ"
    )
    for name in (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    )
}


def make_problem(n=60, d=8, n_targets=None, seed=0):
    X, y, _, _ = spread_spectrum_data(
        n, d, n_targets=n_targets, decay=0.05, noise=2.0, offset=0.0, seed=seed
    )
    return X, y


def brute_force(model, X, y, sw, random_state, fraction=0.1):
    """Validation R^2 of separate fits at every step count on the same split."""
    train, val = train_test_split(
        np.arange(len(y)), test_size=fraction, random_state=random_state
    )
    sw_train = None if sw is None else sw[train]
    sw_val = None if sw is None else sw[val]
    scores = []
    for n_iter in range(model.n_iter + 1):
        fitted = model.set_params(n_iter=n_iter, early_stopping=False)
        fitted.fit(X[train], y[train], sw_train)
        scores.append(r2_score(y[val], fitted.predict(X[val]), sample_weight=sw_val))
    return np.array(scores)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kernel", [False, True])
def test_early_stopping_matches_brute_force(variant, solver, weighted, kernel):
    X, y = make_problem()
    sw = np.random.default_rng(2).uniform(0.2, 2.0, len(y)) if weighted else None
    params = dict(rho=0.3, n_iter=25, variant=variant, solver=solver, random_state=7)
    make = SAMKernelRidge if kernel else SAMRegressor
    if kernel:
        params.update(kernel="rbf", gamma=0.1)
    model = make(early_stopping=True, validation_fraction=0.2, **params).fit(X, y, sw)
    scores = brute_force(make(**params), X, y, sw, 7, fraction=0.2)
    assert model.validation_score_.shape == (26,)
    assert_allclose(model.validation_score_, scores, rtol=1e-10, atol=1e-10)
    assert model.n_iter_ == int(np.argmax(scores))
    assert 0 < model.n_iter_ < 25  # an interior optimum: the scan matters
    refit = make(**{**params, "n_iter": model.n_iter_}).fit(X, y, sw)
    assert_allclose(model.predict(X), refit.predict(X), rtol=1e-10, atol=1e-10)


def test_early_stopping_multioutput_sparse_and_ties():
    X, y = make_problem(n_targets=2)
    model = SAMRegressor(n_iter=30, early_stopping=True, random_state=0).fit(X, y)
    scores = np.mean(
        [brute_force(SAMRegressor(n_iter=30), X, y[:, j], None, 0) for j in range(2)],
        axis=0,
    )
    assert_allclose(model.validation_score_, scores, rtol=1e-10, atol=1e-10)
    sparse_model = SAMRegressor(n_iter=30, early_stopping=True, random_state=0)
    sparse_model.fit(sparse.coo_matrix(X), y)
    assert_allclose(sparse_model.validation_score_, scores, rtol=1e-10, atol=1e-10)
    # An all-zero design predicts the same at every step: ties go to 0 steps.
    tied = SAMRegressor(n_iter=5, early_stopping=True, random_state=0)
    tied.fit(np.zeros_like(X), y)
    assert tied.n_iter_ == 0
    assert_array_equal(tied.validation_score_, tied.validation_score_[0])


def test_validation_score_is_none_without_early_stopping():
    X, y = make_problem()
    assert SAMRegressor(n_iter=3).fit(X, y).validation_score_ is None


def test_early_stopping_holds_out_at_least_two_samples():
    X, y = make_problem(n=10)
    model = SAMRegressor(n_iter=5, early_stopping=True, random_state=0).fit(X, y)
    scores = brute_force(SAMRegressor(n_iter=5), X, y, None, 0, fraction=2)
    assert_allclose(model.validation_score_, scores, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="n_samples=2"):
        SAMRegressor(early_stopping=True).fit(X[:2], y[:2])


@parametrize_with_checks(
    [
        SAMRegressor(early_stopping=True),
        SAMKernelRidge(kernel="rbf", early_stopping=True),
    ],
    expected_failed_checks=lambda estimator: SAMPLE_WEIGHT_CHECKS,
)
def test_sklearn_compatible_with_early_stopping(estimator, check):
    check(estimator)


def test_diverging_steps_score_nan_and_rank_last():
    # The held-out R^2 used to fail with "Input contains NaN" once the iterates of
    # an unstable learning rate overflowed; those steps now score nan.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5))
    y = X @ np.ones(5) + rng.standard_normal(100)
    model = SAMRegressor(learning_rate=3.0, n_iter=2000, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="not stable"):
            model.set_params(random_state=0).fit(X, y)
    scores = model.validation_score_
    diverged = np.isnan(scores)
    assert diverged[-1] and not diverged[0]
    # nan from the first overflow on: a suffix of the path.
    assert np.all(diverged[np.argmax(diverged) :])
    assert model.n_iter_ == int(np.nanargmax(scores))
    assert np.all(np.isfinite(model.coef_))
