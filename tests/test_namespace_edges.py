"""Every namespace takes the same route: the edges where the array API route once
drifted from numpy's, run on numpy, array-api-strict and torch (CPU) through one
parametrization (the ``namespace`` fixture). Each gives numpy's result to 1e-8 in
float64, the same error type and cause, and the same warnings (none of them
stray). The offsets, scales and messages of the kernel and linear fits run on
every namespace in ``test_numerical_edges.py``."""

import warnings

import numpy as np
import pytest
from _data import small_regression
from numpy.testing import assert_allclose

from sksam import (
    SAMClassifier,
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorCV,
    SAMRegressorIC,
    sam_path,
)


def regression(n=40, d=3, seed=0):
    return small_regression(n, d, seed)


def fit(namespace, estimator, X, y, sample_weight=None):
    """``estimator`` fitted on the namespace's copies, every warning recorded."""
    with namespace.context(), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(
            namespace.asarray(X), namespace.asarray(y), namespace.asarray(sample_weight)
        )
    return estimator, record


def predict(namespace, estimator, X):
    with namespace.context():
        return namespace.check(estimator.predict(namespace.asarray(X)))


def messages(record):
    return [f"{w.category.__name__}: {w.message}" for w in record]


@pytest.mark.parametrize("search", ["gcv", "ic"])
def test_kernel_searches_on_offset_features(namespace, search):
    X, y = regression(30)
    params = {"kernel": "rbf", "gamma": 0.3, "n_iters": [1, 10, 100, 1000]}
    if search == "gcv":
        make = lambda: SAMKernelRidgeCV(cv="gcv", **params)  # noqa: E731
    else:
        make = lambda: SAMKernelRidgeIC(**params)  # noqa: E731
    expected = make().fit(X, y)
    model, record = fit(namespace, make(), X + 1e8, y)
    assert not [m for m in messages(record) if "semi-definite" in m]
    assert model.n_iter_ == expected.n_iter_
    assert_allclose(float(model.rho_), expected.rho_, rtol=1e-8)
    assert_allclose(
        predict(namespace, model, X + 1e8), expected.predict(X), atol=1e-8 * np.ptp(y)
    )


# ------------------------------------------------------- dtypes and weights
def test_float32_data_keep_float64_targets_and_weights(namespace):
    X, y = regression()
    sw = np.ones(len(y))
    sw[:5] = 1e-46  # 0 in float32: a different model
    sw[5] = 1e39  # inf in float32
    X32 = X.astype(np.float32)
    expected = SAMRegressor(n_iter=30).fit(X32, y, sample_weight=sw)
    model, record = fit(namespace, SAMRegressor(n_iter=30), X32, y, sw)
    assert messages(record) == []
    coef = namespace.check(model.coef_)
    assert coef.dtype == np.float32
    assert_allclose(coef, expected.coef_, rtol=1e-6)
    ref64 = SAMRegressor(n_iter=30).fit(X32.astype(np.float64), y, sample_weight=sw)
    assert_allclose(coef, ref64.coef_.astype(np.float32), rtol=1e-6)
    assert_allclose(model.intercept_, expected.intercept_, rtol=1e-10)


# ------------------------------------------------------ shapes and estimators
def test_ic_on_a_constant_design(namespace):
    X = np.ones((20, 3))
    y = np.arange(20.0)
    expected = SAMRegressorIC().fit(X, y)
    model, record = fit(namespace, SAMRegressorIC(), X, y)
    assert model.n_iter_ == expected.n_iter_
    assert_allclose(predict(namespace, model, X), expected.predict(X), rtol=1e-10)


def test_path_of_one_dimensional_targets(namespace):
    X, y = regression()
    steps, coefs, intercepts = sam_path(X, y, [3, 30])
    with namespace.context():
        got = sam_path(namespace.asarray(X), namespace.asarray(y), [3, 30])
    assert_allclose(namespace.check(got[1]), coefs, rtol=1e-10)
    assert_allclose(namespace.check(got[2]), intercepts, rtol=1e-10)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SAMClassifier(n_iter=20),
        lambda: SAMKernelClassifier(kernel="rbf", gamma=0.3, n_iter=20),
        lambda: SAMClassifierCV(n_iters=[1, 5, 20, 60], cv=3),
    ],
    ids=["SAMClassifier", "SAMKernelClassifier", "SAMClassifierCV"],
)
@pytest.mark.parametrize("labels", ["integers", "strings"])
def test_classifiers_on_every_namespace(namespace, make, labels):
    X, y = regression(60, 4)
    codes = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    y = codes if labels == "integers" else np.array(["a", "b", "c"])[codes]
    expected = make().fit(X, y)
    # Labels of another namespace: numeric ones are arrays of it, strings stay numpy.
    y_given = namespace.asarray(y) if labels == "integers" else y
    with namespace.context(), warnings.catch_warnings():
        warnings.simplefilter("error")
        model = make().fit(namespace.asarray(X), y_given)
        pred = model.predict(namespace.asarray(X))
        decision = namespace.check(model.decision_function(namespace.asarray(X)))
    if labels == "integers":
        pred = namespace.check(pred)
    np.testing.assert_array_equal(pred, expected.predict(X))
    assert_allclose(decision, expected.decision_function(X), rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(model.classes_, expected.classes_)


def test_cv_search_emits_no_stray_warning(namespace):
    X, y = regression(60)
    expected = SAMRegressorCV(n_iters=[1, 10, 100, 1000], cv=3).fit(X, y)
    model, record = fit(
        namespace, SAMRegressorCV(n_iters=[1, 10, 100, 1000], cv=3), X, y
    )
    assert messages(record) == []
    assert (model.n_iter_, float(model.rho_)) == (expected.n_iter_, expected.rho_)
    assert_allclose(float(model.best_score_), expected.best_score_, rtol=1e-10)
