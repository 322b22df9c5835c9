"""SAMClassifier, SAMKernelClassifier and SAMClassifierCV against explicit loops,
RidgeClassifier and GridSearchCV."""

import warnings

import numpy as np
import pytest
from _warning_checks import fit_search
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import (
    load_iris,
    make_classification,
    make_multilabel_classification,
)
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.preprocessing import LabelBinarizer

from sksam import (
    SAMClassifier,
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMRegressor,
)
from sksam._classification import _labels
from sksam._classification._labels import (
    DecisionAccuracy,
    accuracy_path,
    decision_labels,
)

RTOL = 1e-8


def sam_loop(X, Y, sw, eta, rho, n_iter, normalized=False):
    """The weighted SAM update on centred data, written out (w_0 = 0)."""
    S = sw.sum()
    x_mean = sw @ X / S
    y_mean = sw @ Y / S
    Xc, Yc = X - x_mean, Y - y_mean
    W = np.zeros((X.shape[1], Y.shape[1]))

    def grad(W):
        return Xc.T @ (sw[:, None] * (Xc @ W - Yc)) / S

    for _ in range(n_iter):
        g = grad(W)
        if normalized:
            norms = np.linalg.norm(g, axis=0)
            g = np.where(norms > 0, g / np.where(norms > 0, norms, 1.0), 0.0)
        W = W - eta * grad(W + rho * g)
    return W, y_mean - x_mean @ W


def indicators(y):
    return LabelBinarizer(pos_label=1, neg_label=-1).fit_transform(y).astype(float)


@pytest.fixture
def multiclass():
    X, y = make_classification(
        n_samples=120,
        n_features=8,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y


@pytest.fixture
def binary():
    X, y = make_classification(n_samples=90, n_features=6, random_state=1)
    return X, y


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_coefficients_are_the_loop_on_indicators(multiclass, variant, solver):
    X, y = multiclass
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    clf = SAMClassifier(
        rho=0.5, n_iter=12, learning_rate=0.02, variant=variant, solver=solver
    ).fit(X, y, sample_weight=sw)
    W, b = sam_loop(X, indicators(y), sw, 0.02, 0.5, 12, variant == "normalized")
    np.testing.assert_allclose(clf.coef_, W.T, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, b, rtol=RTOL)
    decision = X @ W + b
    np.testing.assert_allclose(clf.decision_function(X), decision, rtol=RTOL)
    np.testing.assert_array_equal(clf.predict(X), decision.argmax(axis=1))


def test_binary_has_one_column_like_ridge_classifier(binary):
    X, y = binary
    labels = np.where(y == 1, "yes", "no")
    clf = SAMClassifier(rho=0.2, n_iter=30, learning_rate=0.05).fit(X, labels)
    W, b = sam_loop(X, indicators(labels), np.ones(len(y)), 0.05, 0.2, 30)
    ridge = RidgeClassifier().fit(X, labels)
    assert clf.coef_.shape == ridge.coef_.shape == (X.shape[1],)
    assert clf.intercept_.shape == ridge.intercept_.shape == (1,)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    decision = clf.decision_function(X)
    assert decision.shape == (len(y),)
    np.testing.assert_allclose(decision, (X @ W + b)[:, 0], rtol=RTOL)
    np.testing.assert_array_equal(
        clf.predict(X), np.where(decision > 0, "yes", "no").astype(object)
    )
    assert clf.score(X, labels) == accuracy_score(labels, clf.predict(X))


def test_rho_zero_many_steps_is_least_squares_classifier(multiclass):
    X, y = multiclass
    clf = SAMClassifier(rho=0.0, n_iter=10**7).fit(X, y)
    ridge = RidgeClassifier(alpha=1e-10, solver="svd").fit(X, y)
    np.testing.assert_allclose(clf.coef_, ridge.coef_, rtol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ridge.intercept_, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), ridge.predict(X))


def test_class_weight_multiplies_sample_weight(multiclass):
    X, y = multiclass
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    class_weight = {0: 3.0, 1: 0.5, 2: 1.0}
    weighted = SAMClassifier(n_iter=20, class_weight=class_weight)
    weighted.fit(X, y, sample_weight=sw)
    manual = SAMClassifier(n_iter=20).fit(
        X, y, sample_weight=sw * np.array([3.0, 0.5, 1.0])[y]
    )
    np.testing.assert_allclose(weighted.coef_, manual.coef_, rtol=1e-12)
    balanced = SAMClassifier(n_iter=20, class_weight="balanced").fit(X[:100], y[:100])
    counts = np.bincount(y[:100])
    manual = SAMClassifier(n_iter=20).fit(
        X[:100], y[:100], sample_weight=(100 / (3 * counts))[y[:100]]
    )
    np.testing.assert_allclose(balanced.coef_, manual.coef_, rtol=1e-12)


def test_staged_methods_follow_the_path(multiclass):
    X, y = multiclass
    for solver in ("spectral", "iterative"):
        clf = SAMClassifier(rho=0.3, n_iter=7, solver=solver).fit(X, y)
        stages = list(clf.staged_decision_function(X[:20]))
        labels = list(clf.staged_predict(X[:20]))
        assert len(stages) == len(labels) == 7
        for k, (stage, label) in enumerate(zip(stages, labels, strict=True), start=1):
            ref = SAMClassifier(rho=0.3, n_iter=k, solver=solver).fit(X, y)
            np.testing.assert_allclose(stage, ref.decision_function(X[:20]), rtol=RTOL)
            np.testing.assert_array_equal(label, ref.predict(X[:20]))


def test_sparse_input_matches_dense(multiclass):
    X, y = multiclass
    dense = SAMClassifier(n_iter=25).fit(X, y)
    for solver in ("auto", "iterative"):
        sp = SAMClassifier(n_iter=25, solver=solver).fit(sparse.csr_matrix(X), y)
        np.testing.assert_allclose(sp.coef_, dense.coef_, rtol=RTOL, atol=1e-13)
        np.testing.assert_array_equal(
            sp.predict(sparse.csr_matrix(X)), dense.predict(X)
        )


def test_multilabel_is_one_column_per_label():
    X, Y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    clf = SAMClassifier(n_iter=40).fit(X, Y)
    reg = SAMRegressor(n_iter=40).fit(X, 2.0 * Y - 1.0)
    np.testing.assert_allclose(clf.coef_, reg.coef_, rtol=RTOL)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, (reg.predict(X) > 0).astype(int))
    assert clf.score(X, Y) == accuracy_score(Y, pred)


def test_kernel_linear_predicts_what_the_linear_classifier_predicts(multiclass):
    X, y = multiclass
    linear = SAMClassifier(rho=0.2, n_iter=15).fit(X, y)
    kernel = SAMKernelClassifier(rho=0.2, n_iter=15, kernel="linear").fit(X, y)
    np.testing.assert_allclose(
        kernel.decision_function(X), linear.decision_function(X), rtol=1e-7
    )
    np.testing.assert_array_equal(kernel.predict(X), linear.predict(X))
    stages = list(kernel.staged_predict(X))
    np.testing.assert_array_equal(stages[-1], kernel.predict(X))


def test_early_stopping_scores_accuracy(multiclass):
    X, y = multiclass
    clf = SAMClassifier(n_iter=30, early_stopping=True, random_state=0).fit(X, y)
    scores = clf.validation_score_
    assert scores.shape == (31,)
    assert clf.n_iter_ == int(np.argmax(scores))
    assert np.all((scores >= 0) & (scores <= 1))
    # The held-out accuracy of the fit on the training part at a few steps.
    from sklearn.model_selection import train_test_split

    train, val = train_test_split(np.arange(len(y)), test_size=0.1, random_state=0)
    for k in (0, 3, 30):
        part = SAMClassifier(n_iter=k).fit(X[train], y[train])
        assert scores[k] == pytest.approx(part.score(X[val], y[val]), abs=1e-12)


def test_accuracy_path_equals_accuracy_score():
    rng = np.random.default_rng(0)
    decision = rng.standard_normal((50, 3, 6))
    decision[:5, 1] = decision[:5, 0]  # ties go to the first class
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(["a", "b", "c"])
    y_true = rng.choice(["a", "b", "c", "d"], 50)
    weights = rng.uniform(0, 2, 50)
    for sw in (None, weights):
        path = accuracy_path(binarizer, y_true, decision, sw)
        for k in range(6):
            pred = decision_labels(binarizer, decision[:, :, k])
            assert path[k] == accuracy_score(y_true, pred, sample_weight=sw)


@pytest.mark.parametrize(
    "scoring,cv",
    [(None, 4), ("accuracy", KFold(3, shuffle=True, random_state=0)), ("f1_macro", 3)],
)
def test_cv_equals_grid_search(multiclass, scoring, cv):
    X, y = multiclass
    labels = np.array(["cat", "dog", "eel"])[y]
    n_iters, rhos = [1, 3, 10, 30, 100], [0.0, 0.5, 2.0]
    search = SAMClassifierCV(n_iters=n_iters, rhos=rhos, cv=cv, scoring=scoring).fit(
        X, labels
    )
    grid = GridSearchCV(
        SAMClassifier(), {"n_iter": n_iters, "rho": rhos}, cv=cv, scoring=scoring
    ).fit(X, labels)
    assert (search.n_iter_, search.rho_) == (
        grid.best_params_["n_iter"],
        grid.best_params_["rho"],
    )
    for key in ("mean_test_score", "split0_test_score", "rank_test_score"):
        np.testing.assert_allclose(
            search.cv_results_[key], grid.cv_results_[key], rtol=1e-12
        )
    assert search.best_score_ == pytest.approx(grid.best_score_, rel=1e-12)
    np.testing.assert_array_equal(search.classes_, ["cat", "dog", "eel"])
    np.testing.assert_array_equal(search.predict(X), grid.predict(X))
    np.testing.assert_allclose(
        search.decision_function(X), grid.decision_function(X), rtol=1e-12
    )


def test_cv_is_stratified_by_default(binary):
    X, y = binary
    n_iters, rhos = [2, 5, 20], [0.0, 1.0]
    search = SAMClassifierCV(n_iters=n_iters, rhos=rhos)
    fit_search(search, X, y)
    stratified = GridSearchCV(
        SAMClassifier(), {"n_iter": n_iters, "rho": rhos}, cv=StratifiedKFold(5)
    ).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["split3_test_score"],
        stratified.cv_results_["split3_test_score"],
        rtol=1e-12,
    )


def test_cv_with_sample_weight_and_sparse_input(multiclass):
    X, y = multiclass
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    n_iters, rhos = [1, 4, 16, 64], [0.0, 1.0]
    Xs = sparse.csr_matrix(X)
    search = SAMClassifierCV(n_iters=n_iters, rhos=rhos)
    search.fit(Xs, y, sample_weight=sw)
    grid = GridSearchCV(SAMClassifier(), {"n_iter": n_iters, "rho": rhos}, cv=5)
    grid.fit(Xs, y, sample_weight=sw)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        grid.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert (search.n_iter_, search.rho_) == tuple(grid.best_params_.values())
    np.testing.assert_allclose(search.coef_, grid.best_estimator_.coef_, rtol=1e-10)


def test_cv_staged_methods_and_gcv():
    X, y = load_iris(return_X_y=True)
    search = fit_search(SAMClassifierCV(n_iters=[5, 50], rhos=[0.0]), X, y)
    stages = list(search.staged_predict(X))
    assert len(stages) == search.n_iter_
    np.testing.assert_array_equal(stages[-1], search.predict(X))
    decisions = list(search.staged_decision_function(X))
    np.testing.assert_allclose(decisions[-1], search.decision_function(X))
    gcv = fit_search(
        SAMClassifierCV(n_iters=[5, 50, 500], rhos=[0.0, 1.0], cv="gcv"), X, y
    )
    assert gcv.n_iter_ in (5, 50, 500)
    assert gcv.best_score_ < 0
    assert gcv.score(X, y) > 0.8


def test_cv_multilabel_equals_grid_search():
    X, Y = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    n_iters, rhos = [1, 5, 20, 100], [0.0, 1.0]
    search = SAMClassifierCV(n_iters=n_iters, rhos=rhos)
    search.fit(X, Y)
    grid = GridSearchCV(SAMClassifier(), {"n_iter": n_iters, "rho": rhos}).fit(X, Y)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
    )
    assert (search.n_iter_, search.rho_) == tuple(grid.best_params_.values())
    np.testing.assert_array_equal(search.predict(X), grid.predict(X))


@pytest.mark.parametrize("slab_entries", [None, 50])
@pytest.mark.parametrize("n_classes", [1, 2, 4])
def test_decision_accuracy_equals_accuracy_path(n_classes, slab_entries, monkeypatch):
    # Integer-valued rows and filtered targets: every decision value is exact, so
    # the ties (to the first class) are the same in any order of summation. Small
    # slabs of rows (50 decision values) cut the classes' rows.
    if slab_entries is not None:
        monkeypatch.setattr(_labels, "BLOCK_ENTRIES", slab_entries)
    rng = np.random.default_rng(n_classes)
    labels = np.array(["a", "b", "c", "d"])[:n_classes]
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(labels)
    n_columns = 1 if n_classes <= 2 else n_classes
    Z = rng.integers(-2, 3, (60, 5)).astype(float)
    W = rng.integers(-2, 3, (5, n_columns, 7)).astype(float)
    W[:, -1, 3] = W[:, 0, 3]  # the last class ties the first at step 3
    W[:, :, 5] = 0.0  # every decision value is 0 at step 5
    y_true = rng.choice(["a", "b", "c", "d", "e"], 60)  # "e" is never predicted
    decision = np.einsum("nm,mtk->ntk", Z, W)
    for sw in (None, rng.uniform(0, 2, 60)):
        accuracy = DecisionAccuracy(binarizer, y_true, sw)
        expected = accuracy_path(binarizer, y_true, decision, sw)
        np.testing.assert_array_equal(accuracy(accuracy.rows(Z), W), expected)
        for k in (0, 3, 5):
            pred = decision_labels(binarizer, decision[:, :, k])
            assert expected[k] == accuracy_score(y_true, pred, sample_weight=sw)


def test_decision_accuracy_multilabel(monkeypatch):
    monkeypatch.setattr(_labels, "BLOCK_ENTRIES", 40)  # slabs of 2 rows
    rng = np.random.default_rng(0)
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(
        rng.integers(0, 2, (20, 3))
    )
    Z = rng.integers(-2, 3, (40, 4)).astype(float)
    W = rng.integers(-2, 3, (4, 3, 6)).astype(float)
    Y = rng.integers(0, 2, (40, 3))
    decision = np.einsum("nm,mtk->ntk", Z, W)
    accuracy = DecisionAccuracy(binarizer, Y)
    np.testing.assert_array_equal(
        accuracy(accuracy.rows(Z), W), accuracy_path(binarizer, Y, decision)
    )


def test_default_grid_equals_grid_search_with_many_classes():
    # The default path of the search (decision values from the decomposition's
    # coordinates, one product per rho) against refitted models: 6 classes, the
    # spectrum-derived grid, n_iter=0 (intercept-only models of balanced folds:
    # every class ties) in an explicit grid too.
    X, y = make_classification(
        n_samples=300,
        n_features=12,
        n_informative=8,
        n_redundant=0,
        n_classes=6,
        n_clusters_per_class=1,
        random_state=3,
    )
    search = fit_search(SAMClassifierCV(), X, y)
    for n_iters in (search.n_iters_, np.concatenate([[0], search.n_iters_[::9]])):
        search = SAMClassifierCV(n_iters=n_iters, rhos=search.rhos_).fit(X, y)
        grid = GridSearchCV(
            SAMClassifier(), {"n_iter": list(n_iters), "rho": list(search.rhos_)}
        ).fit(X, y)
        for key in ("mean_test_score", "split2_test_score"):
            np.testing.assert_array_equal(
                search.cv_results_[key], grid.cv_results_[key]
            )
        assert (search.n_iter_, search.rho_) == tuple(grid.best_params_.values())


@pytest.mark.parametrize(
    "learning_rate,n_iters,rhos",
    [
        (0.05, [2, 40], [0.0]),
        (3.0, [1, 3, 400], [0.0, 1.0]),
        (3.0, [1, 2, 3, 250], [0.0]),
    ],
)
def test_cv_unstable_and_wide_cases_equal_grid_search(
    multiclass, learning_rate, n_iters, rhos
):
    # More eigen-directions (8) than decision columns (3 classes x 2 candidates):
    # the route through the coefficients. Past the stability limit: diverged
    # candidates score nan, and finite ones so large (n_iter=250: ~1e280) that
    # their coefficients could overflow leave the split to that route too.
    X, y = multiclass
    params = dict(learning_rate=learning_rate)
    search = SAMClassifierCV(n_iters, rhos, **params)
    grid = GridSearchCV(SAMClassifier(**params), {"n_iter": n_iters, "rho": rhos})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
        grid.fit(X, y)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
    )
    assert (search.n_iter_, search.rho_) == tuple(grid.best_params_.values())


def test_fitted_classes_are_not_shared_between_fits():
    # The binarizer of a set of classes is fitted once and copied: changing one
    # model's classes_ in place leaves the next fit alone.
    X, y = load_iris(return_X_y=True)
    first = SAMClassifier(n_iter=5).fit(X, y)
    first.classes_[0] = 7
    second = SAMClassifier(n_iter=5).fit(X, y)
    np.testing.assert_array_equal(second.classes_, [0, 1, 2])
    assert set(second.predict(X)) == {0, 1, 2}


def _split_rows_data(estimator, X, y, sw, rows):
    """``_fold_fit_data`` of ``rows`` and the validation of those rows."""
    full = estimator._validate_fit_data(X, y, sw)
    fold = estimator._fold_fit_data(full, rows)
    direct = clone(estimator)._validate_fit_data(X[rows], y[rows], sw[rows])
    return fold, direct


@pytest.mark.parametrize("class_weight", [None, {0: 3.0, 1: 0.5}])
def test_fold_fit_data_is_the_validated_rows(multiclass, class_weight):
    X, y = multiclass
    sw = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    rows = np.arange(0, y.size, 3)
    fold, direct = _split_rows_data(
        SAMClassifier(class_weight=class_weight), X, y, sw, rows
    )
    np.testing.assert_array_equal(fold.X, direct.X)
    np.testing.assert_array_equal(fold.y, direct.y)
    np.testing.assert_array_equal(fold.sample_weight, direct.sample_weight)
    np.testing.assert_array_equal(fold.labels.classes_, direct.labels.classes_)
    assert (fold.y_ndim, fold.dtype) == (direct.y_ndim, direct.dtype)
    # Rows missing a class are binarized on fewer columns, and balanced weights
    # depend on the rows: those are validated again.
    estimator = SAMClassifier()
    full = estimator._validate_fit_data(X, y, sw)
    assert estimator._fold_fit_data(full, np.flatnonzero(y != 2)) is None
    balanced = SAMClassifier(class_weight="balanced")
    full = balanced._validate_fit_data(X, y, sw)
    assert balanced._fold_fit_data(full, rows) is None


def test_cv_with_folds_missing_a_class_equals_grid_search(multiclass):
    X, y = multiclass
    sw = np.random.default_rng(3).uniform(0.2, 3.0, y.size)
    rng = np.random.default_rng(4)
    without_two = np.flatnonzero(y != 2)
    splits = [
        (
            without_two[:-10],
            np.concatenate([without_two[-10:], np.flatnonzero(y == 2)]),
        ),
        tuple(np.split(rng.permutation(y.size), [80])),
        tuple(np.split(rng.permutation(y.size), [90])),
    ]
    n_iters, rhos = [1, 4, 16, 64], [0.0, 1.0]
    for class_weight in (None, "balanced", {0: 2.0, 1: 1.0, 2: 0.5}):
        search = SAMClassifierCV(
            n_iters, rhos, cv=splits, class_weight=class_weight
        ).fit(X, y, sample_weight=sw)
        grid = GridSearchCV(
            SAMClassifier(class_weight=class_weight),
            {"n_iter": n_iters, "rho": rhos},
            cv=splits,
        ).fit(X, y, sample_weight=sw)
        for split in range(3):
            key = f"split{split}_test_score"
            np.testing.assert_allclose(
                search.cv_results_[key], grid.cv_results_[key], rtol=1e-12
            )
        assert (search.n_iter_, search.rho_) == tuple(grid.best_params_.values())
