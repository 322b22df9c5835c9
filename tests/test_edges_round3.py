"""Edge cases of issue 24 ("correct at the edges, round 3").

Bad-input and edge tests run on numpy and, where the estimators take array API
input, on array-api-strict and torch (CPU) under ``array_api_dispatch=True``.
"""

import contextlib
import warnings

import numpy as np
import pytest
import sklearn
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.fixes import parse_version

from sksam import (
    SAMClassifier,
    SAMKernelRidge,
    SAMRegressor,
)
from sksam._array_api import to_numpy

NAMESPACES = ["numpy", "array_api_strict", "torch"]


def _converter(name):
    """``(to_namespace, context)`` for the namespace ``name`` (or a skip)."""
    if name == "numpy":
        return (lambda a: a), contextlib.nullcontext
    module = pytest.importorskip(name)
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"array_api_dispatch unavailable: {exc}")
    if name == "torch":
        device = module.device("cpu")

        def to_namespace(a):
            return module.asarray(np.asarray(a), device=device)

    else:

        def to_namespace(a):
            return module.asarray(np.asarray(a))

    return to_namespace, lambda: sklearn.config_context(array_api_dispatch=True)


# --------------------------------------------------------------------- point 1
@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("kernel", [False, True])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_normalized_sam_on_a_constant_target_stays_constant(namespace, kernel, solver):
    """A gradient at rounding level counts as zero: no rho-sized step on noise."""
    to_ns, context = _converter(namespace)
    rng = np.random.default_rng(0)
    X, X_test = rng.standard_normal((30, 4)), rng.standard_normal((200, 4))
    y = np.full(30, 0.1)
    params = dict(rho=1.0, n_iter=26, variant="normalized", solver=solver)
    model = SAMKernelRidge(kernel="rbf", **params) if kernel else SAMRegressor(**params)
    with context(), warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = to_numpy(model.fit(to_ns(X), to_ns(y)).predict(to_ns(X_test)))
    assert_allclose(pred, 0.1, rtol=1e-12)


@pytest.mark.parametrize("kernel", [False, True])
def test_normalized_classifier_column_of_zero_weights_fitted_as_if_alone(kernel):
    rng = np.random.default_rng(1)
    X, X_test = rng.standard_normal((60, 3)), rng.standard_normal((400, 3))
    y = np.repeat([0, 1, 2], 20)
    X[y == 1] += 2.0
    X[y == 2] -= 2.0
    sw = np.where(y == 2, 0.0, 1.0)
    if kernel:
        from sksam import SAMKernelClassifier

        model = SAMKernelClassifier(rho=1.0, variant="normalized", kernel="rbf")
    else:
        model = SAMClassifier(rho=1.0, variant="normalized")
    model.fit(X, y, sample_weight=sw)
    # Class 2 has no weight: its indicator is -1 on every weighted sample, so its
    # column is the constant -1, never the largest decision.
    decision = model.decision_function(X_test)
    assert_allclose(decision[:, 2], -1.0, rtol=1e-12)
    assert not np.any(model.predict(X_test) == 2)


# --------------------------------------------------------------------- point 2
@pytest.mark.parametrize(
    "namespace, classifier",
    # The classifiers take numpy input only.
    [(name, False) for name in NAMESPACES] + [("numpy", True)],
)
def test_kernel_undefined_on_test_rows_raises(namespace, classifier):
    from sksam import SAMKernelClassifier

    to_ns, context = _converter(namespace)
    rng = np.random.default_rng(0)
    X = np.abs(rng.standard_normal((20, 3)))  # nonnegative inner products
    X_test = np.vstack([X[:3], -5.0 * X[:2]])  # two rows with x.x' << 0
    params = dict(kernel="poly", degree=2.5, n_iter=5)
    if classifier:
        model, y = SAMKernelClassifier(**params), np.arange(20) % 2
    else:
        model, y = SAMKernelRidge(**params), X.sum(axis=1)
    with context():
        model.fit(to_ns(X), to_ns(y))
        to_numpy(model.predict(to_ns(X_test[:3])))  # defined there
        with pytest.raises(ValueError, match="2 of the 5 test rows.*non-finite"):
            model.predict(to_ns(X_test))


# --------------------------------------------------------------------- point 3
def _near_interpolating_rbf_problem(seed):
    rng = np.random.default_rng(seed)
    n, d = 40, rng.integers(1, 4)
    X = rng.uniform(-2, 2, (n, d))
    gamma = float(rng.choice([0.5, 2.0, 5.0, 10.0]))
    y = np.sin(2 * X).sum(1) + 0.3 * rng.standard_normal(n)  # noise variance 0.09
    return X, y, gamma


@pytest.mark.parametrize("seed", [3, 7, 16, 18, 20])
def test_gcv_noise_estimate_does_not_collapse_near_interpolation(seed):
    """These 5 of 30 random RBF problems gave estimates 2e-8 .. 9e-5 (true 0.09)."""
    from sksam import SAMKernelRidgeIC

    X, y, gamma = _near_interpolating_rbf_problem(seed)
    model = SAMKernelRidgeIC(kernel="rbf", gamma=gamma)
    with pytest.warns(UserWarning, match="near interpolation"):
        fit_search(model, X, y)
    assert 0.09 / 10 < model.noise_variance_ < 0.09 * 10
    r = int(np.flatnonzero(np.asarray(model.rhos_) == model.rho_)[0])
    k = int(np.flatnonzero(np.asarray(model.n_iters_) == model.n_iter_)[0])
    assert model.dof_[r, k] < 0.95 * X.shape[0]  # not an interpolant


# -------------------------------------------------------------------- point 10
def test_ic_small_uniform_weights_warning_names_the_weight_sum():
    """Weights 0.2 (n=25, d=6) are 5 samples (frequency weights): the warning says
    so; it used to claim that the least-squares residual is zero, which is false."""
    from sksam import SAMRegressorIC

    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 6))
    y = X @ rng.standard_normal(6) + 0.5 * rng.standard_normal(25)
    grid = [1, 3, 10, 30, 100, 1000, 10000]
    with pytest.warns(UserWarning, match=r"sum of sample weights S=5 \(the number"):
        fit_search(SAMRegressorIC(grid), X, y, sample_weight=np.full(25, 0.2))


@pytest.mark.parametrize("seed", [3, 16, 20])
def test_gcv_search_does_not_pick_an_interpolant(seed):
    """cv="gcv" picked the interpolants of these problems silently, with GCV 0.003 ..
    0.13 far below the noise (0.09): the pick excludes dof > 0.9 n, and warns."""
    from sksam import SAMKernelRidgeCV

    X, y, gamma = _near_interpolating_rbf_problem(seed)
    search = SAMKernelRidgeCV(kernel="rbf", gamma=gamma, cv="gcv")
    with pytest.warns(UserWarning, match="cv='gcv'.*near interpolation"):
        fit_search(search, X, y)
    assert -search.best_score_ > 0.09
    results = search.cv_results_
    best = search.best_index_
    assert results["rank_test_score"][best] == 1
    # the excluded interpolants score better but rank after every kept candidate
    better = results["mean_test_score"] > results["mean_test_score"][best]
    assert better.any()
    assert np.all(results["rank_test_score"][better] > 1)


# --------------------------------------------------------------------- point 8
@pytest.mark.parametrize("name", ["SAMRegressorCV", "SAMKernelRidgeCV"])
def test_gcv_every_candidate_diverged_names_the_divergence(name):
    """It said "no split gave a finite score (test folds too small)"; GCV has no
    splits."""
    import sksam

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(20)
    search = getattr(sksam, name)([100, 1000], cv="gcv", learning_rate=1e6)
    with pytest.warns(ConvergenceWarning, match="not stable"):
        with pytest.raises(ValueError, match="diverged") as info:
            search.fit(X, y)
    assert "split" not in str(info.value)


# --------------------------------------------------------------------- point 5
def test_negative_definite_kernel_is_named_not_underflow(namespace):
    """fit(-K) said "eigenvalues underflow ... rescale X"."""
    from sklearn.metrics.pairwise import rbf_kernel

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(20)
    model = SAMKernelRidge(kernel="precomputed")
    with pytest.raises(ValueError, match="negative semi-definite") as info:
        namespace.fit(model, -rbf_kernel(X), y)
    assert "underflow" not in str(info.value)
    assert "sign" in str(info.value)


# --------------------------------------------------------------------- point 6
@pytest.mark.parametrize("rows", [1, 4])
def test_sparse_zero_centred_design_fits_the_intercept(rows):
    """Sparse X with one row (or identical rows) raised "eigenvalues underflow";
    dense X fits the intercept-only model."""
    import scipy.sparse as sp

    X = np.tile([[0.5, 0.0, 2.0]], (rows, 1))
    y = np.arange(1.0, rows + 1)
    dense = SAMRegressor(n_iter=5).fit(X, y)
    sparse = SAMRegressor(n_iter=5).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-12)
    assert_allclose(sparse.intercept_, dense.intercept_)
    assert_allclose(sparse.predict(sp.csr_matrix(X)), np.full(rows, y.mean()))


def test_sparse_classifier_cv_with_one_sample_per_class_in_a_fold():
    import scipy.sparse as sp
    from sklearn.model_selection import LeaveOneOut

    from sksam import SAMClassifierCV

    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 1])  # each training fold: one sample of one class
    dense = fit_search(SAMClassifierCV([1, 10], cv=LeaveOneOut()), X, y)
    sparse = fit_search(SAMClassifierCV([1, 10], cv=LeaveOneOut()), sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-12)


# --------------------------------------------------------------------- point 9
def test_float32_coefficients_beyond_float32_range_are_a_divergence(namespace):
    """float32 fits returned coef_ = inf with only numpy's "overflow in cast"."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(30)
    X32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="SAM diverged: the coefficients leave "):
            with pytest.warns(ConvergenceWarning, match="not stable"):
                namespace.fit(SAMRegressor(learning_rate=100, n_iter=50), X32, y)
        with pytest.raises(ValueError, match="float32 range.*Rescale X and y"):
            namespace.fit(SAMRegressor(), X32, y * 1e39)
    # float64 data hold these coefficients
    model = namespace.fit(SAMRegressor(), X, y * 1e39)
    assert np.all(np.isfinite(namespace.check(model.coef_)))


# --------------------------------------------------------------------- point 7
@pytest.mark.parametrize(
    "name, scoring",
    [
        ("SAMClassifierCV", None),
        ("SAMRegressorCV", "neg_mean_squared_error"),
        ("SAMRegressorCV", "neg_mean_absolute_error"),
    ],
)
def test_zero_weight_test_fold_is_named(name, scoring):
    """LeaveOneOut with one zero weight: the classifier (accuracy) blamed R^2, the
    MSE search raised the bare "Sample weights must contain at least one non-zero
    number"."""
    from sklearn.model_selection import LeaveOneOut

    import sksam

    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    y = X[:, 0] + 0.1 * rng.standard_normal(8)
    if name == "SAMClassifierCV":
        y = (y > 0).astype(int)
    sample_weight = np.ones(8)
    sample_weight[3] = 0.0
    search = getattr(sksam, name)([1, 10], cv=LeaveOneOut(), scoring=scoring)
    if parse_version(sklearn.__version__).release < (1, 7):
        # scikit-learn 1.6's GridSearchCV never passes sample_weight to the
        # scorer: every fold is scored unweighted, and so is it here.
        fit_search(search, X, y, sample_weight=sample_weight)
        assert np.isfinite(search.best_score_)
        return
    with pytest.raises(ValueError, match=r"weights of test fold 3 .*are all zero") as e:
        search.fit(X, y, sample_weight=sample_weight)
    assert "R^2" not in str(e.value)


def test_ic_noise_estimate_of_a_diverging_search_names_the_divergence():
    """SAMKernelRidgeIC(learning_rate=1e6) said "needs a grid point with fewer
    degrees of freedom than samples"."""
    from sksam import SAMKernelRidgeIC

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(20)
    with pytest.warns(ConvergenceWarning, match="not stable"):
        with pytest.raises(ValueError, match="diverge.*learning_rate='auto'") as info:
            SAMKernelRidgeIC(learning_rate=1e6).fit(X, y)
    assert "fewer degrees of freedom" not in str(info.value)


# -------------------------------------------------------------------- point 11
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_gcv_with_one_sample_per_class_warns_only_its_cause(n_classes):
    """It warned "invalid value encountered in subtract" (and about non-finite
    scores) on a fit that succeeds; with two samples GCV is infinite at every grid
    point (dof = n after one step), which is now said (the pick was silent)."""
    from sksam import SAMClassifierCV

    X = np.eye(n_classes)
    y = np.arange(n_classes)
    search = SAMClassifierCV([1, 2], cv="gcv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # two samples: dof = n wherever a step is taken; three: GCV is finite
        # only near interpolation (dof > 0.9 n), infinite elsewhere
        cause = "undefined at every" if n_classes == 2 else "near interpolation"
        with pytest.warns(UserWarning, match=f"cv='gcv'.*{cause}"):
            fit_search(search, X, y)
    assert search.predict(X).shape == (n_classes,)


def test_huge_targets_fit_without_stray_warnings(namespace):
    """Targets whose squares overflow (1e200) fit as 1e200 times the fit on y,
    without numpy's "overflow encountered in square"."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(30)
    for make in (SAMRegressor, SAMKernelRidge):
        reference = namespace.fit(make(), X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = namespace.fit(make(), X, y * 1e200)
        assert_allclose(
            namespace.predict(model, X), 1e200 * namespace.predict(reference, X)
        )


@pytest.mark.parametrize(
    "params, scale",
    [
        ({"early_stopping": True, "random_state": 0}, 1e200),
        ({"batch_size": 5, "n_iter": 20, "random_state": 0}, 1e200),
    ],
)
def test_huge_targets_stochastic_and_early_stopping_warn_nothing(params, scale):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(30)
    reference = SAMRegressor(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SAMRegressor(**params).fit(X, y * scale)
    assert model.n_iter_ == reference.n_iter_
    assert_allclose(model.coef_, scale * reference.coef_)


def test_cv_std_of_huge_scores_warns_nothing():
    from sksam import SAMRegressorCV

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(30)
    search = SAMRegressorCV([1, 10], cv=3, scoring="neg_mean_squared_error")
    reference = fit_search(search, X, y)
    std = reference.cv_results_["std_test_score"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = fit_search(search, X, y * 1e100)
    assert_allclose(huge.cv_results_["std_test_score"], 1e200 * std)


@pytest.mark.parametrize(
    "name", ["SAMRegressorCV", "SAMRegressorIC", "SAMKernelRidgeIC"]
)
def test_criteria_on_targets_whose_squares_overflow_name_the_scale(name):
    """They said the iterates diverged."""
    import sksam

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(30)
    params = {"cv": "gcv"} if name.endswith("CV") else {}
    with pytest.raises(ValueError, match=r"squares of the targets overflow.*rescal"):
        getattr(sksam, name)(**params).fit(X, y * 1e200)
