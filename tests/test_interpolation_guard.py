"""The interpolation guard of the CV searches (``max_dof_fraction``) on tiny data.

The reference is a hand computation: ``GridSearchCV``'s mean scores, and each
candidate's degrees of freedom on each training fold as the trace of its
smoother, from a fit to the identity matrix as targets (column ``j``: the fitted
values of the unit target ``e_j``).
"""

import warnings

import numpy as np
import pytest
from _data import stackloss
from _ranks import assert_same_ranks
from _warning_checks import fit_search
from numpy.testing import assert_array_equal
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.metrics import r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    check_cv,
    train_test_split,
)
from sklearn.utils._param_validation import InvalidParameterError

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

N_ITERS = [0, 1, 3, 10, 30, 100, 1000, 10000, 100000]
RELATIVE_RHOS = [0.0, 1.0, 10.0]
GUARD = "The best mean validation score is at"


def stackloss_train(seed=12):
    """The training part (15 rows) of an outer split of standardized stackloss;
    seed 12: the split where the default RBF search picked an interpolant."""
    X, y = stackloss(standardize=True)
    X_train, _, y_train, _ = train_test_split(X, y, random_state=seed)
    return X_train, y_train


def iris_subsample():
    X, y = load_iris(return_X_y=True)
    rows = np.random.default_rng(0).choice(y.size, 30, replace=False)
    return X[rows], y[rows]


def smoother_trace(regressor, X, sample_weight):
    """The trace of the training smoother of ``regressor`` (fitted values are
    ``A y``): fit to the identity as targets, sum the diagonal."""
    fitted = clone(regressor).fit(X, np.eye(X.shape[0]), sample_weight=sample_weight)
    return float(np.trace(fitted.predict(X)))


def expected_selection(reference, regressor, X, y, cv, sample_weight, fraction):
    """``(best_index, ranks, guarded)`` of the guard, by hand from the fitted
    ``GridSearchCV`` ``reference``."""
    results = reference.cv_results_
    means = results["mean_test_score"]
    largest = np.zeros(means.size)
    for train, _ in cv.split(X, y):
        weights = None if sample_weight is None else sample_weight[train]
        n_fold = train.size if weights is None else np.count_nonzero(weights)
        for index, params in enumerate(results["params"]):
            model = clone(regressor).set_params(**params)
            trace = smoother_trace(model, X[train], weights)
            largest[index] = max(largest[index], trace / n_fold)
    allowed = largest <= fraction
    best = int(np.argmax(means))
    if allowed[best]:
        return best, results["rank_test_score"], False
    ranks = np.empty(means.size, dtype=int)
    ranks[allowed] = rankdata(-means[allowed], method="min")
    ranks[~allowed] = rankdata(-means[~allowed], method="min") + allowed.sum()
    return int(np.argmax(np.where(allowed, means, -np.inf))), ranks, True


CASES = {
    "kernel ridge, RBF": (
        SAMKernelRidgeCV,
        SAMKernelRidge,
        SAMKernelRidge,
        {"kernel": "rbf"},
        0.9,
        stackloss_train,
    ),
    "linear regression": (
        SAMRegressorCV,
        SAMRegressor,
        SAMRegressor,
        {},
        0.2,
        stackloss_train,
    ),
    "kernel classifier, RBF": (
        SAMKernelClassifierCV,
        SAMKernelClassifier,
        SAMKernelRidge,
        {"kernel": "rbf", "gamma": 20.0},
        0.9,
        iris_subsample,
    ),
    "linear classifier": (
        SAMClassifierCV,
        SAMClassifier,
        SAMRegressor,
        {},
        0.12,
        iris_subsample,
    ),
}


@pytest.mark.parametrize("weights", [None, "positive", "zeros"])
@pytest.mark.parametrize("case", CASES)
def test_guard_equals_hand_computation(case, weights):
    search_class, estimator, regressor, params, fraction, data = CASES[case]
    X, y = data()
    sample_weight = None
    if weights is not None:
        sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, y.size)
        if weights == "zeros":
            sample_weight[[2, 7]] = 0.0
    classifier = search_class in (SAMClassifierCV, SAMKernelClassifierCV)
    cv = StratifiedKFold(3) if classifier else KFold(5)
    search = search_class(
        N_ITERS,
        RELATIVE_RHOS,
        relative_rho=True,
        cv=cv,
        max_dof_fraction=fraction,
        **params,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_search(search, X, y, sample_weight=sample_weight)
    grid = {"n_iter": N_ITERS, "rho": list(search.rhos_)}
    reference = GridSearchCV(estimator(**params), grid, cv=cv)
    reference.fit(X, y, sample_weight=sample_weight)
    best, ranks, guarded = expected_selection(
        reference,
        regressor(**params),
        X,
        y,
        check_cv(cv, y, classifier=classifier),
        sample_weight,
        fraction,
    )
    assert search.best_index_ == best
    assert_array_equal(search.cv_results_["rank_test_score"], ranks)
    assert search.best_score_ == pytest.approx(
        reference.cv_results_["mean_test_score"][best], rel=1e-9
    )
    messages = [str(w.message) for w in caught if GUARD in str(w.message)]
    assert len(messages) == int(guarded)
    if weights is None:
        assert guarded  # (each case is one where the guard binds)
    if guarded:
        before = reference.best_params_
        assert f"n_iter={before['n_iter']}, " in messages[0]
        assert f"n_iter={search.n_iter_}, " in messages[0]


def test_weights_scale_free():
    # The fold's sample count is its rows with a positive weight, whatever the
    # scale of the weights (GCV's sum of weights would not be).
    X, y = stackloss_train()
    weights = np.random.default_rng(2).uniform(0.5, 2.0, y.size)
    picks = []
    for scale in (1.0, 1e-3, 1e3):
        search = SAMKernelRidgeCV(
            N_ITERS, RELATIVE_RHOS, relative_rho=True, kernel="rbf"
        )
        with pytest.warns(UserWarning, match=GUARD):
            fit_search(search, X, y, sample_weight=scale * weights)
        picks.append((search.best_index_, tuple(search.cv_results_["rank_test_score"])))
    assert picks[0] == picks[1] == picks[2]


def test_guard_off_is_grid_search():
    X, y = stackloss_train()
    search = SAMKernelRidgeCV(
        N_ITERS, RELATIVE_RHOS, relative_rho=True, kernel="rbf", max_dof_fraction=None
    )
    fit_search(search, X, y)
    grid = {"n_iter": N_ITERS, "rho": list(search.rhos_)}
    reference = GridSearchCV(SAMKernelRidge(kernel="rbf"), grid, cv=5).fit(X, y)
    assert search.best_index_ == reference.best_index_
    assert search.n_iter_ == 100000
    assert_array_equal(
        search.cv_results_["rank_test_score"], reference.cv_results_["rank_test_score"]
    )


def test_guard_too_strict_for_the_folds():
    # With an intercept every candidate has dof >= 1: above 0.01 of 12 samples.
    # Nothing to prefer: GridSearchCV's pick, no warning.
    X, y = stackloss_train()
    params = dict(relative_rho=True, kernel="rbf")
    search = SAMKernelRidgeCV(N_ITERS, RELATIVE_RHOS, max_dof_fraction=0.01, **params)
    fit_search(search, X, y)
    unguarded = SAMKernelRidgeCV(
        N_ITERS, RELATIVE_RHOS, max_dof_fraction=None, **params
    )
    fit_search(unguarded, X, y)
    assert search.best_index_ == unguarded.best_index_
    assert_array_equal(
        search.cv_results_["rank_test_score"], unguarded.cv_results_["rank_test_score"]
    )


def test_normalized_sam_is_not_guarded():
    # Normalized SAM is not linear in y: no smoother, no guard.
    X, y = stackloss_train()
    picks = []
    for fraction in (0.05, None):
        search = SAMKernelRidgeCV(
            [1, 10, 100, 1000],
            [0.0, 1.0],
            relative_rho=True,
            kernel="rbf",
            variant="normalized",
            max_dof_fraction=fraction,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no guard warning
            warnings.filterwarnings("ignore", message="The selected n_iter=")
            search.fit(X, y)
        picks.append(search.best_index_)
    assert picks[0] == picks[1]


def test_multimetric_guards_the_refit_metric_only():
    X, y = stackloss_train()
    params = dict(relative_rho=True, kernel="rbf", cv=5)
    scoring = ["r2", "neg_mean_squared_error"]
    guarded = SAMKernelRidgeCV(
        N_ITERS, RELATIVE_RHOS, scoring=scoring, refit="r2", **params
    )
    with pytest.warns(UserWarning, match=GUARD):
        fit_search(guarded, X, y)
    single = SAMKernelRidgeCV(N_ITERS, RELATIVE_RHOS, **params)
    with pytest.warns(UserWarning, match=GUARD):
        fit_search(single, X, y)
    assert guarded.best_index_ == single.best_index_
    assert_array_equal(
        guarded.cv_results_["rank_test_r2"], single.cv_results_["rank_test_score"]
    )
    grid = {"n_iter": N_ITERS, "rho": list(guarded.rhos_)}
    reference = GridSearchCV(
        SAMKernelRidge(kernel="rbf"), grid, cv=5, scoring=scoring, refit="r2"
    ).fit(X, y)
    key = "rank_test_neg_mean_squared_error"
    assert_array_equal(guarded.cv_results_[key], reference.cv_results_[key])

    # A callable refit picks by itself: GridSearchCV's ranks, no warning.
    def pick(results):
        return int(np.argmax(results["mean_test_r2"]))

    by_callable = SAMKernelRidgeCV(
        N_ITERS, RELATIVE_RHOS, scoring=scoring, refit=pick, **params
    )
    fit_search(by_callable, X, y)
    assert by_callable.best_index_ == reference.best_index_
    assert_array_equal(
        by_callable.cv_results_["rank_test_r2"], reference.cv_results_["rank_test_r2"]
    )


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5, "0.9"])
def test_invalid_fraction(fraction):
    X, y = stackloss_train()
    with pytest.raises(InvalidParameterError, match="max_dof_fraction"):
        SAMRegressorCV(max_dof_fraction=fraction).fit(X, y)


def test_stackloss_held_out_scores():
    # The user guide's figures (benchmarks/bench_tiny_data.py): the default RBF
    # search on 20 outer splits of stackloss, with and without the guard.
    X, y = stackloss(standardize=True)
    scores = {0.999: [], None: []}
    steps = {0.999: [], None: []}
    n_guarded = 0
    for seed in range(20):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        for fraction in scores:
            search = SAMKernelRidgeCV(kernel="rbf", max_dof_fraction=fraction)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit_search(search, X_train, y_train)
            n_guarded += any(GUARD in str(w.message) for w in caught)
            scores[fraction].append(r2_score(y_test, search.predict(X_test)))
            steps[fraction].append(search.n_iter_)
    assert n_guarded == 3
    assert np.mean(scores[None]) == pytest.approx(0.007, abs=5e-3)
    assert np.mean(scores[0.999]) == pytest.approx(0.620, abs=5e-3)
    assert min(scores[None]) == pytest.approx(-12.47, abs=0.01)
    assert min(scores[0.999]) == pytest.approx(-0.24, abs=0.01)
    assert steps[None][12] == 71709 and steps[0.999][12] < 2000


@pytest.mark.parametrize(
    "params",
    [
        {},
        {
            "scoring": ["r2", "neg_mean_squared_error"],
            "refit": "neg_mean_squared_error",
        },
        {"per_target": True},
    ],
)
@pytest.mark.parametrize("zero_weights", [False, True])
def test_dask_guard_equals_numpy(params, zero_weights):
    # The one-pass dask route computes each fold's degrees of freedom from its
    # moments: the guard moves the pick exactly as on numpy (16 training rows,
    # 15 features with an intercept: the converged path interpolates). With zero
    # weights on 3 rows a training fold has 13 or 14 weighted rows, which the
    # converged path interpolates (dof 13 or 14): the fraction is over the rows
    # with a positive weight on both routes (over all 16 rows it would be 0.88
    # and the guard would not bind on dask).
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 15))
    y = X @ rng.standard_normal(15) + 0.01 * rng.standard_normal(20)
    if params.get("per_target"):
        y = np.column_stack([y, X[:, 0] + rng.standard_normal(20)])
    sample_weight = None
    if zero_weights:
        sample_weight = np.random.default_rng(2).uniform(0.5, 2.0, 20)
        sample_weight[[2, 7, 11]] = 0.0
    n_iters = [0, 1, 10, 100, 1000, 10**5, 10**7]
    results = []
    for X_in, y_in, w_in in [
        (X, y, sample_weight),
        (
            da.from_array(X, chunks=7),
            da.from_array(y, chunks=7),
            None if sample_weight is None else da.from_array(sample_weight, chunks=7),
        ),
    ]:
        search = SAMRegressorCV(n_iters=n_iters, rhos=[0.0, 0.5], cv=5, **params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search.fit(X_in, y_in, sample_weight=w_in)
        assert sum(GUARD in str(w.message) for w in caught) == 1
        results.append(search)
    expected, got = results
    assert_array_equal(np.asarray(got.best_index_), np.asarray(expected.best_index_))
    for key, value in expected.cv_results_.items():
        if key.startswith("mean_test_"):
            np.testing.assert_allclose(got.cv_results_[key], value, rtol=1e-7)
        if key.startswith("rank_test_"):
            # Candidates whose means tie to rounding (the converged end of the
            # path) may rank either way: the ranks are compared elsewhere.
            means = expected.cv_results_["mean_test_" + key[len("rank_test_") :]]
            assert_same_ranks(got.cv_results_[key], value, means)
    unguarded = SAMRegressorCV(
        n_iters=n_iters, rhos=[0.0, 0.5], cv=5, max_dof_fraction=None, **params
    ).fit(X, y, sample_weight=sample_weight)
    assert np.any(np.asarray(unguarded.best_index_) != np.asarray(expected.best_index_))
