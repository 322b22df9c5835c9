"""sam_path / sam_kernel_path against explicit loops of the update rule and refits."""

import numpy as np
import pytest
from _data import spread_spectrum_data
from _reference import kernel_sam, linear_sam
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels, rbf_kernel
from sklearn.utils._param_validation import InvalidParameterError

from sksam import SAMKernelRidge, SAMRegressor, sam_kernel_path, sam_path

# All-zero sample_weight is refused: by newer scikit-learn ("at least one non-zero
# number"), by sksam itself on 1.6 ("The sum of sample_weight must be positive.").
ZERO_WEIGHTS = "non-zero|sum of sample_weight must be positive"
STEPS = [0, 1, 2, 5, 17, 60]
# Normalized SAM bounces once rho / ||g_k|| is large (user guide, stability): compare it
# with a loop only over the first steps, with a radius that keeps it well-conditioned.
RHO = {"unnormalized": 0.7, "normalized": 0.05}
NORMALIZED_STEPS = [0, 1, 2, 5, 12]


def assert_rel_close(actual, desired, rtol):
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_problem(n=40, d=6, n_targets=None, seed=0):
    return spread_spectrum_data(n, d, n_targets=n_targets, seed=seed)[:2]


def explicit_linear_path(X, y, sw, rho, eta, steps, variant, fit_intercept):
    """The plain loop (``_reference.linear_sam``): coef (K, d, t), intercept (K, t)."""
    coefs, intercepts, _ = linear_sam(
        X, y, eta, rho, steps, variant=variant, fit_intercept=fit_intercept,
        sample_weight=sw,
    )  # fmt: skip
    return coefs, intercepts


def explicit_kernel_path(K, y, sw, rho, eta, steps, variant, fit_intercept, K_test):
    """The plain dual loop (``_reference.kernel_sam``): test predictions (K, n_test)."""
    preds, _ = kernel_sam(
        K, y, eta, rho, steps, K_eval=K_test, variant=variant,
        fit_intercept=fit_intercept, sample_weight=sw,
    )  # fmt: skip
    return preds[:, :, 0]


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(40, 6), (8, 20)])
def test_sam_path_matches_explicit_loop(variant, weighted, fit_intercept, shape):
    X, y = make_problem(*shape, n_targets=2)
    sw = np.random.default_rng(3).uniform(0.2, 2.0, len(y)) if weighted else None
    rho = RHO[variant]
    steps = STEPS if variant == "unnormalized" else NORMALIZED_STEPS
    model = SAMRegressor(rho=rho, variant=variant, n_iter=0)
    eta = 0.9 * model.fit(X, y, sw).learning_rate_
    n_iters, coefs, intercepts = sam_path(
        X,
        y,
        steps,
        rho=rho,
        learning_rate=eta,
        variant=variant,
        fit_intercept=fit_intercept,
        sample_weight=sw,
    )
    ref_coef, ref_intercept = explicit_linear_path(
        X, y, sw, rho, eta, steps, variant, fit_intercept
    )
    assert_array_equal(n_iters, steps)
    assert coefs.shape == (2, shape[1], len(steps))
    assert intercepts.shape == (2, len(steps))
    assert_rel_close(coefs, ref_coef.transpose(2, 1, 0), 1e-10)
    assert_rel_close(intercepts, ref_intercept.T, 1e-10)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("weighted", [False, True])
def test_sam_path_equals_separate_fits(variant, weighted):
    """Each grid point equals a fit of SAMRegressor (learning_rate="auto")."""
    X, y = make_problem(30, 5)
    sw = np.random.default_rng(4).uniform(0.2, 2.0, len(y)) if weighted else None
    steps = [7, 0, 3, 3, 25]  # any order, duplicates kept
    n_iters, coefs, intercepts = sam_path(
        X, y, steps, rho=0.3, variant=variant, sample_weight=sw
    )
    assert coefs.shape == (5, 5) and intercepts.shape == (5,)
    for k, n_iter in enumerate(steps):
        for solver in ("spectral", "iterative"):
            model = SAMRegressor(
                rho=0.3, n_iter=n_iter, variant=variant, solver=solver
            ).fit(X, y, sw)
            assert_rel_close(coefs[:, k], model.coef_, 1e-10)
            assert_allclose(intercepts[k], model.intercept_, rtol=1e-10, atol=1e-12)


def test_sam_path_int_grid_and_sparse_input():
    X, y = make_problem(30, 5)
    X[X < 0.1] = 0.0
    n_iters, coefs, intercepts = sam_path(X, y, 4)
    assert_array_equal(n_iters, [1, 2, 3, 4])
    _, coefs_sparse, intercepts_sparse = sam_path(sparse.csr_matrix(X), y, 4)
    assert_rel_close(coefs_sparse, coefs, 1e-10)
    assert_rel_close(intercepts_sparse, intercepts, 1e-10)


def test_staged_predict_follows_the_path():
    X, y = make_problem(30, 5)
    _, coefs, intercepts = sam_path(X, y, 20, rho=0.5)
    model = SAMRegressor(rho=0.5, n_iter=20, solver="spectral").fit(X, y)
    staged = np.array(list(model.staged_predict(X)))
    assert_rel_close(staged, (X @ coefs + intercepts).T, 1e-10)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sam_kernel_path_matches_explicit_loop(variant, weighted, fit_intercept):
    X, y = make_problem(25, 3)
    X_test = make_problem(7, 3, seed=5)[0]
    sw = np.random.default_rng(3).uniform(0.2, 2.0, len(y)) if weighted else None
    rho = RHO[variant]
    steps = STEPS if variant == "unnormalized" else NORMALIZED_STEPS
    model = SAMKernelRidge(rho=rho, n_iter=0, kernel="rbf", gamma=0.4, variant=variant)
    eta = 0.9 * model.fit(X, y, sw).learning_rate_
    n_iters, dual_coefs, intercepts = sam_kernel_path(
        X,
        y,
        steps,
        rho=rho,
        kernel="rbf",
        gamma=0.4,
        learning_rate=eta,
        variant=variant,
        fit_intercept=fit_intercept,
        sample_weight=sw,
    )
    assert dual_coefs.shape == (25, len(steps)) and intercepts.shape == (len(steps),)
    K, K_test = rbf_kernel(X, gamma=0.4), rbf_kernel(X_test, X, gamma=0.4)
    ref = explicit_kernel_path(
        K, y, sw, rho, eta, steps, variant, fit_intercept, K_test
    )
    assert_rel_close((K_test @ dual_coefs + intercepts).T, ref, 1e-10)


def test_sam_kernel_path_equals_fits_multioutput_and_precomputed():
    X, y = make_problem(20, 3, n_targets=2)
    sw = np.random.default_rng(6).uniform(0.2, 2.0, 20)
    steps = [1, 40, 9]
    _, dual_coefs, intercepts = sam_kernel_path(
        X, y, steps, kernel="poly", degree=2, sample_weight=sw
    )
    assert dual_coefs.shape == (20, 2, 3) and intercepts.shape == (2, 3)
    K = pairwise_kernels(X, metric="poly", degree=2, coef0=1)
    _, dual_pre, intercepts_pre = sam_kernel_path(
        K, y, steps, kernel="precomputed", sample_weight=sw
    )
    assert_rel_close(dual_pre, dual_coefs, 1e-10)
    for k, n_iter in enumerate(steps):
        model = SAMKernelRidge(n_iter=n_iter, kernel="poly", degree=2).fit(X, y, sw)
        assert_rel_close(dual_coefs[..., k], model.dual_coef_, 1e-10)
        assert_rel_close(intercepts[..., k], model.intercept_, 1e-10)


@pytest.mark.parametrize(
    "n_iters, message",
    [
        ([1, -2], "non-negative integers"),
        ([1.5, 2], "non-negative integers"),
        ([[1, 2]], "1-D"),
        ([], "non-empty"),
        (["a"], "integers"),
    ],
)
def test_sam_path_rejects_bad_grids(n_iters, message):
    X, y = make_problem(10, 2)
    with pytest.raises(ValueError, match=message):
        sam_path(X, y, n_iters)


def test_sam_path_validates_parameters():
    X, y = make_problem(10, 2)
    with pytest.raises(InvalidParameterError, match="rho"):
        sam_path(X, y, [1], rho=-1.0)
    with pytest.raises(InvalidParameterError, match="kernel"):
        sam_kernel_path(X, y, [1], kernel="nope")
    with pytest.raises(ValueError, match=ZERO_WEIGHTS):
        sam_path(X, y, [1], sample_weight=np.zeros(10))
