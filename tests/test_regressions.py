"""Regression tests of the bugs that the seam between the maths and the API produced.

Each was observed before the problem/run layer (one owner of the decomposition and
one place that writes fitted state) existed.
"""

import warnings

import numpy as np
import pytest
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV

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


def staged_mse(estimator, X, y):
    """A custom scorer that walks the path of the fitted model."""
    return -np.mean([np.mean((pred - y) ** 2) for pred in estimator.staged_predict(X)])


@pytest.mark.parametrize(
    "model, cv_class",
    [(SAMRegressor, SAMRegressorCV), (SAMKernelRidge, SAMKernelRidgeCV)],
)
def test_custom_scorer_calling_staged_predict_in_the_cv_search(
    model, cv_class, make_data
):
    # Bug: every candidate failed with AttributeError: _batch_stream_state (the CV
    # search set a partial fitted state), and the error then blamed learning_rate.
    X, y, _, _ = make_data(60, 5)
    grid = {"n_iter": [1, 5, 20], "rho": [0.0, 1.0]}
    search = GridSearchCV(model(), grid, scoring=staged_mse, cv=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The short grid stops before the path converged: the edge-of-grid warning
        # is expected; no scoring failure is.
        warnings.filterwarnings(
            "ignore", "The selected n_iter=.* is the largest of the grid", UserWarning
        )
        fitted = cv_class(
            n_iters=grid["n_iter"], rhos=grid["rho"], scoring=staged_mse, cv=3
        ).fit(X, y)
    assert (fitted.n_iter_, fitted.rho_) == (
        search.best_params_["n_iter"],
        search.best_params_["rho"],
    )
    assert_allclose(fitted.best_score_, search.best_score_, rtol=1e-8)


def test_scorer_that_always_fails_names_the_scorer_not_the_learning_rate(make_data):
    X, y, _, _ = make_data(60, 5)

    def broken(estimator, X, y):
        raise RuntimeError("this scorer is broken")

    with pytest.warns(UserWarning, match="Scoring failed"):
        with pytest.raises(
            ValueError, match="scorer raised .*this scorer is broken"
        ) as err:
            SAMRegressorCV(n_iters=[1, 2], rhos=[0.0], scoring=broken, cv=3).fit(X, y)
    assert "learning_rate" not in str(err.value)


def test_information_criterion_on_dask_arrays(make_data):
    # Bug: AttributeError: 'NoneType' object has no attribute 'sum'.
    da = pytest.importorskip("dask.array")
    X, y, _, _ = make_data(90, 5)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    expected = SAMRegressorIC(rhos=(0.0, 0.5)).fit(X, y, sample_weight=sw)
    got = SAMRegressorIC(rhos=(0.0, 0.5)).fit(
        da.from_array(X, chunks=30),
        da.from_array(y, chunks=30),
        sample_weight=da.from_array(sw, chunks=30),
    )
    assert (got.n_iter_, got.rho_) == (expected.n_iter_, expected.rho_)
    assert_allclose(got.criterion_, expected.criterion_, rtol=1e-8)
    assert_allclose(got.coef_, expected.coef_, rtol=1e-8)
    assert_allclose(got.noise_variance_, expected.noise_variance_, rtol=1e-8)


@pytest.mark.parametrize(
    "solver, shape", [("iterative", (40, 6)), ("spectral", (6, 40)), ("auto", (40, 6))]
)
@pytest.mark.parametrize("sparse_input", [False, True])
def test_staged_predict_does_not_read_the_callers_training_array(
    solver, shape, sparse_input
):
    # Bug: the fitted model kept a view of X (no intercept: no private centred
    # copy), so mutating X after fit changed staged_predict but not predict.
    from scipy import sparse

    rng = np.random.default_rng(2)
    X = rng.standard_normal(shape)
    y = rng.standard_normal(shape[0])
    X_fit = sparse.csr_matrix(X) if sparse_input else X.copy()
    model = SAMRegressor(rho=0.3, n_iter=9, solver=solver, fit_intercept=False)
    model.fit(X_fit, y)
    before = list(model.staged_predict(X))
    if sparse_input:
        X_fit.data[:] = 1e3
    else:
        X_fit[:] = 1e3
    after = list(model.staged_predict(X))
    assert_allclose(after[-1], model.predict(X), rtol=1e-10, atol=1e-12)
    for got, expected in zip(after, before, strict=True):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def _fits_warning_here(call, category=ConvergenceWarning):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    ours = [w for w in record if issubclass(w.category, category)]
    assert ours, "no warning"
    assert {w.filename for w in ours} == {__file__}, [
        (w.filename, w.lineno) for w in ours
    ]


def test_warnings_point_at_the_users_line_on_every_route(make_data):
    # Bug: hard-coded stacklevels pointed into sksam or joblib on other call paths.
    X, y, _, _ = make_data(60, 5)
    unstable = dict(learning_rate=10.0)
    _fits_warning_here(lambda: SAMRegressor(n_iter=3, **unstable).fit(X, y))
    _fits_warning_here(lambda: sam_path(X, y, [1, 2], **unstable))
    _fits_warning_here(
        lambda: GridSearchCV(
            SAMRegressor(n_iter=3, **unstable), {"rho": [0.0]}, cv=3
        ).fit(X, y)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # non-finite scores
        _fits_warning_here(
            lambda: SAMRegressorCV(n_iters=[1], rhos=[0.0], cv=3, **unstable).fit(X, y)
        )
    _fits_warning_here(
        lambda: bias_variance_decomposition(
            SAMRegressor(n_iter=3, **unstable), X, y, X[:5], f_train=y, f_test=y[:5],
            noise_std=0.1,
        )
    )  # fmt: skip


def test_indefinite_kernel_warns_on_the_path_and_criterion_routes():
    # Bug: fit warned, but sam_kernel_path returned dual coefficients of 1e224 and
    # SAMKernelRidgeIC selected a model with training R^2 = -2e41, silently.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(30)
    K = rbf_kernel(X, X, gamma=0.5) - 1.5 * np.eye(30)
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        sam_kernel_path(K, y, [10, 1000], kernel="precomputed")
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        fit_search(SAMKernelRidgeIC(kernel="precomputed", noise_variance=0.01), K, y)
    _fits_warning_here(
        lambda: SAMKernelRidge(kernel="precomputed", n_iter=1000).fit(K, y)
    )


def test_every_linear_route_takes_dask_arrays_or_refuses_in_one_place(make_data):
    # Dask goes through one hook (the problem built from row moments): each route
    # that works on numpy gives the numpy result on dask, or refuses with the reason.
    da = pytest.importorskip("dask.array")
    X, y, _, _ = make_data(120, 5)
    Xd, yd = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    for make in (
        lambda: SAMRegressor(variant="normalized"),
        lambda: SAMRegressorCV(cv="gcv"),
        lambda: SAMRegressorCV(cv=3),
        lambda: SAMRegressorIC(),
    ):
        got, expected = make().fit(Xd, yd), make().fit(X, y)
        assert_allclose(got.coef_, expected.coef_, rtol=1e-8)
        assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8)
    assert_allclose(sam_path(Xd, yd, [1, 9])[1], sam_path(X, y, [1, 9])[1], rtol=1e-8)
    curve = dict(f_train=y, f_test=y[:10], noise_std=0.1, param_name="n_iter")
    curve["param_range"] = [1, 5, 50]
    got = bias_variance_decomposition(SAMRegressor(), Xd, None, X[:10], **curve)
    expected = bias_variance_decomposition(SAMRegressor(), X, None, X[:10], **curve)
    assert_allclose(got.variance, expected.variance, rtol=1e-8)
    assert_allclose(got.bias_squared, expected.bias_squared, rtol=1e-8, atol=1e-14)
    for params, cause in (
        ({"early_stopping": True}, "early_stopping is not supported for dask"),
        ({"solver": "iterative"}, "solver='iterative' is not supported for dask"),
        ({"batch_size": 10}, "batch_size is not supported for dask"),
    ):
        with pytest.raises(ValueError, match=cause):
            SAMRegressor(**params).fit(Xd, yd)
