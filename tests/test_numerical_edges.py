"""Numerical fidelity at the edges: offsets, extreme scales, and error messages
that name the actual cause (see the user guide, "Learning rate and stability").

The tests that take ``namespace`` run on numpy, array-api-strict and torch (CPU)
alike (``conftest.py``): every namespace must give numpy's result, error and
warnings."""

import warnings

import numpy as np
import pytest
from _data import small_regression
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import linear_kernel, rbf_kernel
from sklearn.utils._param_validation import InvalidParameterError

from sksam import (
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
    bias_variance_decomposition,
    sam_kernel_path,
    sam_path,
)


def regression(n=50, d=3, seed=0):
    return small_regression(n, d, seed)


def indefinite_kernel():
    X, y = regression(30)
    return rbf_kernel(X, X, gamma=0.5) - 1.5 * np.eye(30), y


# ------------------------------------------------------------------- offsets
@pytest.mark.parametrize("offset", [1e7, 1e8])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_linear_kernel_keeps_the_digits_of_offset_features(namespace, offset, solver):
    X, y = regression()
    linear = SAMRegressor(n_iter=50).fit(X + offset, y).predict(X + offset)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no (false) indefiniteness warning
        model = namespace.fit(SAMKernelRidge(n_iter=50, solver=solver), X + offset, y)
    atol = 1e-8 * np.ptp(y)
    assert_allclose(namespace.predict(model, X + offset), linear, rtol=0, atol=atol)
    with namespace.context():
        staged = list(model.staged_predict(namespace.asarray(X + offset)))[-1]
    assert_allclose(namespace.check(staged), linear, rtol=0, atol=atol)


def test_shifted_kernel_keeps_the_documented_model():
    # f(x) = k(x, X_fit_) @ dual_coef_ + intercept_ with the raw kernel (an offset
    # small enough for that formula to keep its digits).
    X, y = regression()
    X = X + 100.0
    model = SAMKernelRidge(n_iter=30).fit(X, y)
    raw = linear_kernel(X, model.X_fit_) @ model.dual_coef_ + model.intercept_
    assert_allclose(raw, model.predict(X), rtol=1e-9)
    steps, dual, intercepts = sam_kernel_path(X, y, [30])
    assert_allclose(dual[:, 0], model.dual_coef_, rtol=1e-10)
    assert_allclose(intercepts[0], model.intercept_, rtol=1e-10)


def test_rbf_kernel_is_translation_invariant_at_large_offsets(namespace):
    X, y = regression()
    far_X = X + 1e8
    near_X = far_X - 1e8  # exact: the same points, without the offset
    ref = SAMKernelRidge(n_iter=40, kernel="rbf", gamma=0.3).fit(near_X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no (false) indefiniteness warning
        far = SAMKernelRidge(n_iter=40, kernel="rbf", gamma=0.3)
        far = namespace.fit(far, far_X, y)
    pred = namespace.predict(far, far_X)
    assert_allclose(pred, ref.predict(near_X), rtol=0, atol=1e-10)
    assert_allclose(namespace.check(far.dual_coef_), ref.dual_coef_, atol=1e-10)


def test_offsets_that_cannot_be_kept_are_named(namespace):
    X, y = regression()
    model = SAMKernelRidge(n_iter=20, kernel="poly", degree=2, gamma=1.0)
    with pytest.warns(UserWarning, match="StandardScaler") as record:
        namespace.fit(model, X + 1e5, y)
    assert any("constant part" in str(w.message) for w in record)
    assert not any(issubclass(w.category, ConvergenceWarning) for w in record)


# --------------------------------------------------------------------- scale
@pytest.mark.parametrize("exponent", [-330, -200, 266, 300])
def test_selection_is_invariant_to_the_scale_of_the_data(exponent):
    X, y = regression(40, 5, seed=1)
    c = 2.0**exponent
    rhos = np.array([0.0, 0.1, 1.0])
    for criterion in ("aic", "bic", "cp", "discrepancy"):
        ref = SAMRegressorIC(rhos=rhos, criterion=criterion).fit(X, y)
        scaled = SAMRegressorIC(rhos=rhos / c**2, criterion=criterion).fit(c * X, c * y)
        assert (scaled.n_iter_, scaled.rho_ * c**2) == (ref.n_iter_, ref.rho_)
        assert_allclose(scaled.coef_, ref.coef_, rtol=1e-10)
    ref = SAMRegressorCV(cv="gcv", rhos=rhos).fit(X, y)
    scaled = SAMRegressorCV(cv="gcv", rhos=rhos / c**2).fit(c * X, c * y)
    assert (scaled.n_iter_, scaled.rho_ * c**2) == (ref.n_iter_, ref.rho_)
    assert_allclose(scaled.best_score_ / c**2, ref.best_score_, rtol=1e-10)


@pytest.mark.parametrize("exponent", [-300, 300])
def test_kernel_ic_is_invariant_to_the_scale_of_the_kernel(exponent):
    X, y = regression(30)
    K = rbf_kernel(X, X, gamma=0.5)
    c = 2.0**exponent  # K ~ c^2, y ~ c
    ref = SAMKernelRidgeIC(kernel="precomputed", rhos=[0.0, 1.0]).fit(K, y)
    scaled = SAMKernelRidgeIC(kernel="precomputed", rhos=[0.0, 1.0 / c**2])
    scaled.fit(c**2 * K, c * y)
    assert scaled.n_iter_ == ref.n_iter_
    assert_allclose(scaled.dual_coef_ * c, ref.dual_coef_, rtol=1e-10)


@pytest.mark.parametrize("scale", [1e-160, 1e160, 1e200])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_unrepresentable_scales_are_a_clear_error(namespace, scale, solver):
    X, y = regression()
    with pytest.raises(ValueError, match="not representable in float64"):
        namespace.fit(SAMRegressor(solver=solver), X * scale, y)


def test_weight_sum_overflow_is_named(namespace):
    X, y = regression()
    with pytest.raises(ValueError, match="sum of sample_weight overflows"):
        namespace.fit(SAMRegressor(), X, y, sample_weight=np.full(len(y), 1e307))
    # Large but summable weights are only relative weights.
    ref = SAMRegressor().fit(X, y)
    big = namespace.fit(SAMRegressor(), X, y, np.full(len(y), 2.0**1000))
    assert_allclose(namespace.check(big.coef_), ref.coef_, rtol=1e-12)


# ------------------------------------------------------------------ messages
def test_non_finite_kernel_is_named(namespace):
    X, y = regression()
    with pytest.raises(ValueError, match="kernel matrix has non-finite values"):
        namespace.fit(SAMKernelRidge(kernel="poly", degree=0.5), X, y)


def test_step_counts_beyond_int64_are_named():
    X, y = regression()
    with pytest.raises(ValueError, match=r"below 2\*\*63"):
        sam_path(X, y, [2**63])


def test_negated_kernel_is_named_without_runtime_warnings(namespace):
    X, y = regression(30)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="not positive semi-definite") as exc:
            model = SAMKernelRidge(kernel="precomputed", solver="spectral")
            namespace.fit(model, -rbf_kernel(X, X), y)
    assert "Lower learning_rate" not in str(exc.value)
    messages = [str(w.message) for w in record]
    assert not any(issubclass(w.category, RuntimeWarning) for w in record)
    assert any("sign flipped" in m for m in messages), messages
    assert not any("inf times" in m for m in messages)


def test_one_huge_weight_is_not_an_indefinite_kernel(namespace):
    X, y = regression(30)
    sw = np.ones(30)
    sw[0] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = namespace.fit(SAMKernelRidge(kernel="rbf"), X, y, sample_weight=sw)
    # Essentially all the weight on sample 0: the fit passes through it.
    assert_allclose(namespace.predict(model, X[:1]), y[:1], rtol=1e-6)


def test_float32_linear_kernel_is_not_indefinite(namespace):
    X, y = regression(40, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SAMKernelRidge(kernel="linear", n_iter=1000)
        namespace.fit(model, X.astype(np.float32), y)


# --------------------------------------------- indefinite kernels, every route
def test_indefinite_kernel_warns_on_every_route():
    K, y = indefinite_kernel()
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        sam_kernel_path(K, y, [100], kernel="precomputed")
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        SAMKernelRidgeIC(kernel="precomputed").fit(K, y)
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        search = SAMKernelRidgeCV(kernel="precomputed", n_iters=[10, 100], cv=3)
        fit_search(search, K, y)
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        bias_variance_decomposition(
            SAMKernelRidge(kernel="precomputed", n_iter=100),
            K,
            None,
            K,
            f_train=y,
            f_test=y,
            noise_std=0.1,
        )


# ---------------------------------------------------------------- small ones
@pytest.mark.parametrize(
    "model", [SAMRegressor(n_iter=5), SAMKernelRidge(n_iter=5, kernel="rbf")]
)
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_staged_predict_has_the_dtype_of_predict(model, solver):
    X, y = regression()
    model = model.set_params(solver=solver).fit(X.astype(np.float32), y)
    for X_test in (X, X.astype(np.float32)):
        last = list(model.staged_predict(X_test))[-1]
        assert last.dtype == model.predict(X_test).dtype


def test_scalar_sample_weight_in_cv():
    X, y = regression()
    ref = fit_search(SAMRegressorCV(n_iters=[5, 20], cv=3), X, y)
    model = fit_search(SAMRegressorCV(n_iters=[5, 20], cv=3), X, y, sample_weight=2.0)
    assert model.n_iter_ == ref.n_iter_
    assert_allclose(model.best_score_, ref.best_score_, rtol=1e-12)


def test_dask_nan_sample_weight_is_named():
    da = pytest.importorskip("dask.array")
    X, y = regression()
    sw = np.ones(len(y))
    sw[3] = np.nan
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        SAMRegressor().fit(da.from_array(X), da.from_array(y), da.from_array(sw))


def test_bootstrap_with_a_precomputed_kernel():
    X, y = regression(40)
    X_test = X[:10] + 0.1
    kw = dict(method="bootstrap", n_rounds=4, random_state=0)
    ref = bias_variance_decomposition(
        SAMKernelRidge(kernel="rbf", gamma=0.5, n_iter=20), X, y, X_test, y[:10], **kw
    )
    res = bias_variance_decomposition(
        SAMKernelRidge(kernel="precomputed", n_iter=20),
        rbf_kernel(X, X, gamma=0.5),
        y,
        rbf_kernel(X_test, X, gamma=0.5),
        y[:10],
        **kw,
    )
    assert_allclose(res.expected_loss, ref.expected_loss, rtol=1e-8)
    assert_allclose(res.variance, ref.variance, rtol=1e-8)


def test_invalid_estimator_parameter_is_the_estimators():
    X, y = regression()
    with pytest.raises(InvalidParameterError, match="parameter of SAMRegressor"):
        bias_variance_decomposition(
            SAMRegressor(rho=-1.0), X, y, X, y, method="bootstrap", n_rounds=2
        )
    with pytest.raises(InvalidParameterError, match="of bias_variance_decomposition"):
        bias_variance_decomposition(SAMRegressor(), X, y, X, y, method="nope")


# ----------------------------------------------------------- kernel intercept
def test_kernel_intercept_is_feature_space_centring():
    X, y = regression(40)
    sw = np.linspace(0.5, 2.0, 40)
    for n_iter in (5, 50):
        model = SAMKernelRidge(kernel="rbf", gamma=1.0, n_iter=n_iter)
        model.fit(X, y, sample_weight=sw)
        # The weighted mean training prediction is the weighted mean of y ...
        assert_allclose(
            np.average(model.predict(X), weights=sw), np.average(y, weights=sw)
        )
        # ... and far from the data the model predicts intercept_, not y.mean().
        assert_allclose(model.predict(X[:1] + 1e3), model.intercept_, rtol=1e-12)
    assert not np.isclose(model.intercept_, np.average(y, weights=sw))
