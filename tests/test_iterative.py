"""The explicit SAM loop and the scaled linear design against unscaled loops."""

from dataclasses import replace

import numpy as np
import pytest
from _reference import linear_sam
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from sksam._core import _operators as _design
from sksam._core._iterative import sam_iterates, sam_loop
from sksam._core._operators import ScaledDesign
from sksam._core._spectral import coef_path


def problem(n=30, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.4)
    X[:, 0] += 2.0  # a large mean, so that centring matters
    y = X @ rng.standard_normal((d, 2)) + rng.standard_normal((n, 2)) + 1.0
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def scaled(X, y, sw, fit_intercept, is_sparse=False):
    """The operator and scaled targets as the estimators build them."""
    S = sw.sum()
    x_mean = sw @ X / S if fit_intercept else None
    y_mean = sw @ y / S if fit_intercept else 0.0
    op = ScaledDesign(sparse.csr_matrix(X) if is_sparse else X, np.sqrt(sw), x_mean, S)
    return op, np.sqrt(sw)[:, None] * (y - y_mean)


def unscaled_loop(X, y, sw, eta, rho, n_steps, variant, fit_intercept):
    """The plain loop (``_reference.linear_sam``) after ``n_steps``: coef (d, t)."""
    coefs, _, _ = linear_sam(
        X, y, eta, rho, [n_steps], variant=variant, fit_intercept=fit_intercept,
        sample_weight=sw,
    )  # fmt: skip
    return coefs[0]


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("is_sparse", [False, True])
def test_loop_matches_unscaled_update_rule(variant, fit_intercept, is_sparse):
    X, y, sw = problem()
    op, y_scaled = scaled(X, y, sw, fit_intercept, is_sparse)
    eta, rho = 0.05, 0.01 if variant == "normalized" else 0.3
    for n_steps in [0, 1, 7, 40]:
        expected = unscaled_loop(X, y, sw, eta, rho, n_steps, variant, fit_intercept)
        coef = sam_loop(op, y_scaled, eta, rho, n_steps, variant)
        assert_allclose(coef, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_iterates_yield_every_step():
    X, y, sw = problem()
    op, y_scaled = scaled(X, y, sw, True)
    iterates = list(sam_iterates(op, y_scaled, 0.05, 0.3, 6, "unnormalized"))
    assert [step for step, _ in iterates] == [1, 2, 3, 4, 5, 6]
    assert_array_equal(
        iterates[-1][1], sam_loop(op, y_scaled, 0.05, 0.3, 6, "unnormalized")
    )


def test_rho_zero_is_bitwise_gradient_descent():
    X, y, _ = problem()
    n = X.shape[0]
    op = ScaledDesign(X, None, None, float(n))
    w = np.zeros((X.shape[1], 2))
    for _ in range(30):
        w = w - 0.02 * (X.T @ (X @ w - y) / n)
    assert_array_equal(sam_loop(op, y, 0.02, 0.0, 30, "unnormalized"), w)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("centred", [False, True])
def test_sparse_implicit_centring_equals_dense_centring(weighted, centred):
    X, y, sw = problem(n=25, d=9)
    sqrt_sw = np.sqrt(sw) if weighted else None
    S = sw.sum() if weighted else 25.0
    x_mean = (sw if weighted else np.ones(25)) @ X / S if centred else None
    dense = ScaledDesign(X, sqrt_sw, x_mean, S)
    implicit = ScaledDesign(sparse.csr_matrix(X), sqrt_sw, x_mean, S)
    assert implicit.is_sparse and not dense.is_sparse
    explicit = (X - (0.0 if x_mean is None else x_mean)) * (
        1.0 if sqrt_sw is None else sqrt_sw[:, None]
    )
    assert_allclose(dense.X, explicit, rtol=1e-15)
    coef, resid = np.random.default_rng(3).standard_normal((9, 2)), y
    for op in (dense, implicit):
        assert_allclose(op.apply(coef), explicit @ coef, rtol=1e-12)
        assert_allclose(op.adjoint(resid), explicit.T @ resid, rtol=1e-12)
        assert_allclose(op._gram_primal(), explicit.T @ explicit, rtol=1e-12)
        assert_allclose(op._gram_dual(), explicit @ explicit.T, rtol=1e-12, atol=1e-12)
        top = np.linalg.eigvalsh(explicit.T @ explicit / S)[-1]
        assert_allclose(op.top_eigenvalue(), top, rtol=1e-12)
    y_scaled = y if sqrt_sw is None else sqrt_sw[:, None] * y
    for variant in ["unnormalized", "normalized"]:
        assert_allclose(
            sam_loop(implicit, y_scaled, 0.05, 0.2, 15, variant),
            sam_loop(dense, y_scaled, 0.05, 0.2, 15, variant),
            rtol=1e-12,
        )
        assert_allclose(
            coef_path(implicit.factor(y_scaled), 0.05, 0.2, [15], variant),
            coef_path(dense.factor(y_scaled), 0.05, 0.2, [15], variant),
            rtol=1e-10,
        )


@pytest.mark.parametrize("route", ["lanczos", "gram"])
@pytest.mark.parametrize("shape", [(300, 120), (120, 300)])
@pytest.mark.parametrize("is_sparse", [False, True])
def test_top_eigenvalue_by_lanczos_or_gram(monkeypatch, route, shape, is_sparse):
    # The route is chosen by the cost model; force each one.
    pairs = 0 if route == "lanczos" else 10**9
    monkeypatch.setattr(_design, "COSTS", replace(_design.COSTS, lanczos_pairs=pairs))
    X, _, sw = problem(*shape, seed=4)
    op, _ = scaled(X, np.zeros((shape[0], 1)), sw, True, is_sparse)
    Xs = np.sqrt(sw)[:, None] * (X - sw @ X / sw.sum())
    top = np.linalg.eigvalsh(Xs.T @ Xs / sw.sum())[-1]
    assert_allclose(op.top_eigenvalue(), top, rtol=1e-12)
    costs = op._lanczos_cost(), op._gram_eigvalsh_cost()
    assert (costs[0] < costs[1]) == (route == "lanczos")
    assert op.top_eigenvalue_cost() == min(costs)


def test_sparse_batch_rows_do_not_use_the_full_transpose():
    X, y, sw = problem()
    op, _ = scaled(X, y, sw, True, is_sparse=True)
    dense, _ = scaled(X, y, sw, True)
    rows = np.array([3, 7, 8, 20])
    resid = y[rows]
    assert_allclose(op.rows(rows).adjoint(resid), dense.rows(rows).adjoint(resid))
