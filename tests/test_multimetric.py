"""Multi-metric scoring and ``refit`` of the CV searches, against ``GridSearchCV``.

Every search here passes explicit ``rhos``; searches that select are fitted
through ``fit_search`` (the grid-edge warnings).
"""

import warnings

import numpy as np
import pytest
import sklearn
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.metrics import (
    make_scorer,
    mean_absolute_error,
    median_absolute_error,
    r2_score,
)
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneOut, StratifiedKFold
from sklearn.utils.fixes import parse_version

import sksam._selection._path_scores as path_scores_module
import sksam._selection._split_scores as split_scores_module
from sksam import (
    SAMClassifier,
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMKernelClassifierCV,
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMRegressor,
    SAMRegressorCV,
)

N_ITERS = [1, 3, 10, 30, 100, 300]
RHOS = [0.0, 0.5, 2.0]
#: scikit-learn >= 1.7 passes sample_weight to the scorers of GridSearchCV.
WEIGHTED_SCORES = parse_version(sklearn.__version__).release >= (1, 7)


def _regression(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = X @ rng.standard_normal(5) + 0.7 * rng.standard_normal(n)
    return X, y


def _classification():
    X, y = load_iris(return_X_y=True)
    return X[::2], y[::2]


def _weights(n, weighted):
    return np.random.default_rng(3).uniform(0.2, 2.0, n) if weighted else None


def _pair(search_class, **params):
    """The search and the GridSearchCV of its estimator, same settings."""
    base = {
        SAMRegressorCV: SAMRegressor,
        SAMKernelRidgeCV: SAMKernelRidge,
        SAMClassifierCV: SAMClassifier,
        SAMKernelClassifierCV: SAMKernelClassifier,
    }[search_class]
    estimator_params = {k: v for k, v in params.items() if k in ("kernel", "gamma")}
    search_params = {k: v for k, v in params.items() if k not in estimator_params}
    search = search_class(N_ITERS, RHOS, **search_params, **estimator_params)
    grid = {"n_iter": N_ITERS, "rho": RHOS}
    reference = GridSearchCV(base(**estimator_params), grid, **search_params)
    return search, reference


def _fit_both(search, reference, X, y, sample_weight=None, expect_pick=True):
    if expect_pick:
        fit_search(search, X, y, sample_weight=sample_weight)
    else:
        search.fit(X, y, sample_weight=sample_weight)
    reference.fit(X, y, sample_weight=sample_weight)
    return search, reference


def assert_same_results(search, reference):
    """Every ``cv_results_`` key of ``GridSearchCV``, in its order, the same
    scores (to rounding) and ranks; the grid of the search is ``GridSearchCV``'s."""
    got, expected = search.cv_results_, reference.cv_results_
    assert list(got) == list(expected)
    assert got["params"] == expected["params"]
    for key in expected:
        if "_test_" not in key:
            continue
        if key.startswith("rank_"):
            assert_array_equal(got[key], expected[key], err_msg=key)
            assert got[key].dtype == expected[key].dtype
        else:
            assert_allclose(got[key], expected[key], rtol=1e-9, atol=1e-12, err_msg=key)
    assert_array_equal(search.n_iters_, [p["n_iter"] for p in expected["params"][::3]])


SELECTED = ("best_index_", "best_params_", "best_score_", "best_estimator_")


def assert_same_selection(search, reference):
    """The fitted attributes GridSearchCV sets are set (and equal), the others
    absent."""
    for name in SELECTED + ("refit_time_", "multimetric_", "n_splits_"):
        assert hasattr(search, name) == hasattr(reference, name), name
    assert search.multimetric_ == reference.multimetric_
    if hasattr(reference, "best_index_"):
        assert search.best_index_ == reference.best_index_
        assert search.best_params_ == reference.best_params_
        assert (search.n_iter_, search.rho_) == (
            reference.best_params_["n_iter"],
            reference.best_params_["rho"],
        )
    if hasattr(reference, "best_score_"):
        assert_allclose(search.best_score_, reference.best_score_, rtol=1e-9)
    if isinstance(reference.scorer_, dict):
        assert list(search.scorer_) == list(reference.scorer_)
        assert [repr(s) for s in search.scorer_.values()] == [
            repr(s) for s in reference.scorer_.values()
        ]


def neg_median_ae(estimator, X, y):
    return -median_absolute_error(y, estimator.predict(X))


REGRESSION_SCORINGS = {
    "path metrics": ["r2", "neg_mean_squared_error", "neg_mean_absolute_error"],
    "mixed": ("neg_median_absolute_error", "r2"),
    "dict": {
        "fit": "r2",
        "mae": "neg_mean_absolute_error",
        "medae": make_scorer(median_absolute_error, greater_is_better=False),
    },
}


@pytest.mark.parametrize("scoring", REGRESSION_SCORINGS, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "search_class, params",
    [(SAMRegressorCV, {}), (SAMKernelRidgeCV, {"kernel": "rbf", "gamma": 0.1})],
    ids=["linear", "rbf"],
)
def test_regression_equals_grid_search(search_class, params, scoring, weighted):
    scoring = REGRESSION_SCORINGS[scoring]
    refit = "r2" if "r2" in scoring else "mae"
    X, y = _regression()
    cv = KFold(4, shuffle=True, random_state=0)
    search, reference = _pair(
        search_class, cv=cv, scoring=scoring, refit=refit, **params
    )
    _fit_both(search, reference, X, y, _weights(len(y), weighted))
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    assert search.multimetric_
    X_new = _regression(7, seed=5)[0]
    assert_allclose(
        search.predict(X_new), reference.predict(X_new), rtol=1e-8, atol=1e-10
    )


@pytest.mark.parametrize(
    "scoring",
    [
        ["accuracy"],
        ["accuracy", "balanced_accuracy"],
        {"acc": "accuracy", "f1": "f1_macro", "kappa": "matthews_corrcoef"},
    ],
    ids=["one path metric", "mixed", "dict"],
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "search_class, params",
    [(SAMClassifierCV, {}), (SAMKernelClassifierCV, {"kernel": "rbf"})],
    ids=["linear", "rbf"],
)
def test_classification_equals_grid_search(search_class, params, scoring, weighted):
    refit = "accuracy" if "accuracy" in scoring else "f1"
    X, y = _classification()
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    search, reference = _pair(
        search_class, cv=cv, scoring=scoring, refit=refit, **params
    )
    _fit_both(search, reference, X, y, _weights(len(y), weighted))
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    assert_array_equal(search.predict(X), reference.predict(X))


def test_path_metrics_share_one_prediction(monkeypatch):
    # Metrics with a score path: the per-candidate scorer is never called, and
    # the path's test predictions are formed as often as for one metric.
    calls = []
    predictions = path_scores_module._predictions

    def counted(*args, **kwargs):
        calls.append(1)
        return predictions(*args, **kwargs)

    def refused(*args, **kwargs):
        raise AssertionError("a path metric was scored on each candidate")

    monkeypatch.setattr(path_scores_module, "_predictions", counted)
    monkeypatch.setattr(split_scores_module, "candidate_scores", refused)
    X, y = _regression()
    counts = []
    for scoring in ("r2", ["r2", "neg_mean_squared_error", "explained_variance"]):
        calls.clear()
        refit = "r2" if isinstance(scoring, list) else True
        search = SAMRegressorCV(N_ITERS, RHOS, cv=3, scoring=scoring, refit=refit)
        fit_search(search, X, y)
        counts.append(len(calls))
    assert counts[0] == counts[1] > 0


def test_callable_returning_a_dict():
    def scores(estimator, X, y):
        pred = estimator.predict(X)
        return {"r2": r2_score(y, pred), "mae": -mean_absolute_error(y, pred)}

    X, y = _regression()
    search, reference = _pair(SAMRegressorCV, cv=3, scoring=scores, refit="mae")
    _fit_both(search, reference, X, y)
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    assert search.scorer_ is scores
    # refit=True cannot name a metric of the dict: the error once it is known.
    for model in _pair(SAMRegressorCV, cv=3, scoring=scores):
        with pytest.raises(ValueError, match="refit must be set to a scorer key"):
            model.fit(X, y)


def one_standard_error(results):
    """The fewest steps (then the first radius) whose mean score is within one
    standard error of the best (glmnet's rule; ``cv_results_`` in, an index out)."""
    means = results["mean_test_score"]
    n_splits = sum(key.startswith("split") for key in results)
    best = int(np.argmax(means))
    error = results["std_test_score"][best] / np.sqrt(n_splits - 1)
    steps = np.asarray(results["param_n_iter"], dtype=float)
    within = np.flatnonzero(means >= means[best] - error)
    return int(within[np.argmin(steps[within])])


@pytest.mark.parametrize("scoring", [None, ["r2", "neg_mean_squared_error"]])
def test_refit_callable(scoring):
    if scoring is None:
        refit = one_standard_error
    else:

        def refit(results):
            return int(np.argmax(results["mean_test_neg_mean_squared_error"]))

    X, y = _regression(40, seed=2)
    search, reference = _pair(SAMKernelRidgeCV, cv=5, scoring=scoring, refit=refit)
    _fit_both(search, reference, X, y)
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    assert not hasattr(search, "best_score_")
    # by hand: the pick and the model refitted there
    assert search.best_index_ == refit(reference.cv_results_)
    model = SAMKernelRidge(**search.best_params_).fit(X, y)
    assert_allclose(search.predict(X), model.predict(X), rtol=1e-10)


def test_one_standard_error_rule_by_hand():
    results = {
        "split0_test_score": np.array([0.50, 0.80, 0.92, 0.95]),
        "split1_test_score": np.array([0.40, 0.78, 0.86, 0.95]),
        "mean_test_score": np.array([0.45, 0.79, 0.89, 0.95]),
        "std_test_score": np.array([0.05, 0.01, 0.03, 0.0]),
        "param_n_iter": np.ma.MaskedArray([1, 10, 100, 1000]),
    }
    # best 0.95 with no spread: only itself
    assert one_standard_error(results) == 3
    results["std_test_score"][3] = 0.07  # within 0.88: 0.89 (100 steps)
    assert one_standard_error(results) == 2


@pytest.mark.parametrize(
    "scoring, refit",
    [
        (None, False),
        ("neg_mean_squared_error", False),
        (["r2", "explained_variance"], False),
    ],
)
def test_refit_false(scoring, refit):
    X, y = _regression()
    search, reference = _pair(SAMRegressorCV, cv=3, scoring=scoring, refit=refit)
    multi = isinstance(scoring, list)
    _fit_both(search, reference, X, y, expect_pick=not multi)
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    for name in ("coef_", "intercept_", "n_features_in_", "learning_rate_"):
        assert not hasattr(search, name)
    assert hasattr(search, "n_iter_") != multi
    with pytest.raises(AttributeError, match="refit=False"):
        search.predict(X)
    with pytest.raises(AttributeError, match="refit=False"):
        search.score(X, y)
    with pytest.raises(AttributeError, match="refit=False"):
        next(search.staged_predict(X))


def test_refit_false_classifier_and_a_later_refit():
    X, y = _classification()
    search = SAMClassifierCV(N_ITERS, RHOS, cv=3, scoring=["accuracy"], refit=False)
    search.fit(X, y)
    for method in ("predict", "decision_function"):
        with pytest.raises(AttributeError, match="refit=False"):
            getattr(search, method)(X)
    fit_search(search.set_params(refit="accuracy"), X, y)
    assert search.predict(X).shape == y.shape
    # and back: the refitted model of the earlier fit is gone
    search.set_params(refit=False).fit(X, y)
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "coef_")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cv": "gcv", "scoring": ["r2"]}, "cv='gcv' .* no multi-metric scoring"),
        ({"scoring": ["r2", "neg_mean_squared_error"]}, "True was passed"),
        ({"scoring": ["r2"], "refit": "mse"}, "'mse' was passed"),
        ({"scoring": {"a": "r2"}, "refit": "r2"}, "scorer keys are \\['a'\\]"),
        ({"scoring": ["r2", "r2"]}, "Duplicate elements"),
        ({"scoring": []}, "Empty list"),
        ({"scoring": {}}, "An empty dict"),
        ({"scoring": ["nope"]}, "nope"),
    ],
)
def test_errors(params, message):
    X, y = _regression()
    with pytest.raises(ValueError, match=message):
        SAMRegressorCV(N_ITERS, RHOS, **params).fit(X, y)


def test_refit_callable_errors():
    X, y = _regression()
    search = SAMRegressorCV(N_ITERS, RHOS, cv=3, refit=lambda results: 0.5)
    with pytest.raises(TypeError, match="not an integer"):
        search.fit(X, y)
    with pytest.raises(IndexError, match="out of range"):
        search.set_params(refit=lambda results: len(results["params"])).fit(X, y)


def test_set_of_names():
    X, y = _regression()
    search = SAMRegressorCV(
        N_ITERS, RHOS, cv=3, scoring={"r2", "neg_mean_squared_error"}, refit="r2"
    )
    fit_search(search, X, y)
    reference = GridSearchCV(
        SAMRegressor(),
        {"n_iter": N_ITERS, "rho": RHOS},
        cv=3,
        scoring=["r2", "neg_mean_squared_error"],
        refit="r2",
    ).fit(X, y)
    assert sorted(search.cv_results_) == sorted(reference.cv_results_)
    for key in reference.cv_results_:
        if "_test_" in key:
            assert_allclose(
                search.cv_results_[key], reference.cv_results_[key], rtol=1e-9
            )
    assert search.best_index_ == reference.best_index_


def test_a_metric_failing_everywhere():
    # R^2 of one-sample folds is undefined (nan everywhere): it ranks every
    # candidate 1, as in GridSearchCV, and the refit metric still selects.
    X, y = _regression(12)
    search, reference = _pair(
        SAMRegressorCV,
        cv=LeaveOneOut(),
        scoring=["r2", "neg_mean_squared_error"],
        refit="neg_mean_squared_error",
    )
    # (one recorder for both warnings: a nested pytest.warns swallows the
    # outer one's warning on pytest < 8)
    for fit in (lambda: fit_search(search, X, y), lambda: reference.fit(X, y)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
        categories = {type(w.message) for w in caught}
        assert sklearn.exceptions.UndefinedMetricWarning in categories
        assert any(
            type(w.message) is UserWarning
            and str(w.message).startswith("One or more of the test scores")
            for w in caught
        )
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
    assert_array_equal(search.cv_results_["rank_test_r2"], 1)
    # refit on the failed metric: the search's error naming the cause
    with pytest.warns(sklearn.exceptions.UndefinedMetricWarning):
        with pytest.raises(ValueError, match="single sample"):
            clone(search).set_params(refit="r2").fit(X, y)


def test_verbose_with_several_metrics(capsys):
    X, y = _regression()
    search = SAMRegressorCV(
        N_ITERS, RHOS, cv=3, scoring=["r2", "neg_max_error"], refit="r2", verbose=2
    )
    fit_search(search, X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "END" in line]
    assert len(lines) == 3 and all(
        "r2 " in line and "neg_max_error" in line for line in lines
    )


@pytest.fixture(scope="module")
def da():
    return pytest.importorskip("dask.array")


def test_dask_moment_metrics(da):
    X, y = _regression(200)
    scoring = {"r2": "r2", "mse": "neg_mean_squared_error", "ev": "explained_variance"}
    params = dict(cv=4, scoring=scoring, refit="mse")
    expected = fit_search(SAMRegressorCV(N_ITERS, RHOS, **params), X, y)
    got = fit_search(
        SAMRegressorCV(N_ITERS, RHOS, **params),
        da.from_array(X, chunks=50),
        da.from_array(y, chunks=50),
    )
    assert list(got.cv_results_) == list(expected.cv_results_)
    for key, value in expected.cv_results_.items():
        if "_test_" in key:
            assert_allclose(got.cv_results_[key], value, rtol=1e-8, atol=1e-10)
    assert got.best_index_ == expected.best_index_
    with pytest.raises(ValueError, match="supports only the squared-error"):
        SAMRegressorCV(
            N_ITERS, RHOS, scoring=["r2", "neg_mean_absolute_error"], refit="r2"
        ).fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50))


@pytest.mark.parametrize("weighted", [False, True])
def test_array_namespaces(namespace, weighted):
    # The combined score path (one prediction, every metric) in the input's
    # namespace gives numpy's scores.
    X, y = _regression()
    sample_weight = _weights(len(y), weighted)
    scoring = ["r2", "neg_mean_squared_error", "neg_mean_absolute_error"]
    params = dict(cv=3, scoring=scoring, refit="neg_mean_squared_error")
    expected = fit_search(SAMRegressorCV(N_ITERS, RHOS, **params), X, y, sample_weight)
    with namespace.context():
        search = fit_search(
            SAMRegressorCV(N_ITERS, RHOS, **params),
            namespace.asarray(X),
            namespace.asarray(y),
            namespace.asarray(sample_weight),
        )
        prediction = namespace.check(search.predict(namespace.asarray(X)))
    assert list(search.cv_results_) == list(expected.cv_results_)
    for key, value in expected.cv_results_.items():
        if "_test_" in key:
            assert_allclose(search.cv_results_[key], value, rtol=1e-8, atol=1e-12)
    assert search.best_index_ == expected.best_index_
    assert_allclose(prediction, expected.predict(X), rtol=1e-8)


def test_routing_with_several_metrics():
    # Under metadata routing each scorer gets the weights it requests, as in
    # GridSearchCV (a callable requesting them: scored on each candidate).
    X, y = _regression()
    sample_weight = _weights(len(y), True)
    with sklearn.config_context(enable_metadata_routing=True):
        weighted_mae = make_scorer(
            mean_absolute_error, greater_is_better=False
        ).set_score_request(sample_weight=True)
        unweighted_r2 = make_scorer(r2_score).set_score_request(sample_weight=False)
        scoring = {"mae": weighted_mae, "r2": unweighted_r2}
        search, reference = _pair(SAMRegressorCV, cv=3, scoring=scoring, refit="mae")
        search.set_fit_request(sample_weight=True)
        reference.estimator.set_fit_request(sample_weight=True)
        _fit_both(search, reference, X, y, sample_weight)
    assert_same_results(search, reference)
    assert_same_selection(search, reference)
