"""The spectral filter and the normalized recursion against explicit loops."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sksam._core._spectral import (
    SpectralFactor,
    coef_path,
    decompose_dual,
    decompose_primal,
)
from sksam._core._variants import filter_psi, get_variant, iter_psi_chunks


def auto_learning_rate(lam_max, rho, variant):
    return get_variant(variant).auto_learning_rate(lam_max, rho)


def largest_stable_learning_rate(lam_max, rho, variant):
    return get_variant(variant).largest_stable_learning_rate(lam_max, rho)


def spectral_radius(lam_max, learning_rate, rho):
    return learning_rate * get_variant("unnormalized").effective_eigenvalues(
        lam_max, rho
    )


def eigen_factor(lam, proj):
    """A factor in eigen-coordinates (identity basis), as decompose_primal builds."""
    lam = np.asarray(lam, dtype=float)
    proj = np.asarray(proj, dtype=float)
    proj = np.broadcast_to(proj, lam.shape) if proj.ndim == 0 else proj
    proj = proj.reshape(lam.size, -1)
    return SpectralFactor(lam, np.eye(lam.size), proj, proj**2, float(lam.max()))


def psi_loop(lam, eta, rho, n_steps):
    """``psi <- psi + eta (1 + rho lam) (1 - lam psi)``: GD on ``lam (1 + rho lam)``."""
    psi, out = np.zeros_like(lam), [np.zeros_like(lam)]
    for _ in range(n_steps):
        psi = psi + eta * (1.0 + rho * lam) * (1.0 - lam * psi)
        out.append(psi)
    return np.array(out).T  # (rank, n_steps + 1)


def design(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.05, d)
    return X - X.mean(axis=0), rng.standard_normal((n, 2))


def test_filter_matches_direct_formula_and_loop():
    lam = np.geomspace(1e-3, 2.0, 30)
    eta, rho = 0.4, 0.25  # eta * lam_max * (1 + rho lam_max) = 1.2: r < 0 on top
    steps = [0, 1, 2, 7, 50, 200]
    r = 1.0 - eta * lam * (1.0 + rho * lam)
    assert r.min() < 0.0 < r.max()
    direct = (1.0 - r[:, None] ** np.array(steps)) / lam[:, None]
    psi = filter_psi(eigen_factor(lam, 1.0), eta, rho, steps, "unnormalized")
    assert psi.shape == (30, len(steps))
    assert_allclose(psi, direct, rtol=1e-10)
    assert_allclose(psi, psi_loop(lam, eta, rho, 200)[:, steps], rtol=1e-11)
    assert_array_equal(psi[:, 0], 0.0)


@pytest.mark.parametrize("eta", [0.9, 1.5, 1.99])
def test_filter_in_the_oscillating_regime(eta):
    # a = eta lam (1 + rho lam) in (1, 2): r in (-1, 0), psi alternates around 1/lam.
    lam, rho = np.array([0.5, 1.0]), 0.0
    psi = filter_psi(eigen_factor(lam, 1.0), eta, rho, range(40), "unnormalized")
    assert_allclose(psi, psi_loop(lam, eta, rho, 39), rtol=1e-12, atol=1e-15)
    if eta > 1.0:
        above = psi[1, 1:] > 1.0 / lam[1]
        assert np.all(above[::2]) and not np.any(above[1::2])


def test_filter_at_the_auto_step_where_the_top_direction_converges_at_once():
    # learning_rate="auto" makes a = eta lam_max (1 + rho lam_max) = 1 (r = 0) on the
    # top direction: r^0 = 1 at step 0 and r^k = 0 after, without 0 * inf or warnings.
    lam, rho = np.array([0.01, 0.3, 2.0]), 0.5
    eta = auto_learning_rate(lam.max(), rho, "unnormalized")
    assert eta * lam[-1] * (1.0 + rho * lam[-1]) == 1.0
    steps = [0, 1, 2, 30, 10**9]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        psi = filter_psi(eigen_factor(lam, 1.0), eta, rho, steps, "unnormalized")
    assert_array_equal(psi[:, 0], 0.0)
    assert_array_equal(psi[-1, 1:], 1.0 / lam[-1])
    assert_allclose(psi[:, :4], psi_loop(lam, eta, rho, 30)[:, steps[:4]], rtol=1e-12)
    assert_allclose(psi[:, -1], 1.0 / lam, rtol=1e-12)
    # Rounding can put a a few ulps above 1 (|r| < 1e-15): still the same values.
    eta_up = np.nextafter(np.nextafter(eta, 1.0), 1.0)
    assert 1.0 < eta_up * lam[-1] * (1.0 + rho * lam[-1]) <= 1.0 + 4e-16
    psi_up = filter_psi(eigen_factor(lam, 1.0), eta_up, rho, steps, "unnormalized")
    assert_allclose(psi_up[:, :4], psi_loop(lam, eta_up, rho, 30)[:, steps[:4]], 1e-12)


def test_filter_for_tiny_eigenvalues_is_accurate():
    # Binomial series: 1 - (1 - a)^k = k a - C(k, 2) a^2 + C(k, 3) a^3 - ...; the
    # direct formula would cancel to 0 or lose most digits here.
    lam = np.array([1e-300, 1e-200, 1e-20, 1e-12, 1e-9])[:, None]
    eta, rho, k = 0.7, 3.0, np.array([1, 5, 1000])
    a = eta * lam * (1.0 + rho * lam)
    series = (k * a - k * (k - 1) / 2 * a**2 + k * (k - 1) * (k - 2) / 6 * a**3) / lam
    psi = filter_psi(eigen_factor(lam[:, 0], 1.0), eta, rho, k, "unnormalized")
    assert_allclose(psi, series, rtol=1e-14)
    assert_allclose(psi[0], k * eta, rtol=1e-15)  # the lam -> 0 limit k * eta


def test_normalized_recursion_matches_loop_in_eigen_coordinates():
    # Normalized SAM in eigen-coordinates: c_{k+1} = c* + (1 - eta lam (1 + rho_k lam))
    # (c_k - c*), rho_k = rho / ||g_k||, ||g_k||^2 = sum lam^2 (c_k - c*)^2, per target
    # column. rho is small enough that rho lam_max / ||g_k|| stays below 0.5 (no
    # bouncing).
    lam = np.geomspace(0.01, 1.0, 12)
    proj = np.random.default_rng(0).standard_normal((12, 2))
    eta, rho, n_steps = 0.9, 2e-3, 60
    target = proj / lam[:, None]
    c = np.zeros_like(proj)
    expected = [c]
    for _ in range(n_steps):
        norm = np.sqrt(np.sum((lam[:, None] * (c - target)) ** 2, axis=0))
        assert np.all(rho * lam.max() / norm < 0.5)
        r = 1.0 - eta * lam[:, None] * (1.0 + rho / norm * lam[:, None])
        c = target + r * (c - target)
        expected.append(c)
    steps = [0, 1, 3, 17, 60]
    path = coef_path(eigen_factor(lam, proj), eta, rho, steps, "normalized")
    assert path.shape == (12, 2, len(steps))
    for i, k in enumerate(steps):
        assert_allclose(path[:, :, i], expected[k], rtol=1e-10, atol=1e-12)
    # ... and it is not the unnormalized filter.
    unnormalized = coef_path(eigen_factor(lam, proj), eta, rho, steps, "unnormalized")
    assert np.abs(path - unnormalized).max() > 1e-6


def test_normalized_with_zero_gradient_takes_no_perturbation():
    lam = np.array([0.5, 1.0])
    factor = eigen_factor(lam, [[0.0, 1.0], [0.0, 2.0]])  # first target: g = 0
    path = coef_path(factor, 0.5, 1.0, [1, 5], "normalized")
    assert_array_equal(path[:, 0], 0.0)
    assert np.all(np.isfinite(path))


def test_normalized_with_rho_zero_is_gradient_descent():
    lam, proj = np.geomspace(0.1, 1.0, 5), np.arange(1.0, 6.0)
    gd = coef_path(eigen_factor(lam, proj), 0.8, 0.0, [3, 9], "unnormalized")
    normalized = coef_path(eigen_factor(lam, proj), 0.8, 0.0, [3, 9], "normalized")
    assert_array_equal(normalized, gd)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("n_iter, chunk_size", [(10, 1), (10, 3), (700, 256), (5, 256)])
def test_chunked_path_equals_one_shot(variant, n_iter, chunk_size):
    lam = np.geomspace(0.01, 1.0, 8)
    factor = eigen_factor(lam, np.random.default_rng(1).standard_normal((8, 2)))
    one_shot = filter_psi(factor, 0.9, 0.05, np.arange(1, n_iter + 1), variant)
    if one_shot.ndim == 2:
        one_shot = np.broadcast_to(one_shot[:, None, :], (8, 2, n_iter))
    chunks = list(iter_psi_chunks(factor, 0.9, 0.05, n_iter, variant, chunk_size))
    assert_array_equal(
        np.concatenate([steps for steps, _ in chunks]), range(1, n_iter + 1)
    )
    chunked = np.concatenate([psi for _, psi in chunks], axis=2)
    assert_allclose(np.broadcast_to(chunked, one_shot.shape), one_shot, rtol=1e-13)


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_primal_and_dual_factors_give_the_same_path(variant):
    X, y = design(12, 30)  # rank 11 after centring, both factorizations apply
    S = 12.0
    primal = decompose_primal(X.T @ X / S, X.T @ y / S)
    dual = decompose_dual(X @ X.T / S, y, S, lambda vecs: X.T @ vecs)
    assert primal.lam.size == dual.lam.size == 11  # the centring null space is dropped
    assert_allclose(primal.lam, dual.lam, rtol=1e-10)
    steps = [1, 4, 40]
    assert_allclose(
        coef_path(primal, 0.5, 1e-3, steps, variant),
        coef_path(dual, 0.5, 1e-3, steps, variant),
        rtol=1e-9,
        atol=1e-12,
    )


def test_path_converges_to_min_norm_solution_on_rank_deficient_design():
    X, y = design(40, 10)
    X[:, 5] = X[:, 3] - 2 * X[:, 7]  # rank 9
    factor = decompose_primal(X.T @ X / 40, X.T @ y / 40)
    assert factor.lam.size == 9
    path = coef_path(factor, 1.0 / factor.lam_max, 0.5, [10**7], "unnormalized")
    assert_allclose(path[:, :, 0], np.linalg.pinv(X) @ y, rtol=1e-9, atol=1e-12)


def test_learning_rate_formulas():
    lam_max, rho = 4.0, 0.5
    assert auto_learning_rate(lam_max, rho, "unnormalized") == 1.0 / (4.0 * 3.0)
    assert auto_learning_rate(lam_max, rho, "normalized") == 1.0 / 4.0
    limit = largest_stable_learning_rate(lam_max, rho, "unnormalized")
    assert limit == 2.0 / (4.0 * 3.0)
    assert spectral_radius(lam_max, limit, rho) == 2.0
    assert largest_stable_learning_rate(lam_max, rho, "normalized") == 0.5
    # An all-zero design: nothing to learn, every step size is stable.
    assert auto_learning_rate(0.0, rho, "unnormalized") == 1.0
    assert largest_stable_learning_rate(0.0, rho, "unnormalized") == np.inf


def test_all_zero_design_gives_empty_factor():
    factor = decompose_primal(np.zeros((3, 3)), np.zeros((3, 1)))
    assert factor.lam.size == 0 and factor.lam_max == 0.0
    assert_array_equal(coef_path(factor, 1.0, 0.1, [5], "normalized"), 0.0)


def test_dual_basis_is_applied_without_being_formed():
    X, y = design(12, 30)
    calls = []

    def to_coef(vecs):
        calls.append(vecs.shape[1])
        return X.T @ vecs

    factor = decompose_dual(X @ X.T / 12.0, y, 12.0, to_coef)
    psi = filter_psi(factor, 0.5, 0.1, [9], "unnormalized")[:, 0]
    coef = factor.coef(psi)
    assert calls == [2]  # one product with the two target columns
    basis = factor.basis  # formed on first access, then kept
    assert calls == [2, 11] and factor.basis is basis
    # columns X^T q_i / S with X X^T q_i = S lam_i q_i: orthogonal, squared norm lam_i/S
    assert_allclose(basis.T @ basis, np.diag(factor.lam / 12.0), atol=1e-12)
    assert_allclose(coef, basis @ (psi[:, None] * factor.proj), rtol=1e-12)
    assert_allclose(factor.coef(psi), coef, rtol=1e-12)
