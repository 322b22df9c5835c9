"""SAMKernelRidge against a plain explicit loop of the dual update."""

import pickle
import re
import warnings
from functools import cache
from itertools import product

import numpy as np
import pytest
from _reference import kernel_sam
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import r2_score
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from sksam import SAMKernelRidge, SAMRegressor

# All-zero sample_weight is refused: by newer scikit-learn ("at least one non-zero
# number"), by sksam itself on 1.6 ("The sum of sample_weight must be positive.").
ZERO_WEIGHTS = "non-zero|sum of sample_weight must be positive"
SOLVERS = ("spectral", "iterative", "auto")
STEPS = (0, 1, 7, 200)
N_TRAIN, N_TEST = 30, 12
# Normalized SAM bounces across the top eigen-direction once rho / ||g_k|| grows
# beyond ~1 / mu_max (user guide, stability); there no two implementations agree. The
# reference loop records rho_k * mu_max and a step is compared only while it stayed
# below 1/2 (the low-rank polynomial kernel gets there before step 200).
RHO = {"unnormalized": 5.0, "normalized": 1e-3}
KERNELS = {
    "rbf": {"kernel": "rbf", "gamma": 0.5},
    "poly": {"kernel": "poly", "degree": 2, "gamma": 0.3, "coef0": 1.0},
    "precomputed": {"kernel": "precomputed"},  # a laplacian kernel, see kernel_matrix
}


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired`` (exact when it is all zero)."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_problem(n=N_TRAIN, n_test=N_TEST, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n + n_test, d))
    f = np.column_stack([np.sin(2 * X[:, 0]) + X[:, 1] ** 2, X[:, 0] * X[:, 2]])
    y = f + 0.3 * rng.standard_normal(f.shape) + np.array([3.0, -1.0])
    return X[:n], y[:n], X[n:]


def weights(n, weighted):
    return np.random.default_rng(1).uniform(0.2, 3.0, n) if weighted else None


def kernel_matrix(name, A, B):
    """The raw kernel between the rows of ``A`` and ``B`` used for case ``name``."""
    if name == "precomputed":
        return pairwise_kernels(A, B, metric="laplacian", gamma=0.3)
    params = {k: v for k, v in KERNELS[name].items() if k != "kernel"}
    return pairwise_kernels(A, B, metric=KERNELS[name]["kernel"], **params)


def centring(K, s, fit_intercept):
    """Weighted feature-space means: kbar_j = sum_l s_l K_lj / S, kbarbar = s'Ks/S^2."""
    if not fit_intercept:
        return np.zeros(K.shape[0]), 0.0
    w = s / s.sum()
    kbar = w @ K
    return kbar, float(kbar @ w)


def top_eigenvalue(K, sample_weight=None, fit_intercept=True):
    """mu_max of D^1/2 K_c D^1/2 / S."""
    s = np.ones(K.shape[0]) if sample_weight is None else sample_weight
    kbar, kbarbar = centring(K, s, fit_intercept)
    Kc = K - kbar[:, None] - kbar[None, :] + kbarbar
    root = np.sqrt(s)
    return np.linalg.eigvalsh(root[:, None] * Kc * root[None, :] / s.sum())[-1]


def auto_eta(mu_max, rho, variant):
    """The "auto" step: 1 / (mu_max (1 + rho mu_max)); 1 / mu_max for normalized."""
    if variant == "normalized":
        return 1.0 / mu_max
    return 1.0 / (mu_max * (1.0 + rho * mu_max))


def reference_dual_sam(K, y, K_eval, eta, rho, steps, variant, fit_intercept, s):
    """The plain dual loop (``_reference.kernel_sam``).

    Returns the predictions on the rows of ``K_eval`` after each step count in
    ``steps``, shape (len(steps), n_eval, t), and the largest rho_k seen before each
    compared step, shape (len(steps), t).
    """
    preds, radii = kernel_sam(
        K, y, eta, rho, steps, K_eval=K_eval, variant=variant,
        fit_intercept=fit_intercept, sample_weight=s,
    )  # fmt: skip
    largest = [radii[:k].max(axis=0, initial=0.0) for k in steps]
    return preds, np.array(largest)


@cache
def reference_case(kernel, variant, fit_intercept, weighted):
    X, y, X_test = make_problem()
    X_eval = np.vstack([X_test, X[:5]])
    K, K_eval = kernel_matrix(kernel, X, X), kernel_matrix(kernel, X_eval, X)
    sw = weights(N_TRAIN, weighted)
    rho = RHO[variant]
    mu_max = top_eigenvalue(K, sw, fit_intercept)
    eta = auto_eta(mu_max, rho, variant)
    preds, radius = reference_dual_sam(
        K, y, K_eval, eta, rho, STEPS, variant, fit_intercept, sw
    )
    if variant == "normalized":
        compared = [i for i in range(len(STEPS)) if np.all(radius[i] * mu_max < 0.5)]
        assert [STEPS[i] for i in compared][:3] == [0, 1, 7]
    else:
        compared = list(range(len(STEPS)))
    if kernel == "precomputed":
        X, X_eval = K, K_eval
    return X, y, X_eval, sw, eta, preds, compared


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_explicit_dual_loop(kernel, variant, fit_intercept, weighted):
    X, y, X_eval, sw, eta, preds, compared = reference_case(
        kernel, variant, fit_intercept, weighted
    )
    for solver, multi_output, i in product(SOLVERS, [False, True], compared):
        model = SAMKernelRidge(
            rho=RHO[variant],
            n_iter=STEPS[i],
            variant=variant,
            fit_intercept=fit_intercept,
            solver=solver,
            **KERNELS[kernel],
        ).fit(X, y if multi_output else y[:, 0], sample_weight=sw)
        assert_allclose(model.learning_rate_, eta, rtol=1e-11)
        expected = preds[i] if multi_output else preds[i][:, 0]
        assert_rel_close(model.predict(X_eval), expected)
        assert model.n_iter_ == STEPS[i]
        assert model.dual_coef_.shape == ((N_TRAIN, 2) if multi_output else (N_TRAIN,))


def test_explicit_loop_problems_are_discriminating():
    # The compared predictions must move well beyond 1e-8 with rho, with the
    # normalization and with the weights; otherwise the comparisons above would not
    # test them.
    X, y, _, sw, eta, preds, compared = reference_case("rbf", "normalized", True, True)
    K = kernel_matrix("rbf", X, X)
    last = compared[-1]
    gd, _ = reference_dual_sam(K, y, K, eta, 0.0, STEPS, "normalized", True, sw)
    sam, _ = reference_dual_sam(K, y, K, eta, 5.0, STEPS, "unnormalized", True, sw)
    same_sw, _ = reference_dual_sam(K, y, K, eta, 1e-3, STEPS, "normalized", True, None)
    ours, _ = reference_dual_sam(K, y, K, eta, 1e-3, STEPS, "normalized", True, sw)
    for other in (gd, sam, same_sw):
        gap = np.abs(other[last] - ours[last]).max()
        assert gap > 1e-6 * np.abs(ours[last]).max()


@pytest.mark.parametrize(
    "kernel, params, n_iter",
    [
        ("rbf", {"gamma": 0.002}, 3000),  # several eigenvalues at rounding level
        ("sigmoid", {"gamma": 0.3, "coef0": 1.0}, 30),  # indefinite: mu_min < 0
    ],
)
def test_numerical_null_space_and_negative_eigenvalues(kernel, params, n_iter):
    # The dual iterate grows like k * eta * y in the kernel's numerical null space,
    # and test points see that through k(x, X): the spectral solver must keep those
    # directions (and the negative ones of an indefinite kernel) as the loop does.
    X, y, X_test = make_problem(n=60)
    K = pairwise_kernels(X, metric=kernel, **params)
    K_test = pairwise_kernels(X_test, X, metric=kernel, **params)
    mu = np.linalg.eigvalsh(K - K.mean(0) - K.mean(1)[:, None] + K.mean()) / 60
    if kernel == "rbf":
        assert np.sum(mu < 60 * np.finfo(float).eps * mu[-1]) >= 5
    else:
        assert mu[0] < -0.1 * mu[-1]
    eta = auto_eta(mu[-1], 0.5, "unnormalized")
    preds, _ = reference_dual_sam(
        K, y, K_test, eta, 0.5, (n_iter,), "unnormalized", True, None
    )
    fits = [
        SAMKernelRidge(n_iter=n_iter, rho=0.5, kernel=kernel, solver=solver, **params)
        for solver in ("spectral", "iterative")
    ]
    for model in fits:
        if kernel == "sigmoid":  # both solvers say it grows along mu < 0
            with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
                model.fit(X, y)
        else:
            model.fit(X, y)
        assert_rel_close(model.predict(X_test), preds[0])
    assert_rel_close(fits[0].dual_coef_, fits[1].dual_coef_)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_rho_zero_is_kernel_gradient_descent(solver, variant):
    X, y, X_test = make_problem()
    K, K_test = kernel_matrix("rbf", X, X), kernel_matrix("rbf", X_test, X)
    eta, n_iter = 1.5 / top_eigenvalue(K), 40
    alpha = np.zeros_like(y)
    y_mean = y.mean(axis=0)
    Kc = K - K.mean(axis=0)[None, :] - K.mean(axis=1)[:, None] + K.mean()
    for _ in range(n_iter):  # Landweber iteration
        alpha = alpha - eta * (Kc @ alpha - (y - y_mean)) / N_TRAIN
    K_test_c = K_test - K_test.mean(axis=1)[:, None] - K.mean(axis=0) + K.mean()
    model = SAMKernelRidge(
        rho=0.0,
        n_iter=n_iter,
        learning_rate=eta,
        variant=variant,
        solver=solver,
        **KERNELS["rbf"],
    ).fit(X, y)
    assert_rel_close(model.predict(X_test), K_test_c @ alpha + y_mean)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(40, 5), (15, 30)], ids=["n>d", "n<d"])
def test_linear_kernel_predicts_what_sam_regressor_predicts(
    variant, fit_intercept, weighted, shape
):
    rng = np.random.default_rng(4)
    n, d = shape
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.1, d)
    y = X @ rng.standard_normal((d, 2)) + 0.1 * rng.standard_normal((n, 2)) + 2.0
    X_test = rng.standard_normal((8, d))
    sw = weights(n, weighted)
    params = dict(rho=RHO[variant], n_iter=25, variant=variant)
    params["fit_intercept"] = fit_intercept
    auto = SAMRegressor(**params).fit(X, y, sample_weight=sw).learning_rate_
    for learning_rate, solver in product(["auto", 0.7 * auto], SOLVERS):
        params["learning_rate"] = learning_rate
        linear = SAMRegressor(**params).fit(X, y, sample_weight=sw)
        kernel = SAMKernelRidge(kernel="linear", solver=solver, **params)
        kernel.fit(X, y, sample_weight=sw)
        assert_allclose(kernel.learning_rate_, linear.learning_rate_, rtol=1e-11)
        assert_rel_close(kernel.predict(X_test), linear.predict(X_test))
        assert_rel_close(kernel.predict(X), linear.predict(X))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_staged_predict_equals_refits(solver, variant):
    K, y, K_eval, sw, _, preds, _ = reference_case("precomputed", variant, True, True)
    params = dict(rho=RHO[variant], variant=variant, solver=solver)
    params["kernel"] = "precomputed"
    model = SAMKernelRidge(n_iter=12, **params).fit(K, y, sample_weight=sw)
    staged = list(model.staged_predict(K_eval))
    assert len(staged) == 12
    for k, pred in enumerate(staged, start=1):
        refit = SAMKernelRidge(n_iter=k, **params).fit(K, y, sample_weight=sw)
        assert_rel_close(pred, refit.predict(K_eval), rtol=1e-10)
    assert_rel_close(staged[-1], model.predict(K_eval), rtol=1e-12)
    assert_rel_close(staged[0], preds[STEPS.index(1)])
    assert_rel_close(staged[6], preds[STEPS.index(7)])


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_n_iter_zero_is_intercept_only(solver, variant):
    X, y, X_test = make_problem()
    sw = weights(N_TRAIN, True)
    model = SAMKernelRidge(n_iter=0, solver=solver, variant=variant, kernel="rbf")
    model.fit(X, y[:, 0], sample_weight=sw)
    assert_array_equal(model.dual_coef_, 0.0)
    assert_allclose(model.predict(X_test), np.average(y[:, 0], weights=sw))
    assert list(model.staged_predict(X_test)) == []


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_zero_weights_equal_dropping_samples(solver, variant, fit_intercept):
    X, y, X_test = make_problem()
    sw = weights(N_TRAIN, True)
    sw[::3] = 0.0
    keep = sw > 0
    params = dict(
        n_iter=30,
        rho=RHO[variant],
        variant=variant,
        solver=solver,
        fit_intercept=fit_intercept,
        **KERNELS["rbf"],
    )
    weighted = SAMKernelRidge(**params).fit(X, y, sample_weight=sw)
    dropped = SAMKernelRidge(**params).fit(X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(weighted.learning_rate_, dropped.learning_rate_, rtol=1e-12)
    assert_rel_close(weighted.predict(X_test), dropped.predict(X_test), rtol=1e-10)
    assert_array_equal(weighted.dual_coef_[~keep], 0.0)
    assert_rel_close(weighted.dual_coef_[keep], dropped.dual_coef_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_integer_weights_equal_repeated_samples(solver, variant):
    X, y, X_test = make_problem()
    counts = np.random.default_rng(2).integers(1, 4, size=N_TRAIN)
    params = dict(
        n_iter=30, rho=RHO[variant], variant=variant, solver=solver, **KERNELS["rbf"]
    )
    weighted = SAMKernelRidge(**params).fit(X, y, sample_weight=counts)
    repeated = SAMKernelRidge(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0)
    )
    assert_allclose(weighted.learning_rate_, repeated.learning_rate_, rtol=1e-12)
    assert_rel_close(weighted.predict(X_test), repeated.predict(X_test), rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_multi_output_columns_equal_single_output_fits(solver, variant):
    X, y, X_test = make_problem()
    y = np.column_stack([y, 100.0 * y[:, 0]])  # very different gradient norms
    params = dict(
        n_iter=15, rho=RHO[variant], variant=variant, solver=solver, **KERNELS["rbf"]
    )
    joint = SAMKernelRidge(**params).fit(X, y)
    for j in range(y.shape[1]):
        single = SAMKernelRidge(**params).fit(X, y[:, j])
        assert_rel_close(joint.dual_coef_[:, j], single.dual_coef_, rtol=1e-10)
        assert_rel_close(joint.predict(X_test)[:, j], single.predict(X_test), 1e-10)


@pytest.mark.parametrize("kernel", ["rbf", "precomputed"])
@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_fitted_attributes_define_the_function(kernel, solver):
    X, y, X_test = make_problem()
    sw = weights(N_TRAIN, True)
    K, K_test = kernel_matrix(kernel, X, X), kernel_matrix(kernel, X_test, X)
    if kernel == "precomputed":
        X, X_test = K, K_test
    model = SAMKernelRidge(n_iter=9, rho=0.7, solver=solver, **KERNELS[kernel])
    model.fit(X, y, sample_weight=sw)
    assert_array_equal(model.X_fit_, X)
    assert model.n_features_in_ == X.shape[1]
    assert model.solver_ == solver
    assert model.dual_coef_.shape == (N_TRAIN, 2)
    assert model.intercept_.shape == (2,)
    assert_allclose(
        model.predict(X_test), K_test @ model.dual_coef_ + model.intercept_, rtol=1e-12
    )
    expected = auto_eta(top_eigenvalue(K, sw), 0.7, "unnormalized")
    assert_allclose(model.learning_rate_, expected, rtol=1e-12)


def test_every_kernel_name_uses_gamma_degree_coef0():
    # Non-default gamma, degree and coef0: the named kernel must equal the same
    # kernel precomputed with them (non-negative X for the chi2 kernels).
    X, y, X_test = make_problem()
    X, X_test = np.abs(X), np.abs(X_test)
    params = {"gamma": 0.7, "degree": 2, "coef0": 0.5}
    for name in sorted(PAIRWISE_KERNEL_FUNCTIONS):
        named = SAMKernelRidge(n_iter=20, kernel=name, solver="spectral", **params)
        K = pairwise_kernels(X, metric=name, filter_params=True, **params)
        K_test = pairwise_kernels(X_test, X, metric=name, filter_params=True, **params)
        pre = SAMKernelRidge(n_iter=20, kernel="precomputed", solver="spectral")
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", ConvergenceWarning)
            named.fit(X, y)
            pre.fit(K, y)
        # the sigmoid kernel is indefinite here; both fits say so, the others nothing
        assert len(record) == (2 if name == "sigmoid" else 0)
        assert_rel_close(named.predict(X_test), pre.predict(K_test), 1e-10)


def test_callable_kernel_with_kernel_params():
    X, y, X_test = make_problem(n=15, n_test=4)

    def gaussian(a, b, width):
        return np.exp(-np.sum((a - b) ** 2) / width)

    params = dict(n_iter=20, rho=0.5, solver="spectral")
    called = SAMKernelRidge(kernel=gaussian, kernel_params={"width": 2.0}, **params)
    named = SAMKernelRidge(kernel="rbf", gamma=0.5, **params)
    assert_rel_close(
        called.fit(X, y).predict(X_test), named.fit(X, y).predict(X_test), 1e-10
    )


def test_sparse_input_equals_dense():
    X, y, X_test = make_problem()
    X[np.abs(X) < 1.0] = 0.0
    params = dict(n_iter=20, **KERNELS["rbf"])
    dense = SAMKernelRidge(**params).fit(X, y)
    fitted = SAMKernelRidge(**params).fit(sparse.csr_matrix(X), y)
    assert_rel_close(fitted.predict(sparse.csr_matrix(X_test)), dense.predict(X_test))


def test_precomputed_kernel_in_cross_validation():
    # The pairwise tag makes cross-validation slice the kernel as K[train][:, train]
    # and K[test][:, train]: the scores equal those of the named kernel.
    X, y, _ = make_problem(n=40, n_test=0)
    y = y[:, 0]
    K = kernel_matrix("rbf", X, X)
    cv = KFold(n_splits=4, shuffle=True, random_state=0)
    named = SAMKernelRidge(n_iter=30, rho=1.0, **KERNELS["rbf"])
    pre = SAMKernelRidge(n_iter=30, rho=1.0, kernel="precomputed")
    assert_allclose(
        cross_val_score(pre, K, y, cv=cv), cross_val_score(named, X, y, cv=cv), 1e-10
    )
    grid = {"n_iter": [3, 30, 300], "rho": [0.0, 2.0]}
    search_pre = GridSearchCV(pre, grid, cv=cv).fit(K, y)
    search_named = GridSearchCV(named, grid, cv=cv).fit(X, y)
    assert_allclose(
        search_pre.cv_results_["mean_test_score"],
        search_named.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert search_pre.best_params_ == search_named.best_params_
    assert_rel_close(search_pre.predict(K[:7]), search_named.predict(X[:7]), rtol=1e-10)


def test_grid_search_over_gamma_n_iter_rho_equals_hand_written_search():
    X, y, _ = make_problem(n=45, n_test=0)
    y = y[:, 0]
    grid = {"gamma": [0.1, 2.0], "n_iter": [2, 40], "rho": [0.0, 5.0]}
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(SAMKernelRidge(kernel="rbf"), grid, cv=cv).fit(X, y)

    best_score, best_params = -np.inf, None
    for i, params in enumerate(search.cv_results_["params"]):
        scores = []
        for train, test in cv.split(X):
            model = SAMKernelRidge(kernel="rbf", **params).fit(X[train], y[train])
            scores.append(r2_score(y[test], model.predict(X[test])))
        assert_allclose(search.cv_results_["mean_test_score"][i], np.mean(scores))
        if np.mean(scores) > best_score:
            best_score, best_params = np.mean(scores), params
    assert search.best_params_ == best_params
    # Not the smallest model on every axis: the search has something to select.
    assert best_params != {"gamma": 0.1, "n_iter": 2, "rho": 0.0}


def test_close_to_kernel_ridge_when_stopping_late():
    # Early stopping regularizes like a penalty: after many GD steps the fit is near
    # the KernelRidge fit with a small alpha (a sanity check of the scale, not exact).
    X, y, X_test = make_problem()
    sam = SAMKernelRidge(rho=0.0, n_iter=20000, fit_intercept=False, **KERNELS["rbf"])
    ridge = KernelRidge(alpha=1e-3, kernel="rbf", gamma=0.5)
    pred, ridge_pred = sam.fit(X, y).predict(X_test), ridge.fit(X, y).predict(X_test)
    assert np.abs(pred - ridge_pred).max() < 0.1 * np.abs(ridge_pred).max()


def test_auto_solver_follows_the_cost_model():
    X, y, _ = make_problem(n=200, n_test=0)
    few = SAMKernelRidge(n_iter=1, kernel="rbf").fit(X, y[:, 0])
    many = SAMKernelRidge(n_iter=100_000, kernel="rbf").fit(X, y[:, 0])
    assert (few.solver_, many.solver_) == ("iterative", "spectral")


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_unstable_learning_rate_warns_then_divergence_raises(solver):
    X, y, _ = make_problem()
    K, rho = kernel_matrix("rbf", X, X), 0.3
    mu = top_eigenvalue(K)
    limit = 2.0 / (mu * (1.0 + rho * mu))
    params = dict(rho=rho, solver=solver, **KERNELS["rbf"])
    stable = SAMKernelRidge(learning_rate=0.99 * limit, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stable.fit(X, y)
    unstable = SAMKernelRidge(n_iter=5, learning_rate=1.01 * limit, **params)
    with pytest.warns(ConvergenceWarning, match=re.escape(f"{limit:.6g}")):
        unstable.fit(X, y)
    diverging = SAMKernelRidge(n_iter=5000, learning_rate=1e3, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow noise either
        with pytest.warns(ConvergenceWarning, match="largest stable"):
            with pytest.raises(ValueError, match="not finite"):
                diverging.fit(X, y)
    assert not hasattr(diverging, "dual_coef_")


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_indefinite_kernel_warns_instead_of_diverging_silently(solver):
    # A sigmoid kernel has negative eigenvalues: SAM grows along them at any step.
    X, y, _ = make_problem(n=80, n_test=0)
    params = dict(kernel="sigmoid", rho=0.1, solver=solver)
    K = pairwise_kernels(X, metric="sigmoid")
    K_centred = K - K.mean(axis=0) - K.mean(axis=1)[:, None] + K.mean()
    lam = np.linalg.eigvalsh(K_centred)
    assert lam[0] < -0.1 * lam[-1]
    match = (
        "not positive semi-definite: .* the smallest -0.\\d+ times the largest"
        if solver == "spectral"
        else "larger training loss .* learning rate is stable: the kernel matrix is "
        "not positive semi-definite"
    )
    with pytest.warns(ConvergenceWarning, match=match) as record:
        model = SAMKernelRidge(n_iter=200, **params).fit(X, y[:, 0])
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the fit call
    assert np.abs(model.dual_coef_).max() > 1e6  # what the warning is about
    # The same data with a positive semi-definite kernel: no warning at all.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kernel in ("rbf", "laplacian", "linear", "polynomial"):
            SAMKernelRidge(n_iter=200, **{**params, "kernel": kernel}).fit(X, y)


X_OK, Y_OK, _ = make_problem(n=12, n_test=0)
Y_OK = Y_OK[:, 0]
K_OK = kernel_matrix("rbf", X_OK, X_OK)


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


@pytest.mark.parametrize(
    "params, X, y, sample_weight, error, match",
    [
        ({}, _with(X_OK, (3, 1), np.nan), Y_OK, None, ValueError, "X contains NaN"),
        ({}, X_OK, _with(Y_OK, 2, np.inf), None, ValueError, "y contains inf"),
        ({}, X_OK[:, 0], Y_OK, None, ValueError, "Expected 2D array"),
        ({}, X_OK, Y_OK[:-1], None, ValueError, "inconsistent numbers of samples"),
        ({}, X_OK, Y_OK, -np.ones(12), ValueError, "Negative values"),
        ({}, X_OK, Y_OK, np.zeros(12), ValueError, ZERO_WEIGHTS),
        ({"kernel": "gauss"}, X_OK, Y_OK, None, InvalidParameterError, "'kernel'"),
        ({"gamma": -1.0}, X_OK, Y_OK, None, InvalidParameterError, "'gamma'"),
        ({"degree": -1}, X_OK, Y_OK, None, InvalidParameterError, "'degree'"),
        ({"kernel_params": 3}, X_OK, Y_OK, None, InvalidParameterError, "'kernel_p"),
        ({"rho": -0.1}, X_OK, Y_OK, None, InvalidParameterError, "'rho'"),
        ({"n_iter": 2.5}, X_OK, Y_OK, None, InvalidParameterError, "'n_iter'"),
        ({"variant": "x"}, X_OK, Y_OK, None, InvalidParameterError, "'variant'"),
        (
            {"kernel": "precomputed"},
            K_OK[:, :7],
            Y_OK,
            None,
            ValueError,
            re.escape(
                "square kernel matrix between the training samples, of shape "
                "(n_samples, n_samples); got shape (12, 7)"
            ),
        ),
        (
            {"kernel": "precomputed"},
            K_OK[:7],
            Y_OK[:7],
            None,
            ValueError,
            re.escape("got shape (7, 12)"),
        ),
        (
            {"kernel": "precomputed"},
            _with(K_OK, (0, 5), 2.0),
            Y_OK,
            None,
            ValueError,
            "must be a symmetric kernel matrix .* max \\|X - X.T\\| = ",
        ),
        (
            {"kernel": "precomputed"},
            _with(K_OK, (0, 0), np.inf),
            Y_OK,
            None,
            ValueError,
            "X contains inf",
        ),
    ],
)
def test_bad_input_raises_clear_error(params, X, y, sample_weight, error, match):
    with pytest.raises(error, match=match):
        SAMKernelRidge(**params).fit(X, y, sample_weight=sample_weight)


def test_rounding_asymmetry_of_a_precomputed_kernel_is_accepted():
    K = K_OK + 1e-14 * np.random.default_rng(0).standard_normal(K_OK.shape)
    spectral = SAMKernelRidge(kernel="precomputed", solver="spectral").fit(K, Y_OK)
    iterative = SAMKernelRidge(kernel="precomputed", solver="iterative").fit(K, Y_OK)
    assert_rel_close(spectral.predict(K), iterative.predict(K))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_precomputed_kernel_is_symmetrised_tile_by_tile(dtype):
    # The training kernel is symmetrised in 128 x 128 tiles: across tile edges and a
    # ragged last tile it must equal (K + K.T) / 2, and an asymmetry in any tile off
    # the diagonal is found.
    from sksam._kernel_matrix import _symmetric_training_kernel

    rng = np.random.default_rng(1)
    A = rng.standard_normal((300, 5))
    K = pairwise_kernels(A, metric="rbf", gamma=0.2) + 1e-10 * rng.random((300, 300))
    K = K.astype(dtype)
    symmetric = _symmetric_training_kernel(K)
    assert symmetric.dtype == np.float64
    assert_array_equal(symmetric, symmetric.T)
    assert_allclose(symmetric, (K.astype(np.float64) + K.T) / 2, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match=r"max \|X - X.T\| = 0.5 for max \|X\| = 1"):
        _symmetric_training_kernel(_with(K, (290, 5), K[290, 5] + 0.5))


def test_precomputed_test_kernel_with_wrong_number_of_columns():
    model = SAMKernelRidge(kernel="precomputed").fit(K_OK, Y_OK)
    message = re.escape(
        "X must be the kernel between the test and the training samples, of shape "
        "(n_samples_test, n_samples_train) with n_samples_train=12; got 5 columns."
    )
    with pytest.raises(ValueError, match=message):
        model.predict(K_OK[:3, :5])
    with pytest.raises(ValueError, match=message):
        next(model.staged_predict(K_OK[:3, :5]))
    assert model.predict(K_OK[:3]).shape == (3,)


def test_predict_with_wrong_number_of_features():
    model = SAMKernelRidge(kernel="rbf").fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="X has 2 features.*expecting 3 features"):
        model.predict(X_OK[:, :2])


def test_clone_keeps_parameters_and_drops_fit():
    model = SAMKernelRidge(rho=0.3, n_iter=7, kernel="poly", degree=2, gamma=0.1)
    cloned = clone(model.fit(X_OK, Y_OK))
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "dual_coef_")


@pytest.mark.parametrize("kernel", ["rbf", "precomputed"])
def test_float32_input_gives_float32_predictions(kernel):
    X, y, X_test = make_problem()
    if kernel == "precomputed":
        X, X_test = kernel_matrix("rbf", X, X), kernel_matrix("rbf", X_test, X)
    params = dict(n_iter=20, **KERNELS[kernel])
    model32 = SAMKernelRidge(**params).fit(X.astype(np.float32), y[:, 0])
    model64 = SAMKernelRidge(**params).fit(X, y[:, 0])
    pred32 = model32.predict(X_test.astype(np.float32))
    assert pred32.dtype == np.float32
    staged = list(model32.staged_predict(X_test.astype(np.float32)))
    assert all(pred.dtype == np.float32 for pred in staged)
    assert_allclose(pred32, model64.predict(X_test), rtol=1e-4)
    assert_allclose(staged[-1], pred32, rtol=1e-5)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_pickle_round_trip(solver):
    X, y, X_test = make_problem()
    model = SAMKernelRidge(n_iter=9, solver=solver, **KERNELS["rbf"]).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X_test), model.predict(X_test))
    assert_array_equal(
        np.array(list(restored.staged_predict(X_test))),
        np.array(list(model.staged_predict(X_test))),
    )


def test_pandas_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, X_test = make_problem()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = SAMKernelRidge(n_iter=10, **KERNELS["rbf"]).fit(frame, y[:, 0])
    assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    plain = SAMKernelRidge(n_iter=10, **KERNELS["rbf"]).fit(X, y[:, 0])
    assert_allclose(
        model.predict(pd.DataFrame(X_test, columns=["a", "b", "c"])),
        plain.predict(X_test),
    )
