"""The search estimators as a scikit-learn user drives them (issue 14)."""

import warnings
from unittest import SkipTest

import numpy as np
import pytest
import sklearn
from _array_api_checks import array_api_skip_reason
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneOut,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

from sksam import (
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
)


def make_problem(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.1, d)
    return X, X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) + 1.0


GRID = dict(n_iters=[1, 4, 16, 64], rhos=[0.0, 0.5])


@pytest.mark.parametrize("cv_class", [SAMRegressorCV, SAMKernelRidgeCV])
def test_routing_with_default_scoring(cv_class):
    X, y = make_problem()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    with sklearn.config_context(enable_metadata_routing=True):
        model = cv_class(**GRID, cv=3)
        fit_search(model.set_fit_request(sample_weight=True), X, y, sample_weight=sw)
        # the default scorer requests the weights: weighted R^2 on each fold
        base = (SAMRegressor if cv_class is SAMRegressorCV else SAMKernelRidge)()
        search = GridSearchCV(
            base.set_fit_request(sample_weight=True).set_score_request(
                sample_weight=True
            ),
            {"n_iter": GRID["n_iters"], "rho": GRID["rhos"]},
            cv=3,
        ).fit(X, y, sample_weight=sw)
        assert_allclose(
            model.cv_results_["mean_test_score"],
            search.cv_results_["mean_test_score"],
            rtol=1e-8,
        )
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, cv_class(**GRID, cv=3))
        pipe[-1].set_fit_request(sample_weight=True)
        pipe.fit(X, y, sample_weight=sw)
        # The searches fitted inside GridSearchCV and cross_validate pick the end
        # of GRID on some of their folds, and say so.
        with pytest.warns(UserWarning, match="The selected n_iter=64 is the largest"):
            outer = GridSearchCV(
                cv_class(**GRID, cv=3)
                .set_fit_request(sample_weight=True)
                .set_score_request(sample_weight=True),
                {"rhos": [[0.0], [0.0, 0.5]]},
                cv=3,
            ).fit(X, y, sample_weight=sw)
        assert outer.best_estimator_.n_iter_ in GRID["n_iters"]
        with pytest.warns(UserWarning, match="The selected n_iter=64 is the largest"):
            scores = cross_validate(
                cv_class(**GRID, cv=3)
                .set_fit_request(sample_weight=True)
                .set_score_request(sample_weight=True),
                X,
                y,
                cv=3,
                params={"sample_weight": sw},
            )["test_score"]
        assert np.all(np.isfinite(scores))


def test_grid_search_attributes_and_timings():
    X, y = make_problem()
    model = fit_search(SAMRegressorCV(**GRID, cv=3), X, y)
    search = GridSearchCV(
        SAMRegressor(), {"n_iter": GRID["n_iters"], "rho": GRID["rhos"]}, cv=3
    ).fit(X, y)
    assert model.best_params_ == search.best_params_
    assert model.best_index_ == search.best_index_
    assert set(search.cv_results_) == set(model.cv_results_)
    for key in ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
        times = model.cv_results_[key]
        assert times.shape == (8,) and np.all(times >= 0)
    assert np.all(model.cv_results_["mean_fit_time"] > 0)
    assert_array_equal(model.n_iters_, GRID["n_iters"])
    assert_array_equal(model.rhos_, GRID["rhos"])
    assert model.n_iter_at_edge_ in (None, "lower", "upper")
    ic = fit_search(SAMRegressorIC(**GRID), X, y)
    assert ic.best_params_ == {"n_iter": ic.n_iter_, "rho": ic.rho_}
    assert ic.best_index_ == GRID["n_iters"].index(ic.n_iter_) * 2 + GRID["rhos"].index(
        ic.rho_
    )


def test_verbose(capsys):
    X, y = make_problem()
    fit_search(SAMRegressorCV(**GRID, cv=3, verbose=2), X, y)
    out = capsys.readouterr().out
    assert "Fitting 3 folds for each of 8 candidates" in out
    assert "[CV 3/3] END" in out
    fit_search(SAMKernelRidgeIC(**GRID, kernel="rbf", verbose=1), X, y)
    assert "rho 2/2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "cv_class, params",
    [
        (SAMRegressorCV, {}),
        (SAMRegressorCV, {"variant": "normalized"}),
        (SAMKernelRidgeCV, {"kernel": "rbf"}),
        (SAMRegressorIC, {}),
        (SAMKernelRidgeIC, {"kernel": "linear"}),
    ],
)
def test_default_grids_are_scale_free(cv_class, params):
    X, y = make_problem(n=60)
    extra = {"cv": 3} if cv_class.__name__[-2:] == "CV" else {}
    fits = []
    for scale in (1.0, 100.0, 0.01):
        if params.get("kernel") == "rbf":
            params = {**params, "gamma": 0.2 / scale**2}
        fits.append(fit_search(cv_class(**params, **extra), scale * X, y))
    base = fits[0]
    for model, scale in zip(fits[1:], (100.0, 0.01), strict=True):
        assert_array_equal(model.n_iters_, base.n_iters_)
        assert_allclose(model.rhos_ * model.rho_unit_**-1, base.rhos_ / base.rho_unit_)
        assert model.n_iter_ == base.n_iter_
        assert_allclose(model.rho_ / model.rho_unit_, base.rho_ / base.rho_unit_)
        if hasattr(base, "cv_results_"):
            assert_allclose(
                model.cv_results_["mean_test_score"],
                base.cv_results_["mean_test_score"],
                rtol=1e-7,
            )
        else:
            assert_allclose(model.criterion_, base.criterion_, rtol=1e-7)
        assert_allclose(model.predict(scale * X), base.predict(X), rtol=1e-7)
    # explicit grids are used as given; relative_rho scales them by the unit
    X_last = 0.01 * X  # the data of the last fit (and of params' gamma)
    given = fit_search(cv_class(n_iters=[3, 5], rhos=[0.2], **params), X_last, y)
    assert_array_equal(given.rhos_, [0.2]) and given.rho_unit_ == 1.0
    rel = cv_class(n_iters=[3, 5], rhos=[0.2], relative_rho=True, **params)
    assert_allclose(fit_search(rel, X_last, y).rhos_, [0.2 * fits[-1].rho_unit_])


def test_default_rhos_match_grid_search_on_the_exposed_grid():
    X, y = make_problem()
    model = fit_search(SAMRegressorCV(n_iters=[1, 5, 25], cv=3), X, y)
    search = GridSearchCV(
        SAMRegressor(), {"n_iter": [1, 5, 25], "rho": model.rhos_.tolist()}, cv=3
    ).fit(X, y)
    assert_allclose(
        model.cv_results_["mean_test_score"],
        search.cv_results_["mean_test_score"],
        rtol=1e-8,
    )
    assert model.best_params_ == search.best_params_


@pytest.mark.parametrize("cv_class", [SAMRegressorCV, SAMKernelRidgeCV])
def test_one_sample_folds(cv_class):
    X, y = make_problem(n=6, d=3)
    # R^2 (the default scoring) on one sample: warned about, then refused.
    with pytest.warns(UndefinedMetricWarning, match="with less than two samples"):
        with pytest.raises(ValueError, match="single sample"):
            cv_class(n_iters=[1, 5], cv=LeaveOneOut()).fit(X, y)
    model = fit_search(
        cv_class(
            n_iters=[1, 5],
            rhos=[0.0],
            cv=LeaveOneOut(),
            scoring="neg_mean_squared_error",
        ),
        X,
        y,
    )
    base = SAMRegressor() if cv_class is SAMRegressorCV else SAMKernelRidge()
    search = GridSearchCV(
        base,
        {"n_iter": [1, 5], "rho": [0.0]},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    assert_allclose(
        model.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )


def test_one_sample_folds_on_dask():
    da = pytest.importorskip("dask.array")
    X, y = make_problem(n=6, d=3)
    Xd, yd = da.from_array(X, chunks=3), da.from_array(y, chunks=3)
    # R^2 of one sample: scikit-learn's UndefinedMetricWarning, as on numpy data
    with (
        pytest.warns(UndefinedMetricWarning, match="less than two samples"),
        pytest.raises(ValueError, match="single sample"),
    ):
        SAMRegressorCV(n_iters=[1, 5], cv=LeaveOneOut()).fit(Xd, yd)
    kwargs = dict(n_iters=[1, 5], rhos=[0.0, 0.5], cv=LeaveOneOut())
    kwargs["scoring"] = "neg_mean_squared_error"
    lazy = fit_search(SAMRegressorCV(**kwargs), Xd, yd)
    eager = fit_search(SAMRegressorCV(**kwargs), X, y)
    assert_allclose(
        lazy.cv_results_["mean_test_score"], eager.cv_results_["mean_test_score"]
    )


def test_all_candidates_fail_with_one_clear_error():
    X, y = make_problem(n=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="diverged"):
            SAMRegressorCV(n_iters=[100], learning_rate=1e6, cv=3).fit(X, y)
    assert len(caught) <= 3 * 4  # at most one per split and rho
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="scorer raised an error"):
            SAMRegressorCV(**GRID, cv=3, scoring="accuracy").fit(X, y)
    assert len(caught) <= 3  # one per split, not one per candidate


def test_gcv_takes_frequency_weights():
    """The one weight rule (issue 24): doubling every weight is repeating every row."""
    X, y = make_problem(n=60)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, 60)
    doubled = fit_search(SAMRegressorCV(cv="gcv"), X, y, sample_weight=2.0 * sw)
    repeated = fit_search(
        SAMRegressorCV(cv="gcv"),
        np.tile(X, (2, 1)),
        np.tile(y, 2),
        sample_weight=np.tile(sw, 2),
    )
    assert doubled.n_iter_ == repeated.n_iter_
    assert_allclose(
        doubled.cv_results_["mean_test_score"],
        repeated.cv_results_["mean_test_score"],
        rtol=1e-9,
    )


def test_long_grid_is_scored_in_chunks(monkeypatch):
    from sksam._selection import _cv_scores

    X, y = make_problem(n=50)
    grid = np.arange(1, 301)
    whole = SAMRegressorCV(grid, [0.0, 0.5], cv=3).fit(X, y)
    monkeypatch.setattr(_cv_scores, "CHUNK_ENTRIES", 7 * 17)  # chunks of 7 steps
    chunked = SAMRegressorCV(grid, [0.0, 0.5], cv=3).fit(X, y)
    assert_allclose(
        chunked.cv_results_["mean_test_score"],
        whole.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    for variant in ("normalized",):
        a = SAMRegressorCV(grid, [0.5], cv=3, variant=variant)
        assert np.all(np.isfinite(a.fit(X, y).cv_results_["mean_test_score"]))


@pytest.mark.parametrize("estimator", [SAMRegressorIC(), SAMKernelRidgeIC()])
def test_default_ic_passes_check_estimator(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run_estimator_checks(estimator)


def _edge_warnings(record):
    return [
        w
        for w in record
        if "is the smallest of the grid" in str(w.message)
        or "is the largest of the" in str(w.message)
    ]


@pytest.mark.parametrize("search", [SAMRegressorCV, SAMRegressorIC])
def test_edge_of_default_grid_is_silent_when_it_does_not_truncate(search):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 4))
    # Noiseless targets: the converged end of the default grid wins.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = search(rhos=[0.0]).fit(X, X @ np.array([1.0, -2.0, 0.5, 3.0]))
    assert model.n_iter_ == model.n_iters_.max()
    assert model.n_iter_at_edge_ is None
    assert not _edge_warnings(record)
    # Pure noise: the first step wins; one step is the start of the path.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = search().fit(X, rng.standard_normal(60))
    assert model.n_iter_ == 1
    assert model.n_iter_at_edge_ == "lower"
    assert not _edge_warnings(record)


@pytest.mark.parametrize("search", [SAMRegressorCV, SAMRegressorIC])
def test_edge_of_explicit_grid_that_truncates_warns(search):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 4)) * np.array([1.0, 1.0, 0.1, 0.01])
    y = X @ np.array([1.0, -2.0, 50.0, 300.0])
    with pytest.warns(UserWarning, match=r"n_iter=30 is the largest of the grid"):
        model = search(n_iters=[1, 10, 30], rhos=[0.0]).fit(X, y)
    assert (model.n_iter_, model.n_iter_at_edge_) == (30, "upper")
    # A grid long enough to reach the converged path: no flag, no warning.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = search(n_iters=[1, 10, 10**7], rhos=[0.0]).fit(X, y)
    assert (model.n_iter_, model.n_iter_at_edge_) == (10**7, None)
    assert not _edge_warnings(record)
    # Starting above one step cuts off shorter runs: pure noise picks the start.
    with pytest.warns(UserWarning, match=r"n_iter=5 is the smallest of the grid"):
        model = search(n_iters=[5, 50, 500], rhos=[0.0]).fit(X, rng.standard_normal(60))
    assert (model.n_iter_, model.n_iter_at_edge_) == (5, "lower")


@pytest.mark.slow
def test_default_searches_pass_check_estimator_without_edge_noise():
    # Before the rule, check_estimator gave about 30 edge warnings per search.
    for search in (SAMRegressorCV(), SAMKernelRidgeCV(), SAMRegressorIC()):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            _run_estimator_checks(search)
        assert not _edge_warnings(record), search


def _run_estimator_checks(estimator):
    """``check_estimator``, without the array API checks of devices absent here."""
    for est, check in estimator_checks_generator(estimator):
        if array_api_skip_reason(check) is not None:
            continue  # an array API device absent here (CUDA, MPS)
        try:
            check(est)
        except SkipTest:  # as check_estimator does
            pass
