"""The GridSearchCV surface of the searches (issue 25): ``cv_results_``,
``scorer_``, ``n_splits_``, ``refit_time_`` always set, the deprecated
``store_cv_results``, ``SAMKernelClassifierCV``, the rho edge, ``verbose``."""

import numpy as np
import pytest
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold

from sksam import (
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMKernelClassifierCV,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressorCV,
    SAMRegressorIC,
)

GRID = {"n_iters": [1, 5, 25, 125], "rhos": [0.0, 1.0]}


def _regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.5 * rng.standard_normal(60)
    return X, y


def _classification():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.mark.parametrize(
    "search, data",
    [
        (SAMRegressorCV(**GRID, cv=3), _regression),
        (SAMKernelRidgeCV(**GRID, cv=4, kernel="rbf"), _regression),
        (SAMClassifierCV(**GRID, cv=3), _classification),
        (SAMKernelClassifierCV(**GRID, cv=3, kernel="rbf"), _classification),
    ],
)
def test_grid_search_surface_always_set(search, data):
    X, y = data()
    fit_search(search, X, y)
    assert len(search.cv_results_["params"]) == 8
    assert search.n_splits_ == search.cv
    assert "split2_test_score" in search.cv_results_
    expected = search._make_estimator().score
    assert search.scorer_(search.best_estimator_, X, y) == pytest.approx(
        expected.__func__(search.best_estimator_, X, y)
    )
    assert search.refit_time_ >= 0.0


def test_scorer_is_the_scoring():
    X, y = _regression()
    search = fit_search(SAMRegressorCV(**GRID, cv=3, scoring="neg_max_error"), X, y)
    assert repr(search.scorer_) == repr(get_scorer("neg_max_error"))
    assert search.n_splits_ == 3


def test_gcv_surface():
    X, y = _regression()
    search = fit_search(SAMRegressorCV(**GRID, cv="gcv"), X, y)
    assert search.scorer_ is None and search.n_splits_ is None
    assert search.refit_time_ >= 0.0
    assert "mean_test_score" in search.cv_results_


@pytest.mark.parametrize("ic", [SAMRegressorIC, SAMKernelRidgeIC])
def test_ic_refit_time(ic):
    X, y = _regression()
    search = fit_search(ic(**GRID), X, y)
    assert search.refit_time_ >= 0.0


@pytest.mark.parametrize("value", [True, False])
def test_store_cv_results_deprecated(value):
    X, y = _regression()
    search = SAMRegressorCV(**GRID, cv=3, store_cv_results=value)
    with pytest.warns(FutureWarning, match="store_cv_results is deprecated"):
        search.fit(X, y)
    assert hasattr(search, "cv_results_")


@pytest.mark.parametrize("kernel", ["rbf", "precomputed"])
@pytest.mark.parametrize("scoring", [None, "balanced_accuracy"])
def test_kernel_classifier_cv_equals_grid_search(kernel, scoring):
    X, y = _classification()
    params = {"kernel": kernel}
    if kernel == "precomputed":
        from sklearn.metrics.pairwise import rbf_kernel

        X = rbf_kernel(X, gamma=0.2)
    else:
        params["gamma"] = 0.2
    n_iters, rhos = [1, 3, 10, 30, 100, 300], [0.0, 0.5, 2.0]
    cv = KFold(4, shuffle=True, random_state=0)
    search = fit_search(
        SAMKernelClassifierCV(n_iters, rhos, cv=cv, scoring=scoring, **params), X, y
    )
    grid = GridSearchCV(
        SAMKernelClassifier(**params),
        {"n_iter": n_iters, "rho": rhos},
        cv=cv,
        scoring=scoring,
    ).fit(X, y)
    assert search.best_params_ == grid.best_params_
    assert search.best_index_ == grid.best_index_
    assert search.best_score_ == pytest.approx(grid.best_score_, rel=1e-12)
    for key in ("mean_test_score", "split0_test_score", "rank_test_score"):
        assert_allclose(search.cv_results_[key], grid.cv_results_[key], rtol=1e-12)
    assert_allclose(search.predict(X), grid.predict(X))
    assert_allclose(search.decision_function(X), grid.decision_function(X))


def test_rho_edge_default_grid_flags():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    search = fit_search(SAMRegressorCV(cv=3), X, y)
    assert search.rho_at_edge_ == "upper"
    assert search.rho_ == search.rhos_.max()
    # an explicit grid's end is flagged, without a warning
    explicit = fit_search(SAMRegressorCV(rhos=[0.0, search.rho_], cv=3), X, y)
    assert explicit.rho_at_edge_ == "upper"
    ic = fit_search(SAMRegressorIC(n_iters=[1, 10], rhos=[0.0]), X, y)
    assert ic.rho_at_edge_ is None  # a single radius has no edge


def test_rho_edge_interior_and_lower():
    X, y = _regression()
    search = fit_search(SAMRegressorCV([1, 5, 25, 125], [0.5, 1.0, 2.0], cv=3), X, y)
    expected = {0.5: "lower", 2.0: "upper"}.get(search.rho_)
    assert search.rho_at_edge_ == expected
    zero = fit_search(SAMRegressorCV(GRID["n_iters"], [0.0, 1e-9, 1.0], cv=3), X, y)
    assert zero.rho_at_edge_ in (None, "upper")


def test_verbose_gcv_prints_progress(capsys):
    X, y = _regression()
    fit_search(SAMRegressorCV(**GRID, cv="gcv", verbose=2), X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Scoring 8 candidates by GCV (one decomposition of all the data)"
    assert [line.split("]")[0] for line in out[1:]] == ["[GCV rho 1/2", "[GCV rho 2/2"]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_verbose_fold_lines_whole_and_in_order(capsys, n_jobs):
    X, y = _regression()
    fit_search(SAMRegressorCV(**GRID, cv=4, n_jobs=n_jobs, verbose=2), X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Fitting 4 folds for each of 8 candidates")
    folds = out[1:]
    assert [line.split("]")[0] for line in folds] == [
        f"[CV {k}/4" for k in (1, 2, 3, 4)
    ]
    for line in folds:
        assert line.count("[CV") == 1 and line.endswith("s")
        assert "END 8 candidates; best score" in line
