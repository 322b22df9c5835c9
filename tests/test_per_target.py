"""Per-target selection (``per_target=True``) of the CV and IC searches.

Target ``t``'s pick, scores and model equal those of the search run on
``y[:, t]`` alone with the grid the per-target search resolved (``n_iters_``,
``rhos_``): ``GridSearchCV`` column by column for K-fold, the single-column
search for GCV and the criteria.
"""

import gc
import pickle
import warnings
import weakref

import numpy as np
import pytest
from _array_api_checks import parametrize_with_available_checks
from _data import per_target_data, stackloss
from _ranks import assert_same_ranks
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.metrics import make_scorer, median_absolute_error
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    LeaveOneOut,
    ShuffleSplit,
    train_test_split,
)
from sklearn.utils._param_validation import InvalidParameterError

from sksam import (
    SAMClassifierCV,
    SAMKernelClassifierCV,
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
)
from sksam._problem import linear_problem
from sksam._selection import _per_target_refit

GRID = {"n_iters": [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512], "rhos": [0.0, 3.0]}
WEIGHTS = np.random.default_rng(1).uniform(0.2, 3.0, 80)
RBF = {"kernel": "rbf", "gamma": 0.3}


def _grid_search(estimator, search, cv, scoring, X, y, sample_weight):
    """``GridSearchCV`` over the grid ``search`` resolved."""
    grid = {"n_iter": np.asarray(search.n_iters_), "rho": np.asarray(search.rhos_)}
    reference = GridSearchCV(estimator, grid, cv=cv, scoring=scoring)
    return reference.fit(X, y, sample_weight=sample_weight)


def _assert_same_results(results, reference, t):
    """Target ``t``'s column of the per-target ``cv_results_`` is ``reference``'s."""
    for key, value in reference.items():
        if key.startswith(("split", "mean_test", "std_test")):
            assert_allclose(results[key][:, t], value, rtol=1e-8, atol=1e-12)
        elif key == "rank_test_score":
            # Equal ranks, except among scores tied to rounding (the converged
            # end of a path), whose order is rounding's.
            distinct = ~_near_tied(reference["mean_test_score"])
            assert_array_equal(results[key][distinct, t], value[distinct])
        elif key.startswith("param_"):
            assert_allclose(np.asarray(results[key]), np.asarray(value))


def _near_tied(scores, rtol=1e-9):
    """Which scores are within ``rtol`` (of the largest) of another one."""
    order = np.argsort(scores)
    close = np.isclose(np.diff(scores[order]), 0.0, atol=rtol * np.abs(scores).max())
    tied = np.zeros(scores.size, dtype=bool)
    tied[order[1:][close]] = True
    tied[order[:-1][close]] = True
    return tied


SPLITTERS = {
    "kfold": KFold(4),
    "shuffle": ShuffleSplit(4, test_size=0.25, random_state=0),
}


@pytest.mark.parametrize("splitter", sorted(SPLITTERS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "scoring",
    [
        None,  # R^2 along the path, per target
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",  # the metric called once per chunk
        make_scorer(median_absolute_error, greater_is_better=False),  # per model
    ],
    ids=["r2", "rmse", "mae", "custom"],
)
def test_kfold_picks_equal_grid_search_column_by_column(splitter, weighted, scoring):
    X, Y = per_target_data()
    sample_weight = WEIGHTS if weighted else None
    cv = SPLITTERS[splitter]
    search = SAMRegressorCV(**GRID, cv=cv, scoring=scoring, per_target=True)
    fit_search(search, X, Y, sample_weight=sample_weight)
    assert search.n_iter_.shape == search.rho_.shape == (3,)
    assert search.best_score_.shape == search.best_index_.shape == (3,)
    for t in range(3):
        reference = _grid_search(
            SAMRegressor(), search, cv, scoring, X, Y[:, t], sample_weight
        )
        assert search.best_params_[t] == reference.best_params_
        assert search.best_index_[t] == reference.best_index_
        assert search.n_iter_[t] == reference.best_params_["n_iter"]
        assert search.rho_[t] == reference.best_params_["rho"]
        assert_allclose(search.best_score_[t], reference.best_score_, rtol=1e-8)
        _assert_same_results(search.cv_results_, reference.cv_results_, t)
        assert_allclose(
            search.predict(X)[:, t],
            reference.best_estimator_.predict(X),
            rtol=1e-10,
            atol=1e-10,
        )


def test_one_sample_folds_with_a_loss():
    # Leave-one-out: R^2 is undefined on one sample, the squared error is not.
    X, Y = per_target_data(n=20)
    scoring = "neg_mean_squared_error"
    search = SAMRegressorCV(**GRID, cv=LeaveOneOut(), scoring=scoring, per_target=True)
    fit_search(search, X, Y, sample_weight=WEIGHTS[:20])
    for t in (0, 2):
        reference = _grid_search(
            SAMRegressor(solver="spectral"),
            search,
            LeaveOneOut(),
            scoring,
            X,
            Y[:, t],
            WEIGHTS[:20],
        )
        assert search.best_params_[t] == reference.best_params_
        _assert_same_results(search.cv_results_, reference.cv_results_, t)


def test_default_grid_picks_equal_grid_search_on_the_resolved_grid():
    # The default grid comes from all the targets' problem; the column-by-column
    # reference uses the grid the search resolved (n_iters_, rhos_).
    X, Y = per_target_data(n=60, noise=(0.05, 5.0))
    search = fit_search(SAMRegressorCV(cv=3, per_target=True), X, Y)
    assert search.n_iters_.size > 20 and search.rhos_.size == 4
    for t in range(2):
        reference = _grid_search(
            SAMRegressor(solver="spectral"), search, 3, None, X, Y[:, t], None
        )
        assert search.best_params_[t] == reference.best_params_
        _assert_same_results(search.cv_results_, reference.cv_results_, t)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_kernel_kfold_picks_equal_grid_search(variant):
    X, Y = per_target_data()
    params = {**RBF, "variant": variant}
    rhos = [0.0, 0.3] if variant == "normalized" else GRID["rhos"]
    search = SAMKernelRidgeCV(
        n_iters=[0, 1, 4, 16, 64, 256], rhos=rhos, cv=4, per_target=True, **params
    )
    fit_search(search, X, Y, sample_weight=WEIGHTS)
    for t in range(3):
        reference = _grid_search(
            SAMKernelRidge(**params, solver="spectral"),
            search,
            4,
            None,
            X,
            Y[:, t],
            WEIGHTS,
        )
        assert search.best_params_[t] == reference.best_params_
        _assert_same_results(search.cv_results_, reference.cv_results_, t)
        assert_allclose(
            search.predict(X)[:, t],
            reference.best_estimator_.predict(X),
            rtol=1e-10,
            atol=1e-10,
        )


@pytest.mark.parametrize(
    "make, params",
    [(SAMRegressorCV, {}), (SAMKernelRidgeCV, RBF)],
    ids=["linear", "kernel"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_picks_equal_the_single_column_search(make, params, weighted):
    X, Y = per_target_data()
    sample_weight = WEIGHTS if weighted else None
    search = make(**GRID, cv="gcv", per_target=True, **params)
    fit_search(search, X, Y, sample_weight=sample_weight)
    rss_scale = np.var(Y, axis=0).max()
    for t in range(3):
        single = make(**GRID, cv="gcv", **params)
        fit_search(single, X, Y[:, t], sample_weight=sample_weight)
        assert search.best_params_[t] == single.best_params_
        assert search.best_index_[t] == single.best_index_
        assert_allclose(search.best_score_[t], single.best_score_, rtol=1e-8)
        results, expected = search.cv_results_, single.cv_results_
        # Away from interpolation (where GCV divides rounding by (1 - dof/n)^2):
        # the candidates GCV may pick.
        kept = (
            expected["rank_test_score"]
            <= np.isfinite(expected["mean_test_score"]).sum()
        )
        assert_allclose(
            results["mean_test_score"][kept, t],
            expected["mean_test_score"][kept],
            rtol=1e-8,
            atol=1e-12 * rss_scale,
        )
        assert_array_equal(
            results["rank_test_score"][:, t], expected["rank_test_score"]
        )
        assert_allclose(search.predict(X)[:, t], single.predict(X), atol=1e-10)
    assert set(results) == set(expected)
    assert "split0_test_score" not in results


@pytest.mark.parametrize("criterion", ["cp", "aic", "bic", "discrepancy"])
@pytest.mark.parametrize(
    "make, params",
    [(SAMRegressorIC, {}), (SAMKernelRidgeIC, RBF)],
    ids=["linear", "kernel"],
)
def test_ic_picks_equal_the_single_column_search(criterion, make, params):
    X, Y = per_target_data()
    search = make(**GRID, criterion=criterion, per_target=True, **params)
    fit_search(search, X, Y, sample_weight=WEIGHTS)
    assert search.criterion_.shape == (3, 2, len(GRID["n_iters"]))
    for t in range(3):
        single = make(**GRID, criterion=criterion, **params)
        fit_search(single, X, Y[:, t], sample_weight=WEIGHTS)
        assert search.best_params_[t] == single.best_params_
        assert search.best_index_[t] == single.best_index_
        assert_allclose(search.noise_variance_[t], single.noise_variance_, rtol=1e-8)
        assert_allclose(search.criterion_[t], single.criterion_, rtol=1e-8)
        assert_allclose(search.predict(X)[:, t], single.predict(X), atol=1e-10)
    assert not hasattr(search, "best_score_")


def test_discrepancy_warning_names_the_targets():
    # A target whose residual never reaches tau * sigma^2 on the grid (the clean
    # one): one ConvergenceWarning names it; it stops at its largest n_iter, as
    # alone.
    X, Y = per_target_data()
    params = {"n_iters": [1, 2, 4], "rhos": [0.0], "criterion": "discrepancy"}
    search = SAMRegressorIC(**params, per_target=True)
    message = r"for 1 of the 3 targets \(columns 0\)"
    with pytest.warns(ConvergenceWarning, match=message) as record:
        fit_search(search, X, Y)
    assert len(record) == 1
    for t in range(3):
        single = SAMRegressorIC(**params)
        if t > 0:
            fit_search(single, X, Y[:, t])
        else:
            with pytest.warns(ConvergenceWarning, match="No .n_iter, rho. in the grid"):
                fit_search(single, X, Y[:, t])
        assert search.best_params_[t] == single.best_params_


@pytest.mark.parametrize(
    "search, make",
    [
        (SAMRegressorCV(**GRID, cv=3, per_target=True), SAMRegressor),
        (SAMKernelRidgeCV(**GRID, cv="gcv", per_target=True, **RBF), SAMKernelRidge),
        (SAMRegressorIC(**GRID, per_target=True), SAMRegressor),
    ],
    ids=["kfold", "kernel-gcv", "ic"],
)
def test_predict_equals_per_column_refits(search, make):
    X, Y = per_target_data()
    X_test = np.random.default_rng(5).standard_normal((30, X.shape[1]))
    fit_search(search, X, Y, sample_weight=WEIGHTS)
    params = {**RBF} if make is SAMKernelRidge else {}
    pred = search.predict(X_test)
    assert pred.shape == (30, 3)
    model = search.best_estimator_
    for t in range(3):
        refit = make(**search.best_params_[t], **params, solver="spectral")
        refit.fit(X, Y[:, t], sample_weight=WEIGHTS)
        assert_allclose(pred[:, t], refit.predict(X_test), rtol=1e-10, atol=1e-10)
        if make is SAMRegressor:
            assert_allclose(search.coef_[t], refit.coef_, rtol=1e-10, atol=1e-12)
        assert_allclose(search.intercept_[t], refit.intercept_, rtol=1e-10)
        assert_allclose(search.learning_rate_[t], refit.learning_rate_, rtol=1e-12)
    assert_array_equal(model.n_iter_, search.n_iter_)
    assert_array_equal(model.rho_, search.rho_)
    assert model.get_params()["n_iter"] == search.n_iter_.max()


def test_targets_with_different_noise_get_different_stopping_times():
    # Noise levels 100x apart: the clean target runs long, the noisy one stops
    # early (one pick for all would compromise).
    X, Y = per_target_data(n=200, noise=(0.05, 5.0))
    search = fit_search(SAMRegressorCV(**GRID, cv=5, per_target=True), X, Y)
    one = fit_search(SAMRegressorCV(**GRID, cv=5), X, Y)
    assert search.n_iter_[0] >= 8 * search.n_iter_[1]
    assert one.n_iter_ not in set(search.n_iter_.tolist())
    # Each target scores at least as well as at the one pick, and so does their
    # mean (the one pick's score is the mean over targets).
    means = search.cv_results_["mean_test_score"]
    assert np.all(search.best_score_ == means.max(axis=0))
    assert np.all(search.best_score_ > means[one.best_index_])
    assert search.best_score_.mean() > one.best_score_
    assert_allclose(means[one.best_index_].mean(), one.best_score_, rtol=1e-12)


@pytest.mark.parametrize(
    "make, params",
    [
        (SAMRegressorCV, {"cv": 3}),
        (SAMRegressorCV, {"cv": "gcv"}),
        (SAMKernelRidgeCV, {"cv": 3, **RBF}),
        (SAMRegressorIC, {}),
        (SAMKernelRidgeIC, {"noise_variance": 1.0, **RBF}),
    ],
)
@pytest.mark.parametrize("columns", [None, 1])
def test_one_target_is_the_single_pick(make, params, columns):
    # 1-D y (and, as RidgeCV(alpha_per_target=True), one target column): as
    # per_target=False, scalar attributes.
    X, Y = per_target_data()
    y = Y[:, 0] if columns is None else Y[:, :1]
    search = fit_search(make(**GRID, per_target=True, **params), X, y)
    single = fit_search(make(**GRID, **params), X, y)
    assert isinstance(search.n_iter_, int) and isinstance(search.rho_, float)
    assert search.best_params_ == single.best_params_
    assert search.best_index_ == single.best_index_
    assert_allclose(search.predict(X), single.predict(X), rtol=1e-12)
    if hasattr(single, "cv_results_"):
        for key in ("mean_test_score", "rank_test_score"):
            assert_array_equal(search.cv_results_[key], single.cv_results_[key])


@pytest.mark.parametrize("cv", [3, "gcv"])
def test_cv_results_shapes(cv):
    X, Y = per_target_data()
    search = fit_search(SAMRegressorCV(**GRID, cv=cv, per_target=True), X, Y)
    results = search.cv_results_
    n_candidates = len(GRID["n_iters"]) * len(GRID["rhos"])
    for key in ("mean_test_score", "rank_test_score"):
        assert results[key].shape == (n_candidates, 3)
    assert results["rank_test_score"].dtype == np.int32
    assert len(results["params"]) == results["param_n_iter"].shape[0] == n_candidates
    if cv == 3:
        assert results["std_test_score"].shape == (n_candidates, 3)
        for k in range(3):
            assert results[f"split{k}_test_score"].shape == (n_candidates, 3)
        assert results["mean_fit_time"].shape == (n_candidates,)
    best = search.best_index_
    assert_array_equal(results["rank_test_score"][best, np.arange(3)], 1)
    assert_array_equal(
        search.best_score_, results["mean_test_score"][best, np.arange(3)]
    )
    assert search.best_params_ == [results["params"][i] for i in best]


@pytest.mark.parametrize(
    "search",
    [
        SAMRegressorCV(**GRID, cv=3, per_target=True),
        SAMKernelRidgeCV(**GRID, cv="gcv", per_target=True, **RBF),
        SAMRegressorIC(
            n_iters=GRID["n_iters"],
            rhos=[0.0, 0.3],
            variant="unnormalized",
            per_target=True,
        ),
        SAMRegressorCV(
            n_iters=GRID["n_iters"],
            rhos=[0.0, 0.3],
            variant="normalized",
            cv=3,
            per_target=True,
        ),
    ],
    ids=["kfold", "kernel-gcv", "ic", "normalized"],
)
def test_staged_predict_freezes_each_target_at_its_own_stop(search):
    X, Y = per_target_data()
    X_test = np.random.default_rng(5).standard_normal((7, X.shape[1]))
    fit_search(search, X, Y)
    stages = list(search.staged_predict(X_test))
    n_iter = np.asarray(search.n_iter_)
    assert len(stages) == n_iter.max()
    assert_allclose(stages[-1], search.predict(X_test), rtol=1e-10, atol=1e-10)
    for t in range(3):
        fitted = search._make_estimator().set_params(
            **search.best_params_[t], solver="spectral"
        )
        own = list(fitted.fit(X, Y[:, t]).staged_predict(X_test))
        assert len(own) == n_iter[t]
        for step in range(1, n_iter.max() + 1, 7):
            expected = own[min(step, n_iter[t]) - 1] if n_iter[t] else None
            if expected is None:  # 0 steps: the intercept-only model
                expected = fitted.predict(X_test)
            assert_allclose(stages[step - 1][:, t], expected, rtol=1e-9, atol=1e-10)
    assert search.best_estimator_.get_params()["n_iter"] == n_iter.max()


def test_parallel_folds_and_verbose_give_the_same_per_target_results(capsys):
    X, Y = per_target_data()
    expected = fit_search(SAMRegressorCV(**GRID, cv=3, per_target=True), X, Y)
    search = SAMRegressorCV(**GRID, cv=3, per_target=True, n_jobs=2, verbose=2)
    fit_search(search, X, Y)
    assert_array_equal(search.n_iter_, expected.n_iter_)
    # the same numbers up to the order of the folds' summation (numpy 1.23: 5e-15)
    assert_allclose(
        search.cv_results_["mean_test_score"],
        expected.cv_results_["mean_test_score"],
        rtol=1e-13,
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Fitting 3 folds for each of 22 candidates")
    assert [line.split(" END ")[1].split(";")[0] for line in lines[1:]] == [
        "22 candidates"
    ] * 3


def test_staged_predict_with_a_target_at_zero_steps():
    X, Y = per_target_data(noise=(0.05, 50.0))
    search = SAMRegressorCV(n_iters=[0, 10, 50], rhos=[0.0], cv=3, per_target=True)
    fit_search(search, X, Y)
    assert search.n_iter_.tolist() == [50, 0]
    stages = list(search.staged_predict(X))
    assert len(stages) == 50
    intercept_only = np.average(Y[:, 1])
    assert_allclose(np.stack(stages)[:, :, 1], intercept_only, rtol=1e-12)


def test_invalid_per_target_and_classifiers_have_none():
    X, Y = per_target_data()
    with pytest.raises(InvalidParameterError, match="per_target"):
        SAMRegressorCV(per_target="yes").fit(X, Y)
    with pytest.raises(InvalidParameterError, match="per_target"):
        SAMKernelRidgeIC(per_target=1.5).fit(X, Y)
    for make in (SAMClassifierCV, SAMKernelClassifierCV):
        assert "per_target" not in make().get_params()
        with pytest.raises(TypeError, match="per_target"):
            make(per_target=True)


def test_edge_warnings_are_emitted_once_for_all_targets():
    X, Y = per_target_data(noise=(0.01, 0.01, 0.02))
    search = SAMRegressorCV(n_iters=[1, 2, 4, 8], rhos=[0.0], cv=3, per_target=True)
    with pytest.warns(UserWarning, match="largest of the grid") as record:
        search.fit(X, Y)
    edge = [w for w in record if "The selected n_iter=" in str(w.message)]
    assert len(edge) == 1
    assert "3 of the 3 targets" in str(edge[0].message)
    assert list(search.n_iter_at_edge_) == ["upper"] * 3
    assert search.rho_at_edge_.shape == (3,)


def test_gcv_warnings_name_the_targets():
    # Noiseless targets on a near-interpolating kernel: GCV is smallest near
    # interpolation for them (not for the noisy one); one warning names them,
    # and each column's pick is that of its own search (which warns alone).
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (20, 1))
    Y = np.column_stack(
        [np.sin(X[:, 0]), np.sin(X[:, 0]) + rng.standard_normal(20), np.cos(X[:, 0])]
    )
    params = {"n_iters": [1, 10, 100, 1000], "rhos": [0.0], "cv": "gcv"}
    params |= {"kernel": "rbf", "gamma": 30.0}
    search = SAMKernelRidgeCV(**params, per_target=True)
    message = "smallest near interpolation for 2 of the 3 targets .columns 0, 2."
    with pytest.warns(UserWarning, match=message) as record:
        search.fit(X, Y)
    assert sum("near interpolation" in str(w.message) for w in record) == 1
    for t, warned in enumerate([True, False, True]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            single = SAMKernelRidgeCV(**params).fit(X, Y[:, t])
        assert any("near interpolation" in str(w.message) for w in caught) == warned
        assert search.best_params_[t] == single.best_params_


def test_dask_per_target_equals_numpy():
    da = pytest.importorskip("dask.array")
    X, Y = per_target_data()
    params = {**GRID, "cv": KFold(3), "per_target": True}
    expected = fit_search(SAMRegressorCV(**params), X, Y, sample_weight=WEIGHTS)
    got = fit_search(
        SAMRegressorCV(**params),
        da.from_array(X, chunks=20),
        da.from_array(Y, chunks=20),
        sample_weight=WEIGHTS,
    )
    assert_array_equal(got.n_iter_, expected.n_iter_)
    assert_array_equal(got.rho_, expected.rho_)
    for key in ("mean_test_score", "split2_test_score"):
        assert_allclose(got.cv_results_[key], expected.cv_results_[key], rtol=1e-8)
    assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "make, params",
    [
        (SAMRegressorCV, {"cv": 3}),
        (SAMRegressorCV, {"cv": 3, "scoring": "neg_mean_absolute_error"}),
        (SAMKernelRidgeCV, {"cv": "gcv", **RBF}),
        (SAMKernelRidgeCV, {"cv": 3, **RBF}),
        (SAMRegressorIC, {}),
    ],
    ids=["kfold", "mae", "kernel-gcv", "kernel-kfold", "ic"],
)
def test_array_namespaces_give_numpy_picks(namespace, make, params):
    X, Y = per_target_data()
    expected = fit_search(make(**GRID, per_target=True, **params), X, Y)
    with namespace.context():
        Xx, Yx = namespace.asarray(X), namespace.asarray(Y)
        search = fit_search(make(**GRID, per_target=True, **params), Xx, Yx)
        pred = namespace.check(search.predict(Xx))
        stages = [namespace.check(stage) for stage in search.staged_predict(Xx)]
    assert_array_equal(namespace.check(search.n_iter_), expected.n_iter_)
    assert_array_equal(namespace.check(search.rho_), expected.rho_)
    assert_allclose(pred, expected.predict(X), rtol=1e-9, atol=1e-9)
    assert_allclose(stages[-1], pred, rtol=1e-10, atol=1e-10)
    if hasattr(expected, "cv_results_"):
        assert_allclose(
            search.cv_results_["mean_test_score"],
            expected.cv_results_["mean_test_score"],
            rtol=1e-8,
        )


def test_normalized_refit_in_target_chunks(monkeypatch):
    # A normalized recursion keeps rank x targets x steps filter values: the
    # refit takes the targets in chunks (one target here), with the same model.
    X, Y = per_target_data()
    params = {
        "n_iters": GRID["n_iters"],
        "rhos": [0.0, 0.3],
        "variant": "normalized",
        "cv": 3,
        "per_target": True,
    }
    expected = fit_search(SAMRegressorCV(**params), X, Y)
    monkeypatch.setattr(_per_target_refit, "CHUNK_ENTRIES", 1)
    got = fit_search(SAMRegressorCV(**params), X, Y)
    assert_array_equal(got.n_iter_, expected.n_iter_)
    assert_allclose(got.coef_, expected.coef_, rtol=1e-12, atol=1e-14)


def test_dropped_problems_are_freed_at_once():
    # A problem and its operator hold no reference cycle: a fold's problem (its
    # copy of the data) is freed when dropped, not when the garbage collector
    # runs (with thousands of targets the folds' copies used to pile up), and a
    # target group's problem likewise; a fitted loop model still pickles.
    X, Y = per_target_data()
    gc.disable()
    try:
        problem = linear_problem(X, Y, None, True)
        problem.gradient_floor()
        column = problem.select_targets([1])
        refs = [weakref.ref(problem), weakref.ref(column)]
        del problem, column
        assert [ref() for ref in refs] == [None, None]
    finally:
        gc.enable()
    model = SAMRegressor(variant="normalized", rho=0.01, solver="iterative")
    model.fit(X, Y)
    clone = pickle.loads(pickle.dumps(model))
    assert_allclose(list(clone.staged_predict(X))[-1], model.predict(X), rtol=1e-12)


def test_a_target_failing_everywhere_is_named():
    # One-sample test folds leave R^2 undefined for every candidate of every
    # target: the error of the single-column search, naming the targets.
    X, Y = per_target_data(n=12)
    search = SAMRegressorCV(**GRID, cv=12, per_target=True)
    with pytest.raises(ValueError, match=r"per_target=True: for 3 of the 3 targets"):
        with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
            search.fit(X, Y)


GUARD = "The best mean validation score is at"
GUARD_ITERS = [0, 1, 3, 10, 30, 100, 1000, 10000, 100000]


def _guard_targets():
    """15 rows of standardized stackloss and three targets: stack loss (whose
    best mean score under an RBF kernel is an interpolant: the guard moves its
    pick), a noisy linear target and the stack loss reversed (left alone)."""
    X, y = stackloss(standardize=True)
    X, _, y, _ = train_test_split(X, y, random_state=12)
    noisy = X @ [1.0, 0.5, 0.2] + 0.3 * np.random.default_rng(0).standard_normal(15)
    return X, np.column_stack([y, noisy, y[::-1]])


def test_interpolation_guard_applies_per_target():
    # Each target's pick and ranks are those of the guarded search on its column
    # alone; one warning names the targets whose pick the guard moved.
    X, Y = _guard_targets()
    params = dict(kernel="rbf", n_iters=GUARD_ITERS, rhos=[0.0, 1.0], cv=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = SAMKernelRidgeCV(**params, per_target=True).fit(X, Y)
    messages = [str(w.message) for w in caught if GUARD in str(w.message)]
    assert len(messages) == 1
    assert "per_target=True" in messages[0]
    assert "1 of the 3 targets (columns 0)" in messages[0]
    ranks = search.cv_results_["rank_test_score"]
    moved = 0
    for t in range(3):
        with warnings.catch_warnings(record=True) as alone_caught:
            warnings.simplefilter("always")
            alone = SAMKernelRidgeCV(**params).fit(X, Y[:, t])
        guarded = any(GUARD in str(w.message) for w in alone_caught)
        moved += guarded
        assert search.best_params_[t] == alone.best_params_
        assert search.best_index_[t] == alone.best_index_
        # (candidates tied to rounding may rank either way)
        assert_same_ranks(
            ranks[:, t],
            alone.cv_results_["rank_test_score"],
            alone.cv_results_["mean_test_score"],
        )
        assert_allclose(
            search.cv_results_["mean_test_score"][:, t],
            alone.cv_results_["mean_test_score"],
            rtol=1e-10,
        )
        unguarded = SAMKernelRidgeCV(**params, max_dof_fraction=None).fit(X, Y[:, t])
        assert (unguarded.best_index_ != alone.best_index_) == guarded
    assert moved == 1
    # Guard off: GridSearchCV's pick on every column, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = SAMKernelRidgeCV(**params, per_target=True, max_dof_fraction=None)
        off.fit(X, Y)
    assert off.best_params_[0] != search.best_params_[0]
    assert off.best_params_[1:] == search.best_params_[1:]


def _dict_scorer(estimator, X, y):
    return {"r2": estimator.score(X, y), "zero": 0.0}


@pytest.mark.parametrize(
    "params, match",
    [
        ({"scoring": ["r2", "neg_mean_squared_error"], "refit": "r2"}, "scoring="),
        ({"scoring": {"a": "r2", "b": "explained_variance"}, "refit": "a"}, "scoring="),
        ({"scoring": _dict_scorer, "refit": "r2"}, "refit='r2'"),
        ({"scoring": _dict_scorer}, "returned a dict"),
        ({"refit": False}, "refit=False"),
        ({"refit": lambda results: 0}, "refit=<function"),
    ],
)
def test_per_target_with_several_metrics_or_no_refit_raises(params, match):
    X, Y = per_target_data(n=40)
    search = SAMRegressorCV(**GRID, cv=3, per_target=True, **params)
    with pytest.raises(ValueError, match=rf"per_target=True(.|\n)*{match}"):
        search.fit(X, Y)
    if "refit" not in params:  # (a dict of scores needs a refit metric anyway)
        return
    # One target (or 1-D y) is the single pick: every scoring and refit work.
    single = fit_search(
        SAMRegressorCV(**GRID, cv=3, per_target=True, **params), X, Y[:, 0]
    )
    reference = fit_search(SAMRegressorCV(**GRID, cv=3, **params), X, Y[:, 0])
    assert single.cv_results_.keys() == reference.cv_results_.keys()
    assert getattr(single, "best_index_", None) == getattr(
        reference, "best_index_", None
    )


# Default stopping times (their end is the converged path: no edge warning) and
# explicit radii. On the checks' tiny data GCV's guard near interpolation applies
# and says so (asserted in test_gcv_warnings_name_the_targets), and so does the
# interpolation guard of the K-fold search (asserted in
# test_interpolation_guard_applies_per_target).
@pytest.mark.filterwarnings(
    "ignore:cv='gcv'. generalized cross-validation is smallest:UserWarning"
)
@pytest.mark.filterwarnings(
    "ignore:The best mean validation score is at .*per_target=True:UserWarning"
)
@parametrize_with_available_checks(
    [
        SAMRegressorCV(rhos=[0.0, 0.5], cv=3, per_target=True),
        SAMKernelRidgeCV(rhos=[0.0], cv="gcv", per_target=True),
        SAMRegressorIC(rhos=[0.0, 0.5], noise_variance=1.0, per_target=True),
    ]
)
def test_per_target_searches_pass_the_estimator_checks(estimator, check):
    check(estimator)
