"""Nystroem kernel SAM (``n_components``): exact SAM on ``K_nm K_mm^+ K_mn``.

References: the exact kernel estimator (every training row a landmark), the plain
loops of ``_reference`` (function-space SAM on the Nystroem kernel, linear SAM on its
features), scikit-learn's ``Nystroem`` + ``SAMRegressor`` pipeline with the same
landmarks, and the numpy route (dask, array API namespaces).
"""

import pickle
import warnings
from collections import Counter

import numpy as np
import pytest
from _chunk_counts import counting
from _reference import kernel_sam, linear_sam
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    StratifiedShuffleSplit,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sksam import (
    SAMKernelClassifier,
    SAMKernelClassifierCV,
    SAMKernelRidge,
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressor,
    _nystroem,
    bias_variance_decomposition,
    sam_kernel_path,
)

KERNELS = [("rbf", {"gamma": 0.3}), ("linear", {})]


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired``."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_data(n=120, d=3, seed=0, n_test=40):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    y = np.sin(X).sum(axis=1) + 0.3 * rng.standard_normal(n) + 2.0
    X_test = rng.uniform(-2, 2, size=(n_test, d))
    weights = rng.uniform(0.2, 2.0, n)
    return X, y, X_test, weights


def nystroem_kernel(X, X_eval, indices, kernel, params):
    """``K~ = K_nm K_mm^+ K_mn`` and ``K~(X_eval, X)``, by numpy's pseudo-inverse
    with the documented cut-off (``m eps`` relative to the largest eigenvalue)."""
    Z = X[indices]
    K_mm = pairwise_kernels(Z, metric=kernel, filter_params=True, **params)
    K_nm = pairwise_kernels(X, Z, metric=kernel, filter_params=True, **params)
    K_em = pairwise_kernels(X_eval, Z, metric=kernel, filter_params=True, **params)
    rtol = len(indices) * np.finfo(float).eps
    # numpy's pinv(hermitian=True) by hand (its rtol needs numpy >= 2)
    values, vectors = np.linalg.eigh(K_mm)
    kept = np.abs(values) > rtol * np.abs(values).max()
    pinv = (vectors[:, kept] / values[kept]) @ vectors[:, kept].T
    return K_nm @ pinv @ K_nm.T, K_em @ pinv @ K_nm.T


# ------------------------------------------------------ every row a landmark
@pytest.mark.parametrize("kernel, params", KERNELS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_all_rows_as_landmarks_is_the_exact_estimator(
    kernel, params, fit_intercept, weighted, variant
):
    X, y, X_test, weights = make_data()
    sw = weights if weighted else None
    rho = 0.5 if variant == "unnormalized" else 1e-3
    settings = dict(
        rho=rho,
        n_iter=60,
        kernel=kernel,
        variant=variant,
        fit_intercept=fit_intercept,
        **params,
    )
    exact = SAMKernelRidge(**settings).fit(X, y, sw)
    for m in (X.shape[0], 10 * X.shape[0]):  # m >= n_samples: all rows
        model = SAMKernelRidge(n_components=m, random_state=0, **settings).fit(X, y, sw)
        assert sorted(model.component_indices_) == list(range(X.shape[0]))
        assert_allclose(model.learning_rate_, exact.learning_rate_, rtol=1e-10)
        for rows in (X, X_test):
            assert_rel_close(model.predict(rows), exact.predict(rows), rtol=1e-6)
        staged = list(model.staged_predict(X_test))
        reference = list(exact.staged_predict(X_test))
        assert len(staged) == 60
        assert_rel_close(staged[9], reference[9], rtol=1e-6)
        assert_rel_close(staged[-1], model.predict(X_test), rtol=1e-12)


@pytest.mark.parametrize("kernel, params", KERNELS)
def test_all_rows_as_landmarks_relative_rho_and_multi_output(kernel, params):
    X, y, X_test, weights = make_data()
    Y = np.column_stack([y, np.cos(X[:, 0])])
    settings = dict(rho=1.0, relative_rho=True, n_iter=40, kernel=kernel, **params)
    exact = SAMKernelRidge(**settings).fit(X, Y, weights)
    model = SAMKernelRidge(n_components=120, random_state=0, **settings).fit(
        X, Y, weights
    )
    assert_allclose(model.rho_unit_, exact.rho_unit_, rtol=1e-10)
    assert model.dual_coef_.shape == (120, 2)
    assert model.feature_coef_.shape == (model.normalization_.shape[1], 2)
    assert_rel_close(model.predict(X_test), exact.predict(X_test), rtol=1e-6)


@pytest.mark.parametrize("kernel, params", KERNELS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_path_with_all_rows_as_landmarks_is_the_exact_path(
    kernel, params, fit_intercept
):
    X, y, X_test, weights = make_data()
    n_iters = [0, 3, 30, 300]
    args = dict(kernel=kernel, rho=0.2, fit_intercept=fit_intercept, **params)
    _, exact, b_exact = sam_kernel_path(X, y, n_iters, sample_weight=weights, **args)
    steps, dual, b = sam_kernel_path(
        X, y, n_iters, sample_weight=weights, n_components=120, random_state=0, **args
    )
    assert_array_equal(steps, n_iters)
    assert dual.shape == exact.shape == (120, 4)
    K_test = pairwise_kernels(X_test, X, metric=kernel, **params)
    assert_rel_close(K_test @ dual + b, K_test @ exact + b_exact, rtol=1e-6)


def test_path_is_the_estimator_on_the_landmark_rows():
    X, y, X_test, weights = make_data(n=200)
    args = dict(kernel="rbf", gamma=0.5, n_components=30, random_state=3)
    _, dual, intercepts = sam_kernel_path(
        X, y, [5, 50], rho=0.3, sample_weight=weights, **args
    )
    model = SAMKernelRidge(rho=0.3, n_iter=50, **args).fit(X, y, weights)
    indices = model.component_indices_
    assert_rel_close(dual[indices, 1], model.dual_coef_, rtol=1e-10)
    outside = np.setdiff1d(np.arange(200), indices)
    assert_array_equal(dual[outside], 0.0)
    assert_allclose(intercepts[1], model.intercept_, rtol=1e-10)
    K_test = pairwise_kernels(X_test, X, metric="rbf", gamma=0.5)
    assert_rel_close(K_test @ dual[:, 1] + intercepts[1], model.predict(X_test))


# ---------------------------------------------------------- reference loops
@pytest.mark.parametrize("kernel, params", KERNELS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_equals_function_space_sam_on_the_nystroem_kernel(
    kernel, params, fit_intercept, variant
):
    X, y, X_test, weights = make_data(n=90)
    rho = 0.5 if variant == "unnormalized" else 1e-2
    model = SAMKernelRidge(
        rho=rho,
        n_iter=25,
        kernel=kernel,
        n_components=20,
        random_state=1,
        variant=variant,
        fit_intercept=fit_intercept,
        **params,
    ).fit(X, y, weights)
    K, K_eval = nystroem_kernel(X, X_test, model.component_indices_, kernel, params)
    preds, _ = kernel_sam(
        K,
        y,
        model.learning_rate_,
        rho,
        [5, 25],
        K_eval=K_eval,
        variant=variant,
        fit_intercept=fit_intercept,
        sample_weight=weights,
    )
    assert_rel_close(model.predict(X_test), preds[1][:, 0])
    staged = list(model.staged_predict(X_test))
    assert_rel_close(staged[4], preds[0][:, 0])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_equals_linear_sam_on_the_features(fit_intercept):
    # Phi = K_nm U diag(s)^-1/2 from numpy's eigh; the plain loop of the update
    # rule on Phi with learning_rate="auto" computed here from its spectrum.
    X, y, X_test, weights = make_data(n=150)
    params = dict(kernel="rbf", gamma=0.4)
    rho = 0.3
    model = SAMKernelRidge(
        rho=rho,
        n_iter=40,
        n_components=25,
        random_state=2,
        fit_intercept=fit_intercept,
        **params,
    ).fit(X, y, weights)
    Z = X[model.component_indices_]
    s, U = np.linalg.eigh(pairwise_kernels(Z, metric="rbf", gamma=0.4))
    keep = s > 25 * np.finfo(float).eps * s.max()
    N = U[:, keep] / np.sqrt(s[keep])
    phi = pairwise_kernels(X, Z, metric="rbf", gamma=0.4) @ N
    phi_test = pairwise_kernels(X_test, Z, metric="rbf", gamma=0.4) @ N
    S = weights.sum()
    mean = weights @ phi / S if fit_intercept else np.zeros(phi.shape[1])
    centred = phi - mean
    lam_max = np.linalg.eigvalsh(centred.T @ (weights[:, None] * centred) / S)[-1]
    eta = 1.0 / (lam_max * (1.0 + rho * lam_max))
    assert_allclose(model.learning_rate_, eta, rtol=1e-10)
    coefs, intercepts, _ = linear_sam(
        phi, y, eta, rho, [40], fit_intercept=fit_intercept, sample_weight=weights
    )
    expected = phi_test @ coefs[0][:, 0] + intercepts[0][0]
    assert_rel_close(model.predict(X_test), expected)
    assert_allclose(model.intercept_, intercepts[0][0], rtol=1e-8, atol=1e-10)
    assert_rel_close(model.normalization_ @ model.feature_coef_, model.dual_coef_)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_equals_sklearn_nystroem_pipeline_with_the_same_landmarks(fit_intercept):
    # For unit weights the landmarks are those of sklearn's Nystroem with the same
    # random_state. Its features K_nm K_mm^-1/2 are ours rotated (U^T): linear SAM
    # is rotation-equivariant, so the predictions agree where no eigenvalue of K_mm
    # is clamped (sklearn floors them at 1e-12; here they are all well above).
    X, y, X_test, _ = make_data(n=300)
    nystroem = Nystroem(kernel="rbf", gamma=0.3, n_components=40, random_state=5)
    settings = dict(rho=0.4, n_iter=80, fit_intercept=fit_intercept)
    pipe = make_pipeline(nystroem, SAMRegressor(**settings)).fit(X, y)
    model = SAMKernelRidge(
        kernel="rbf", gamma=0.3, n_components=40, random_state=5, **settings
    ).fit(X, y)
    assert_array_equal(model.component_indices_, pipe[0].component_indices_)
    assert_array_equal(model.components_, pipe[0].components_)
    assert_allclose(model.learning_rate_, pipe[-1].learning_rate_, rtol=1e-10)
    assert_rel_close(model.predict(X_test), pipe.predict(X_test))


# --------------------------------------------------------------- landmarks
def test_random_state_reproducibility():
    X, y, X_test, _ = make_data(n=200)
    params = dict(kernel="rbf", gamma=0.3, n_components=30)
    first = SAMKernelRidge(random_state=7, **params).fit(X, y)
    again = SAMKernelRidge(random_state=7, **params).fit(X, y)
    other = SAMKernelRidge(random_state=8, **params).fit(X, y)
    assert_array_equal(first.component_indices_, again.component_indices_)
    assert_array_equal(first.predict(X_test), again.predict(X_test))
    assert not np.array_equal(
        np.sort(first.component_indices_), np.sort(other.component_indices_)
    )
    assert len(set(first.component_indices_)) == 30  # without replacement
    # The draw: the first m of check_random_state(random_state).permutation(n).
    expected = np.random.RandomState(7).permutation(200)[:30]
    assert_array_equal(first.component_indices_, expected)
    assert_array_equal(first.components_, X[expected])
    assert first.X_fit_ is first.components_
    # A RandomState instance advances with each fit (as in scikit-learn).
    rng = np.random.RandomState(0)
    model = SAMKernelRidge(random_state=rng, **params)
    draws = [model.fit(X, y).component_indices_.copy() for _ in range(2)]
    assert not np.array_equal(draws[0], draws[1])


def test_zero_weight_rows_are_never_landmarks_and_equal_removal():
    X, y, X_test, weights = make_data(n=150)
    weights[::3] = 0.0
    params = dict(kernel="rbf", gamma=0.3, n_components=40, random_state=0)
    model = SAMKernelRidge(**params).fit(X, y, weights)
    assert np.all(weights[model.component_indices_] > 0)
    kept = weights > 0
    removed = SAMKernelRidge(**params).fit(X[kept], y[kept], weights[kept])
    assert_array_equal(model.components_, removed.components_)
    assert_rel_close(model.predict(X_test), removed.predict(X_test), rtol=1e-10)
    # scikit-learn >= 1.7's weight check, or ours (scikit-learn 1.6)
    message = "at least one non-zero|sum of sample_weight must be positive"
    with pytest.raises(ValueError, match=message):
        SAMKernelRidge(**params).fit(X, y, np.zeros(150))


def test_slabs_give_the_one_slab_result(monkeypatch):
    X, y, X_test, weights = make_data(n=300, n_test=200)
    params = dict(kernel="rbf", gamma=0.3, n_components=30, random_state=0)
    whole = SAMKernelRidge(**params).fit(X, y, weights)
    expected = whole.predict(X_test)  # one slab
    monkeypatch.setattr(_nystroem, "SLAB_BYTES", 8 * 30 * 7)  # 7 rows a slab
    slabbed = SAMKernelRidge(**params).fit(X, y, weights)
    assert_rel_close(slabbed.dual_coef_, whole.dual_coef_, rtol=1e-12)
    assert_rel_close(slabbed.predict(X_test), expected, rtol=1e-12)
    assert_rel_close(whole.predict(X_test), expected, rtol=1e-12)


def test_precomputed_kernel_takes_the_landmark_columns():
    X, y, X_test, weights = make_data(n=150)
    params = dict(n_components=30, random_state=4, rho=0.2, n_iter=50)
    K = pairwise_kernels(X, metric="rbf", gamma=0.3)
    K_test = pairwise_kernels(X_test, X, metric="rbf", gamma=0.3)
    named = SAMKernelRidge(kernel="rbf", gamma=0.3, **params).fit(X, y, weights)
    model = SAMKernelRidge(kernel="precomputed", **params).fit(K, y, weights)
    assert_array_equal(model.component_indices_, named.component_indices_)
    assert model.components_.shape == (30, 150)  # the landmarks' kernel rows
    assert_rel_close(model.predict(K_test), named.predict(X_test), rtol=1e-10)
    with pytest.raises(ValueError, match="n_samples_train=150; got 30 columns"):
        model.predict(K_test[:, :30])


def test_indefinite_kernel_keeps_its_positive_part():
    X, y, X_test, _ = make_data(n=100)
    params = dict(kernel="sigmoid", gamma=0.5, coef0=-1.0, n_components=40)
    with pytest.warns(UserWarning, match="indefinite on the landmarks"):
        model = SAMKernelRidge(random_state=0, **params).fit(X, y)
    assert np.all(np.isfinite(model.predict(X_test)))
    s = np.linalg.eigvalsh(model.normalization_.T @ model.normalization_)
    assert np.all(s > 0)  # only positive eigen-directions of K_mm kept


def test_zero_kernel_gives_the_intercept_only_model():
    X = np.zeros((20, 2))
    y = np.arange(20.0)
    model = SAMKernelRidge(kernel="linear", n_components=5, random_state=0).fit(X, y)
    assert model.normalization_.shape == (5, 1)
    assert_allclose(model.predict(np.ones((3, 2))), y.mean())


def test_pickle_and_refit_without_components():
    X, y, X_test, _ = make_data()
    model = SAMKernelRidge(kernel="rbf", n_components=20, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    assert_array_equal(
        list(loaded.staged_predict(X_test))[-1], list(model.staged_predict(X_test))[-1]
    )
    model.set_params(n_components=None).fit(X, y)
    assert not hasattr(model, "components_") and model.X_fit_.shape == X.shape


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 16, "random_state": 0},  # the same batches: same seed
        {"solver": "iterative"},
        {"early_stopping": True, "random_state": 0, "n_iter": 300},
    ],
    ids=["mini-batches", "iterative", "early-stopping"],
)
def test_other_routes_with_all_rows_as_landmarks_are_exact(options):
    X, y, X_test, weights = make_data()
    settings = {"kernel": "rbf", "gamma": 0.3, "n_iter": 50, **options}
    exact = SAMKernelRidge(**settings).fit(X, y, weights)
    model = SAMKernelRidge(n_components=120, **settings)
    if "random_state" not in options:
        model.set_params(random_state=0)
    model.fit(X, y, weights)
    assert model.n_iter_ == exact.n_iter_ and model.solver_ == exact.solver_
    assert_rel_close(model.predict(X_test), exact.predict(X_test), rtol=1e-6)


@pytest.mark.parametrize("kernel, params", KERNELS)
def test_sparse_rows_give_the_dense_result(kernel, params):
    from scipy import sparse

    X, y, X_test, weights = make_data()
    settings = dict(kernel=kernel, n_components=30, random_state=0, **params)
    dense = SAMKernelRidge(**settings).fit(X, y, weights)
    model = SAMKernelRidge(**settings).fit(sparse.csc_matrix(X), y, weights)
    assert sparse.issparse(model.components_)
    assert_rel_close(
        model.predict(sparse.csr_matrix(X_test)), dense.predict(X_test), rtol=1e-10
    )


# ---------------------------------------------------------------- searches
@pytest.mark.parametrize("kernel, params", KERNELS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("cv", [4, "gcv"])
def test_cv_picks_with_all_rows_as_landmarks_are_exact(
    kernel, params, fit_intercept, cv
):
    X, y, _, weights = make_data(n=100)
    settings = dict(kernel=kernel, fit_intercept=fit_intercept, cv=cv, **params)
    exact = fit_search(SAMKernelRidgeCV(**settings), X, y, sample_weight=weights)
    model = fit_search(
        SAMKernelRidgeCV(n_components=100, random_state=0, **settings),
        X,
        y,
        sample_weight=weights,
    )
    assert model.best_params_["n_iter"] == exact.best_params_["n_iter"]
    assert_allclose(model.best_params_["rho"], exact.best_params_["rho"], rtol=1e-8)
    assert_allclose(model.best_score_, exact.best_score_, rtol=1e-6)
    assert_rel_close(
        model.cv_results_["mean_test_score"],
        exact.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    assert model.components_.shape[0] == 100


@pytest.mark.parametrize("kernel, params", KERNELS)
@pytest.mark.parametrize("criterion", ["cp", "bic", "discrepancy"])
def test_ic_picks_with_all_rows_as_landmarks_are_exact(kernel, params, criterion):
    X, y, _, weights = make_data(n=100)
    settings = dict(kernel=kernel, criterion=criterion, **params)
    exact = fit_search(SAMKernelRidgeIC(**settings), X, y, sample_weight=weights)
    model = fit_search(
        SAMKernelRidgeIC(n_components=100, random_state=0, **settings),
        X,
        y,
        sample_weight=weights,
    )
    assert model.best_params_["n_iter"] == exact.best_params_["n_iter"]
    assert_allclose(model.best_params_["rho"], exact.best_params_["rho"], rtol=1e-8)
    assert_allclose(model.noise_variance_, exact.noise_variance_, rtol=1e-6)
    finite = np.isfinite(exact.criterion_)
    assert_rel_close(model.criterion_[finite], exact.criterion_[finite], rtol=1e-6)


def test_cv_equals_grid_search_over_the_nystroem_estimator():

    X, y, _, weights = make_data(n=120)
    n_iters, rhos = [1, 5, 20, 80, 300], [0.0, 0.5, 2.0]
    params = dict(kernel="rbf", gamma=0.3, n_components=25, random_state=3)
    cv = KFold(4, shuffle=True, random_state=0)
    search = fit_search(
        SAMKernelRidgeCV(n_iters, rhos, cv=cv, **params), X, y, sample_weight=weights
    )
    grid = GridSearchCV(
        SAMKernelRidge(**params), {"n_iter": n_iters, "rho": rhos}, cv=cv
    ).fit(X, y, sample_weight=weights)
    assert search.best_params_ == grid.best_params_
    assert_allclose(
        search.cv_results_["mean_test_score"],
        grid.cv_results_["mean_test_score"],
        rtol=1e-8,
    )
    assert_array_equal(
        search.best_estimator_.component_indices_,
        grid.best_estimator_.component_indices_,
    )


def test_ic_uses_the_exact_smoother_of_the_nystroem_model():
    # dof_ is the trace of the Nystroem smoother: at most rank + 1, read off the
    # features' spectrum (and not that of the exact kernel).
    X, y, _, weights = make_data(n=150)
    model = fit_search(
        SAMKernelRidgeIC(
            n_iters=[1, 10, 100, 10**6],
            rhos=[0.0],
            kernel="rbf",
            gamma=0.3,
            n_components=12,
            random_state=0,
        ),
        X,
        y,
        sample_weight=weights,
    )
    rank = model.best_estimator_.normalization_.shape[1]
    assert_allclose(model.dof_[0, -1], rank + 1, rtol=1e-6)
    assert np.all(np.diff(model.dof_[0]) > 0)


# ------------------------------------------------------------ classifiers
def test_classifier_with_all_rows_as_landmarks_is_exact():
    X, y, X_test, weights = make_data(n=120)
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    exact = SAMKernelClassifier(kernel="rbf", gamma=0.5, n_iter=50).fit(
        X, labels, weights
    )
    model = SAMKernelClassifier(
        kernel="rbf", gamma=0.5, n_iter=50, n_components=120, random_state=0
    ).fit(X, labels, weights)
    assert_rel_close(
        model.decision_function(X_test), exact.decision_function(X_test), rtol=1e-6
    )
    assert_array_equal(model.predict(X_test), exact.predict(X_test))
    search = fit_search(
        SAMKernelClassifierCV(kernel="rbf", n_components=120, random_state=0),
        X,
        labels,
    )
    reference = fit_search(SAMKernelClassifierCV(kernel="rbf"), X, labels)
    assert search.best_params_["n_iter"] == reference.best_params_["n_iter"]
    assert_allclose(search.best_score_, reference.best_score_, rtol=1e-10)
    assert search.components_.shape == (120, 3)


def test_classifier_with_few_landmarks():
    X, y, X_test, _ = make_data(n=400)
    labels = (y > np.median(y)).astype(int)
    model = SAMKernelClassifier(
        kernel="rbf", gamma=0.5, n_iter=200, n_components=40, random_state=0
    ).fit(X, labels)
    assert model.dual_coef_.shape == (40,)
    assert model.score(X, labels) > 0.8


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("value", [0, -3, 2.5, "10"])
def test_invalid_n_components(value):
    X, y, _, _ = make_data(n=30)
    with pytest.raises(InvalidParameterError, match="n_components"):
        SAMKernelRidge(n_components=value).fit(X, y)
    with pytest.raises(InvalidParameterError, match="n_components"):
        sam_kernel_path(X, y, 5, n_components=value)
    with pytest.raises(InvalidParameterError, match="n_components"):
        SAMKernelRidgeCV(n_components=value, rhos=[0.0]).fit(X, y)


def test_bias_variance_exact_with_all_rows_as_landmarks():
    X, y, X_test, _ = make_data(n=80)
    truth = np.sin(X_test).sum(axis=1) + 2.0
    kwargs = dict(
        method="exact",
        noise_std=0.3,
        f_train=np.sin(X).sum(axis=1) + 2.0,
        f_test=truth,
        param_name="n_iter",
        param_range=[1, 10, 100],
    )
    exact = bias_variance_decomposition(
        SAMKernelRidge(kernel="rbf", gamma=0.3), X, y, X_test, **kwargs
    )
    model = bias_variance_decomposition(
        SAMKernelRidge(kernel="rbf", gamma=0.3, n_components=80, random_state=0),
        X,
        y,
        X_test,
        **kwargs,
    )
    assert_rel_close(model.variance, exact.variance, rtol=1e-6)
    assert_rel_close(model.bias_squared, exact.bias_squared, rtol=1e-6)


# ------------------------------------------------------- array namespaces
def test_array_namespaces_give_numpy_results(namespace):
    X, y, X_test, weights = make_data(n=100)
    params = dict(kernel="rbf", gamma=0.3, n_components=20, random_state=0, n_iter=30)
    reference = SAMKernelRidge(**params).fit(X, y, weights)
    model = namespace.fit(SAMKernelRidge(**params), X, y, weights)
    assert_array_equal(
        namespace.check(model.component_indices_), reference.component_indices_
    )
    assert_rel_close(namespace.check(model.dual_coef_), reference.dual_coef_)
    assert_rel_close(
        namespace.predict(model, X_test), reference.predict(X_test), rtol=1e-8
    )
    with namespace.context():
        _, dual, _ = sam_kernel_path(
            namespace.asarray(X),
            namespace.asarray(y),
            [3, 30],
            kernel="rbf",
            gamma=0.3,
            n_components=20,
            random_state=0,
        )
    _, expected, _ = sam_kernel_path(
        X, y, [3, 30], kernel="rbf", gamma=0.3, n_components=20, random_state=0
    )
    assert_rel_close(namespace.check(dual), expected)


# ------------------------------------------------------------------- dask
def _dask_data(n=500, chunks=90, seed=0):
    da = pytest.importorskip("dask.array")
    X, y, X_test, weights = make_data(n=n, seed=seed)
    weights[:7] = 0.0
    lazy = [
        da.from_array(X, chunks=(chunks, X.shape[1])),
        da.from_array(y, chunks=chunks),
        da.from_array(weights, chunks=chunks),
    ]
    return (X, y, X_test, weights), lazy


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_equals_numpy(fit_intercept, weighted):
    (X, y, X_test, weights), (X_d, y_d, w_d) = _dask_data()
    params = dict(
        kernel="rbf",
        gamma=0.4,
        n_components=60,
        random_state=0,
        rho=0.3,
        n_iter=100,
        fit_intercept=fit_intercept,
    )
    eager = SAMKernelRidge(**params).fit(X, y, weights if weighted else None)
    lazy = SAMKernelRidge(**params).fit(X_d, y_d, w_d if weighted else None)
    assert_array_equal(lazy.component_indices_, eager.component_indices_)
    assert_allclose(lazy.learning_rate_, eager.learning_rate_, rtol=1e-10)
    assert_rel_close(lazy.dual_coef_, eager.dual_coef_)
    assert_allclose(lazy.intercept_, eager.intercept_, rtol=1e-8)
    prediction = lazy.predict(X_d)
    assert type(prediction).__module__.startswith("dask")
    assert_rel_close(prediction.compute(), eager.predict(X))
    assert_rel_close(lazy.predict(X_test), eager.predict(X_test))
    assert_rel_close(
        list(lazy.staged_predict(X_test))[-1], list(eager.staged_predict(X_test))[-1]
    )


def test_dask_landmarks_are_gathered_in_row_order():
    # The draw is out of row order; dask (2024.1) splits an out-of-order gather
    # into many more chunks with a PerformanceWarning: the rows are gathered
    # sorted and put back in draw order.
    da = pytest.importorskip("dask.array")
    X = np.random.default_rng(0).standard_normal((200, 3))
    X_d = da.from_array(X, chunks=(100, 3))  # 2 chunks, 60 scattered rows
    indices = np.random.default_rng(1).permutation(200)[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = _nystroem._take_rows(X_d, indices)
    assert_array_equal(rows, X[indices])


def test_dask_chunks_are_split_into_slabs(monkeypatch):
    (X, y, X_test, weights), (X_d, y_d, w_d) = _dask_data(chunks=500)
    params = dict(kernel="rbf", gamma=0.4, n_components=40, random_state=1)
    eager = SAMKernelRidge(**params).fit(X, y, weights)
    monkeypatch.setattr(_nystroem, "SLAB_BYTES", 8 * 40 * 64)  # 64 rows a slab
    features = _nystroem.NystroemMap.fit(
        X_d, None, "rbf", {"gamma": 0.4}, 40, 1
    ).features(X_d)
    assert max(features.chunks[0]) <= 64 and sum(features.chunks[0]) == 500
    lazy = SAMKernelRidge(**params).fit(X_d, y_d, w_d)
    assert_rel_close(lazy.dual_coef_, eager.dual_coef_)
    assert_rel_close(lazy.predict(X_d).compute(), eager.predict(X))


def test_dask_path_and_one_pass_searches_equal_numpy():
    (X, y, _, weights), (X_d, y_d, w_d) = _dask_data()
    params = dict(kernel="rbf", gamma=0.4, n_components=50, random_state=2)
    _, eager, b_eager = sam_kernel_path(
        X, y, [1, 10, 100], sample_weight=weights, **params
    )
    _, lazy, b_lazy = sam_kernel_path(
        X_d, y_d, [1, 10, 100], sample_weight=w_d, **params
    )
    assert_rel_close(lazy, eager)
    assert_rel_close(b_lazy, b_eager)
    for search in (SAMKernelRidgeCV(cv="gcv", **params), SAMKernelRidgeIC(**params)):
        numpy_fit = fit_search(search, X, y, sample_weight=weights)
        best = dict(numpy_fit.best_params_)
        dask_fit = fit_search(search, X_d, y_d, sample_weight=w_d)
        assert dask_fit.best_params_["n_iter"] == best["n_iter"]
        assert_allclose(dask_fit.best_params_["rho"], best["rho"], rtol=1e-8)
        assert_rel_close(dask_fit.dual_coef_, numpy_fit.dual_coef_)


@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_kernel_classifier_on_dask_equals_numpy(n_classes, class_weight):
    """Labels from one pass over dask y, the features per chunk: the decision
    values, labels and landmarks of the in-memory fit, as dask arrays."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((240, 4))
    codes = np.digitize(X[:, 0] + 0.3 * rng.standard_normal(240), [-0.4, 0.6])
    labels = np.array(["low", "mid", "high"])[np.minimum(codes, n_classes - 1)]
    weights = rng.uniform(0.5, 2.0, 240)
    params = dict(
        kernel="rbf",
        gamma=0.5,
        n_components=40,
        random_state=0,
        n_iter=50,
        class_weight=class_weight,
    )
    eager = SAMKernelClassifier(**params).fit(X, labels, sample_weight=weights)
    X_d = da.from_array(X, chunks=80)
    lazy = SAMKernelClassifier(**params).fit(
        X_d, da.from_array(labels, chunks=80), da.from_array(weights, chunks=80)
    )
    assert_array_equal(lazy.component_indices_, eager.component_indices_)
    assert_array_equal(lazy.classes_, eager.classes_)
    decision, predicted = lazy.decision_function(X_d), lazy.predict(X_d)
    assert isinstance(decision, da.Array) and isinstance(predicted, da.Array)
    assert_rel_close(decision.compute(), eager.decision_function(X))
    assert_array_equal(predicted.compute(), eager.predict(X))


CV_GRID = dict(n_iters=[0, 3, 30, 300, 3000], rhos=[0.0, 0.5], relative_rho=True)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "cv",
    [
        KFold(4, shuffle=True, random_state=0),
        ShuffleSplit(3, test_size=0.3, random_state=0),  # training rows shuffled
        ShuffleSplit(3, train_size=0.5, test_size=0.3, random_state=1),
    ],
    ids=["kfold", "shuffle", "shuffle-partial"],
)
def test_dask_cv_splits_equal_numpy(cv, weighted):
    """Each split draws its landmarks from its own training rows (in the
    splitter's order) as the in-memory search does; all the splits' moments, each
    in its own features, and the refit's in one pass over the data."""
    (X, y, X_test, weights), (X_d, y_d, w_d) = _dask_data(n=300, chunks=70)
    Y = np.column_stack([y, np.cos(X[:, 0])])
    Y_d = pytest.importorskip("dask.array").from_array(Y, chunks=70)
    params = dict(CV_GRID, cv=cv, kernel="rbf", gamma=0.4, n_components=40)
    params["random_state"] = 3
    for targets, targets_d in ((y, y_d), (Y, Y_d)):
        eager = fit_search(
            SAMKernelRidgeCV(**params), X, targets, weights if weighted else None
        )
        X_c, counts = counting(X, 70)
        lazy = fit_search(
            SAMKernelRidgeCV(**params), X_c, targets_d, w_d if weighted else None
        )
        # One pass to gather every map's landmarks, one for all the moments.
        assert counts == Counter(dict.fromkeys(range(5), 2))
        assert lazy.best_index_ == eager.best_index_
        assert_allclose(lazy.rho_, eager.rho_, rtol=1e-12)  # relative radii
        for key in ("mean_test_score", "std_test_score", "split0_test_score"):
            assert_rel_close(lazy.cv_results_[key], eager.cv_results_[key], 1e-9)
        assert_array_equal(
            lazy.cv_results_["rank_test_score"], eager.cv_results_["rank_test_score"]
        )
        assert_array_equal(lazy.component_indices_, eager.component_indices_)
        assert_rel_close(lazy.dual_coef_, eager.dual_coef_)
        prediction = lazy.predict(X_c)
        assert type(prediction).__module__.startswith("dask")
        assert_rel_close(prediction.compute(), eager.predict(X))
        assert_rel_close(lazy.predict(X_test), eager.predict(X_test))


@pytest.mark.parametrize("lazy", [False, True])
def test_random_state_instance_draws_as_grid_search(lazy):
    """A RandomState instance: every split and the refit draw from a copy of it,
    as the clones GridSearchCV fits do (the instance itself is not advanced);
    a plain fit draws from the instance."""
    (X, y, _, weights), lazy_data = _dask_data(n=150, chunks=50)
    params = dict(kernel="rbf", gamma=0.4, n_components=20)
    grid = {"n_iter": [1, 10, 100], "rho": [0.0, 0.3]}
    cv = KFold(3)
    reference = GridSearchCV(
        SAMKernelRidge(random_state=np.random.RandomState(0), **params), grid, cv=cv
    ).fit(X, y, sample_weight=weights)
    state = np.random.RandomState(0)
    search = SAMKernelRidgeCV(
        n_iters=grid["n_iter"], rhos=grid["rho"], cv=cv, random_state=state, **params
    )
    fit_search(search, *(lazy_data if lazy else (X, y, weights)))
    assert_rel_close(
        search.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        1e-9,
    )
    assert search.best_params_ == reference.best_params_
    assert_array_equal(
        search.component_indices_, reference.best_estimator_.component_indices_
    )
    assert state.randint(2**31) == np.random.RandomState(0).randint(2**31)
    # A plain fit draws from the instance (two fits, two draws).
    model = SAMKernelRidge(random_state=state, **params)
    first = model.fit(X, y).component_indices_.copy()
    assert not np.array_equal(model.fit(X, y).component_indices_, first)


def test_dask_cv_equals_grid_search():
    (X, y, _, weights), (X_d, y_d, w_d) = _dask_data(n=200, chunks=60)
    params = dict(kernel="rbf", gamma=0.4, n_components=30, random_state=0)
    cv = KFold(3, shuffle=True, random_state=2)
    lazy = fit_search(
        SAMKernelRidgeCV(n_iters=[1, 10, 100], rhos=[0.0, 0.3], cv=cv, **params),
        X_d,
        y_d,
        sample_weight=w_d,
    )
    reference = GridSearchCV(
        SAMKernelRidge(**params), {"n_iter": [1, 10, 100], "rho": [0.0, 0.3]}, cv=cv
    ).fit(X, y, sample_weight=weights)
    assert lazy.best_params_ == reference.best_params_
    assert_rel_close(
        lazy.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        1e-9,
    )


@pytest.mark.parametrize(
    "params",
    [
        {"per_target": True},
        {"scoring": ["r2", "neg_mean_squared_error"], "refit": "r2"},
    ],
)
def test_dask_cv_per_target_and_multimetric_equal_numpy(params):
    (X, y, _, weights), (X_d, _, w_d) = _dask_data(n=200, chunks=60)
    Y = np.column_stack([y, 3.0 * np.cos(X[:, 0])])
    Y_d = pytest.importorskip("dask.array").from_array(Y, chunks=60)
    params = dict(CV_GRID, cv=3, kernel="rbf", gamma=0.4, n_components=30, **params)
    params["random_state"] = 0
    eager = fit_search(SAMKernelRidgeCV(**params), X, Y, sample_weight=weights)
    lazy = fit_search(SAMKernelRidgeCV(**params), X_d, Y_d, sample_weight=w_d)
    assert_array_equal(np.asarray(lazy.best_index_), np.asarray(eager.best_index_))
    for key, value in eager.cv_results_.items():
        if key.startswith("mean_test_"):
            assert_rel_close(lazy.cv_results_[key], value, 1e-9)
    assert_rel_close(lazy.predict(X), eager.predict(X))


@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize(
    "cv",
    [3, StratifiedShuffleSplit(3, train_size=0.5, test_size=0.3, random_state=0)],
    ids=["stratified-kfold", "stratified-shuffle-partial"],
)
def test_kernel_classifier_cv_on_dask_equals_numpy(cv, class_weight):
    """The accuracy of every candidate in one more pass over the test rows, each
    split's rows through its own features (training parts that are not the test
    folds' complements reduced as their own sets, per class)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((240, 4))
    codes = np.digitize(X[:, 0] + 0.3 * rng.standard_normal(240), [-0.4, 0.6])
    labels = np.array(["low", "mid", "high"])[codes]
    weights = rng.uniform(0.5, 2.0, 240)
    params = dict(
        n_iters=[0, 3, 30, 300],
        rhos=[0.0, 0.5],
        relative_rho=True,
        cv=cv,
        kernel="rbf",
        gamma=0.5,
        n_components=30,
        random_state=0,
        class_weight=class_weight,
    )
    eager = fit_search(SAMKernelClassifierCV(**params), X, labels, weights)
    X_c, counts = counting(X, 80)
    da = pytest.importorskip("dask.array")
    lazy = fit_search(
        SAMKernelClassifierCV(**params),
        X_c,
        da.from_array(labels, chunks=80),
        da.from_array(weights, chunks=80),
    )
    # The landmarks, the moments, the test rows' accuracy.
    assert counts == Counter(dict.fromkeys(range(3), 3))
    assert lazy.best_index_ == eager.best_index_
    assert_allclose(lazy.rho_, eager.rho_, rtol=1e-12)  # relative radii
    assert_allclose(
        lazy.cv_results_["mean_test_score"],
        eager.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert_array_equal(lazy.component_indices_, eager.component_indices_)
    predicted = lazy.predict(X_c)
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), eager.predict(X))


def test_dask_refusals():
    (X, y, _, _), (X_d, y_d, _) = _dask_data(n=100)
    params = dict(kernel="rbf", n_components=10, random_state=0)
    with pytest.raises(ValueError, match="With dask arrays SAMKernelRidgeCV scores"):
        SAMKernelRidgeCV(
            rhos=[0.0], n_iters=[1, 10], scoring="neg_mean_absolute_error", **params
        ).fit(X_d, y_d)
    with pytest.raises(ValueError, match="batch_size is not supported for dask"):
        SAMKernelRidge(batch_size=10, **params).fit(X_d, y_d)
    da = pytest.importorskip("dask.array")
    K_d = da.from_array(pairwise_kernels(X), chunks=(50, 100))
    with pytest.raises(ValueError, match="'precomputed' is not supported for dask"):
        SAMKernelRidge(kernel="precomputed", n_components=10).fit(K_d, y_d)
