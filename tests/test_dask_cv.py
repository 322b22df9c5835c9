"""Selection and classification on dask: one pass over the data, equal to numpy.

The CV searches reduce all the rows and every split in one pass of dask (each chunk
of ``X`` read once, the refit included); the IC and ``cv="gcv"`` one pass too;
``SAMClassifier`` and ``SAMClassifierCV`` take their labels from one pass over
``y`` and score the accuracy in one more pass over the test rows.
"""

from collections import Counter

import numpy as np
import pytest
from _chunk_counts import counting
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    LeaveOneOut,
    PredefinedSplit,
    ShuffleSplit,
    TimeSeriesSplit,
)

from sksam import (
    SAMClassifier,
    SAMClassifierCV,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
)

da = pytest.importorskip("dask.array")

GRID = dict(n_iters=[0, 1, 3, 10, 30, 100, 300, 1000, 3000], rhos=(0.0, 0.3, 3.0))


def assert_rel_close(actual, desired, rtol=1e-10):
    """Relative to the largest finite entry of ``desired`` (nan where it is)."""
    desired = np.asarray(desired, dtype=float)
    scale = np.abs(desired[np.isfinite(desired)]).max(initial=0.0)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


def regression(n=240, d=5, n_targets=1, seed=0):
    """Correlated columns with large means (the shift of the moments matters)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ np.diag(np.geomspace(1.0, 0.1, d)) + 50.0
    y = X @ rng.standard_normal((d, n_targets)) + 0.3 * rng.standard_normal(
        (n, n_targets)
    )
    return X, (y[:, 0] if n_targets == 1 else y) + 5.0


def lazy(*arrays, chunks=37):
    """Dask arrays with ragged row chunks unlike the folds."""
    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


def assert_same_search(got, expected, n_splits=None, rtol=1e-10):
    # The same pick, or (on the converged end of the path, where radii tie to
    # rounding: numpy 1.23) a candidate whose numpy score equals the best to rtol.
    tie = (got.n_iter_, got.rho_) != (expected.n_iter_, expected.rho_)
    if tie:
        means = expected.cv_results_["mean_test_score"]
        assert_rel_close(means[got.best_index_], means[expected.best_index_], rtol)
    keys = ["mean_test_score"]
    if n_splits is not None:
        keys += [f"split{k}_test_score" for k in range(n_splits)]
        assert got.n_splits_ == expected.n_splits_ == n_splits
    for key in keys:
        assert_array_equal(
            np.isnan(got.cv_results_[key]), np.isnan(expected.cv_results_[key])
        )
        assert_rel_close(got.cv_results_[key], expected.cv_results_[key], rtol)
    assert_rel_close(got.best_score_, expected.best_score_, rtol)
    if not tie:  # a tied pick refits another candidate
        assert_rel_close(got.coef_, expected.coef_, rtol)
        assert_rel_close(got.intercept_, expected.intercept_, rtol)


# ------------------------------------------------------------------ regression
GROUPS = np.repeat(np.arange(12), 20)
TEST_FOLD = np.where(np.arange(240) % 7 == 0, -1, np.arange(240) % 3)  # -1: train


@pytest.mark.parametrize(
    "cv, scoring, groups",
    [
        (5, None, None),
        (KFold(4, shuffle=True, random_state=0), "neg_mean_squared_error", None),
        (GroupKFold(3), "explained_variance", GROUPS),
        (ShuffleSplit(4, test_size=0.3, random_state=0), "r2", None),
        (ShuffleSplit(3, train_size=0.5, test_size=0.2, random_state=1), None, None),
        (TimeSeriesSplit(3), "neg_root_mean_squared_error", None),
        (PredefinedSplit(TEST_FOLD), None, None),
    ],
    ids=["kfold", "shuffled", "group", "shuffle_split", "partial", "time", "predef"],
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_cv_on_dask_equals_numpy(cv, scoring, groups, weighted, n_targets):
    X, y = regression(n_targets=n_targets)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    params = dict(GRID, cv=cv, scoring=scoring)
    expected = fit_search(
        SAMRegressorCV(**params), X, y, sample_weight=sw, groups=groups
    )
    Xd, yd, swd = lazy(X, y, sw)
    got = fit_search(SAMRegressorCV(**params), Xd, yd, sample_weight=swd, groups=groups)
    assert_same_search(got, expected, expected.n_splits_)
    assert isinstance(got.predict(Xd), da.Array)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_sample_folds_on_dask(fit_intercept):
    # Leave-one-out: the MSE of each one-sample fold, as numpy; R^2 of one sample is
    # nan (as in scikit-learn), so every candidate fails, with the same error.
    X, y = regression(n=30, d=3)
    params = dict(GRID, cv=LeaveOneOut(), fit_intercept=fit_intercept)
    expected = fit_search(
        SAMRegressorCV(**params, scoring="neg_mean_squared_error"), X, y
    )
    got = fit_search(
        SAMRegressorCV(**params, scoring="neg_mean_squared_error"),
        *lazy(X, y, chunks=7),
    )
    assert_same_search(got, expected, 30)
    for data in ((X, y), lazy(X, y, chunks=7)):
        with (
            pytest.warns(UndefinedMetricWarning, match="less than two samples"),
            pytest.raises(ValueError, match="some test folds have a single sample"),
        ):
            SAMRegressorCV(**params).fit(*data)


def test_cv_with_duplicate_rows_and_boolean_masks():
    # An iterable of splits may repeat test rows (scored twice, as GridSearchCV's
    # X[test] would) and give boolean masks.
    X, y = regression(n=60, d=3)
    rows = np.arange(60)
    mask = rows % 3 == 0
    splits = [
        (rows[rows >= 20], np.concatenate([rows[:20], rows[:5]])),
        (~mask, mask),
    ]
    params = dict(GRID, cv=splits, scoring="neg_mean_squared_error")
    expected = fit_search(SAMRegressorCV(**params), X, y)
    got = fit_search(SAMRegressorCV(**params), *lazy(X, y, chunks=13))
    assert_same_search(got, expected, 2)


def test_cv_reads_each_chunk_once_with_any_splitter():
    X, y = regression()
    for cv in (KFold(5), ShuffleSplit(3, test_size=0.3, random_state=0)):
        Xd, counts = counting(X)
        fit_search(SAMRegressorCV(**GRID, cv=cv), Xd, y)
        assert counts == Counter(dict.fromkeys(range(6), 1))


def test_moments_are_accurate_about_large_means():
    # Column means of 1e6 and unit spread: the chunks' moments are about their own
    # means and merged pairwise, so the centred Gram keeps its digits.
    X, y = regression()
    X = X + 1e6
    expected = fit_search(SAMRegressorCV(**GRID, cv=4), X, y)
    got = fit_search(SAMRegressorCV(**GRID, cv=4), *lazy(X, y))
    assert_same_search(got, expected, 4, rtol=1e-8)


@pytest.mark.parametrize("criterion", ["cp", "aic", "bic", "discrepancy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ic_on_dask_equals_numpy_in_one_pass(criterion, weighted):
    X, y = regression(n_targets=2)
    sw = np.random.default_rng(2).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    params = dict(GRID, criterion=criterion)
    expected = fit_search(SAMRegressorIC(**params), X, y, sw)
    Xd, counts = counting(X)
    got = fit_search(SAMRegressorIC(**params), Xd, y, sw)
    assert counts == Counter(dict.fromkeys(range(6), 1))
    assert (got.n_iter_, got.rho_) == (expected.n_iter_, expected.rho_)
    assert_rel_close(got.criterion_, expected.criterion_)
    assert_rel_close(got.noise_variance_, expected.noise_variance_)
    assert_rel_close(got.coef_, expected.coef_)
    assert_rel_close(got.intercept_, expected.intercept_)


@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_on_dask_equals_numpy_in_one_pass(weighted):
    X, y = regression(n_targets=2)
    sw = np.random.default_rng(3).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    expected = fit_search(SAMRegressorCV(**GRID, cv="gcv"), X, y, sample_weight=sw)
    Xd, counts = counting(X)
    got = fit_search(SAMRegressorCV(**GRID, cv="gcv"), Xd, y, sample_weight=sw)
    assert counts == Counter(dict.fromkeys(range(6), 1))
    assert_same_search(got, expected)


def test_unsupported_cv_settings_fail_before_the_pass():
    X, y = regression()
    Xd, counts = counting(X)
    with pytest.raises(ValueError, match="supports only the squared-error scorings"):
        SAMRegressorCV(**GRID, scoring="neg_mean_absolute_error").fit(Xd, y)
    with pytest.raises(ValueError, match="supports only the scorings None and"):
        SAMClassifierCV(**GRID, scoring="balanced_accuracy").fit(Xd, y > y.mean())
    assert not counts  # refused before any chunk was read


# -------------------------------------------------------------- classification
def classification(n=300, labels="int", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) + 2.0
    score = X @ rng.standard_normal(4) + 0.5 * rng.standard_normal(n)
    if labels == "binary":
        return X, np.where(score > np.median(score), 7, -1)
    classes = np.digitize(score, np.quantile(score, [0.2, 0.5, 0.8]))
    if labels == "str":
        return X, np.array(["ant", "bee", "cat", "dog"])[classes]
    return X, classes + 10


# No n_iter=0: with balanced class weights the intercept-only model ties every
# class exactly, and rounding picks one.
CLASS_GRID = dict(GRID, n_iters=GRID["n_iters"][1:])

CLASS_CASES = [
    ("binary", None, False),
    ("int", None, True),
    ("str", "balanced", False),
    ("str", {"bee": 3.0, "dog": 0.5}, True),
    ("binary", "balanced", True),
]


@pytest.mark.parametrize("labels, class_weight, weighted", CLASS_CASES)
def test_classifier_on_dask_equals_numpy(labels, class_weight, weighted):
    X, y = classification(labels=labels)
    sw = np.random.default_rng(4).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    params = dict(rho=0.5, n_iter=40, class_weight=class_weight)
    expected = SAMClassifier(**params).fit(X, y, sw)
    Xd, yd, swd = lazy(X, y, sw, chunks=45)
    got = SAMClassifier(**params).fit(Xd, yd, swd)
    assert_array_equal(got.classes_, expected.classes_)
    assert got.classes_.dtype == expected.classes_.dtype
    assert_rel_close(got.coef_, expected.coef_)
    assert_rel_close(got.intercept_, expected.intercept_)
    assert np.shape(got.intercept_) == np.shape(expected.intercept_)
    assert got.learning_rate_ == pytest.approx(expected.learning_rate_, rel=1e-10)
    decision, labels_ = got.decision_function(Xd), got.predict(Xd)
    assert isinstance(decision, da.Array) and isinstance(labels_, da.Array)
    assert_rel_close(decision.compute(), expected.decision_function(X))
    assert_array_equal(labels_.compute(), expected.predict(X))
    assert labels_.dtype == expected.predict(X).dtype
    staged = list(got.staged_predict(X))
    assert_array_equal(staged[-1], expected.predict(X))
    # numpy labels with dask X (and the other way round) take the dask route too
    mixed = SAMClassifier(**params).fit(Xd, y, sw)
    assert_rel_close(mixed.coef_, expected.coef_)
    mixed = SAMClassifier(**params).fit(X, yd, sw)
    assert_rel_close(mixed.coef_, expected.coef_)


@pytest.mark.parametrize("labels, class_weight, weighted", CLASS_CASES)
@pytest.mark.parametrize(
    "cv",
    [5, KFold(3, shuffle=True, random_state=0), ShuffleSplit(3, random_state=0)],
    ids=["stratified", "kfold", "shuffle_split"],
)
def test_classifier_cv_on_dask_equals_numpy(labels, class_weight, weighted, cv):
    X, y = classification(labels=labels)
    sw = np.random.default_rng(5).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    params = dict(CLASS_GRID, cv=cv, class_weight=class_weight)
    expected = fit_search(SAMClassifierCV(**params), X, y, sample_weight=sw)
    Xd, yd = lazy(X, y, chunks=45)
    got = fit_search(SAMClassifierCV(**params), Xd, yd, sample_weight=sw)
    assert_same_search(got, expected, expected.n_splits_)
    assert_array_equal(got.classes_, expected.classes_)
    prediction = got.predict(Xd)
    assert isinstance(prediction, da.Array)
    assert_array_equal(prediction.compute(), expected.predict(X))


def test_classifier_gcv_on_dask_equals_numpy():
    X, y = classification(labels="str")
    expected = fit_search(SAMClassifierCV(**GRID, cv="gcv"), X, y)
    got = fit_search(SAMClassifierCV(**GRID, cv="gcv"), *lazy(X, y))
    assert_same_search(got, expected)


def test_classifier_passes_over_the_data():
    # The fit: y once for the classes, then X and y once for the moments. The CV:
    # the labels once, the moments of every split (and the refit) in one pass over
    # X, the accuracy of every candidate in one more pass over the test rows.
    X, y = classification()
    Xd, x_counts = counting(X, chunks=50)
    yd, y_counts = counting(y[:, None], chunks=50)
    yd = yd[:, 0]
    SAMClassifier().fit(Xd, yd)
    assert x_counts == Counter(dict.fromkeys(range(6), 1))
    assert y_counts == Counter(dict.fromkeys(range(6), 2))
    # The search reads dask labels once (for the stratified folds too).
    x_counts.clear()
    y_counts.clear()
    fit_search(SAMClassifierCV(**CLASS_GRID, cv=5), Xd, yd)
    assert x_counts == Counter(dict.fromkeys(range(6), 2))
    assert y_counts == Counter(dict.fromkeys(range(6), 1))


def test_classifier_dask_errors():
    X, y = classification()
    Xd, yd = lazy(X, y)
    with pytest.raises(ValueError, match="batch_size is not supported"):
        SAMClassifier(batch_size=10).fit(Xd, yd)
    with pytest.raises(ValueError, match="early_stopping is not supported"):
        SAMClassifier(early_stopping=True).fit(Xd, yd)
    with pytest.raises(ValueError, match="solver='iterative' is not supported"):
        SAMClassifier(solver="iterative").fit(Xd, yd)
    with pytest.raises(ValueError, match="multilabel and multi-output targets"):
        SAMClassifier().fit(Xd, da.from_array(np.eye(3)[y % 3], chunks=37))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        SAMClassifier().fit(Xd, X[:, 0])
    with pytest.raises(ValueError, match="does not match X"):
        SAMClassifier().fit(Xd, yd[:-1])
    with pytest.raises(ValueError, match="requires y to be passed"):
        SAMClassifier().fit(Xd, None)
    # A training part without a class: its model would know fewer classes.
    order = np.argsort(y, kind="stable")
    with pytest.raises(ValueError, match="has no sample of the classes"):
        SAMClassifierCV(**GRID, cv=KFold(4)).fit(Xd[order], y[order])


def test_classifier_column_vector_labels_warn_as_numpy():
    from sklearn.exceptions import DataConversionWarning

    X, y = classification(labels="binary")
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        expected = SAMClassifier().fit(X, y[:, None])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        got = SAMClassifier().fit(*lazy(X, y[:, None]))
    assert_rel_close(got.coef_, expected.coef_)


# ------------------------------------------------------------------ distributed
@pytest.mark.slow  # starts two worker processes
def test_local_cluster_with_processes():
    distributed = pytest.importorskip("distributed")
    import dask

    X, y = regression(n=400, n_targets=2)
    Xc, yc = classification(n=400, labels="str")
    expected = SAMRegressor(rho=0.4, n_iter=30).fit(X, y)
    expected_cv = fit_search(SAMRegressorCV(**GRID, cv=4), X, y)
    expected_clf = fit_search(SAMClassifierCV(**GRID, cv=3), Xc, yc)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        dask.config.set(scheduler=client),
        distributed.get_task_stream(client) as tasks,
    ):
        fit = SAMRegressor(rho=0.4, n_iter=30).fit(*lazy(X, y, chunks=50))
        cv = fit_search(SAMRegressorCV(**GRID, cv=4), *lazy(X, y, chunks=50))
        clf = fit_search(SAMClassifierCV(**GRID, cv=3), *lazy(Xc, yc, chunks=50))
        prediction = clf.predict(da.from_array(Xc, chunks=50)).compute()
    workers = {task["worker"] for task in tasks.data}
    assert len(workers) == 2  # the chunks were reduced in both worker processes
    assert_rel_close(fit.coef_, expected.coef_)
    assert_same_search(cv, expected_cv, 4)
    assert_same_search(clf, expected_clf, 3)
    assert_array_equal(prediction, expected_clf.predict(Xc))


def test_classifier_records_feature_names_with_dask_labels():
    pd = pytest.importorskip("pandas")
    X, y = classification(labels="str")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    got = SAMClassifier().fit(frame, da.from_array(y, chunks=50))
    assert_array_equal(got.feature_names_in_, ["a", "b", "c", "d"])
    assert_rel_close(got.coef_, SAMClassifier().fit(X, y).coef_)
