"""Stochastic (mini-batch) SAM against plain loops of the update rule.

Batches are drawn as documented in ``shuffled_batches``: one
``RandomState(random_state).permutation`` of the positive-weight samples per epoch,
cut into consecutive slices of ``batch_size``, the last (smaller) slice kept. The
reference loops redraw that sequence themselves (``_reference.shuffled_epochs``) and
apply the update in the original (unscaled) coordinates:

    g = grad_B(w),   w <- w - eta * grad_B(w + rho_k * g),
    grad_B(w) = X_B^T diag(s_B) (X_B w - y_B) / sum(s_B)      (centred X, y)

and, for the kernel, the same in dual coefficients with the RKHS gradient supported on
the batch.
"""

import warnings

import numpy as np
import pytest
from _data import spread_spectrum_data
from _reference import kernel_sam, linear_sam, shuffled_epochs
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel

from sksam import SAMKernelRidge, SAMRegressor
from sksam._core._iterative import sam_batch_iterates, sam_loop, shuffled_batches
from sksam._core._operators import ScaledDesign, ScaledKernel

N, D, BATCH, STEPS = 30, 4, 8, 10  # 4 batches per epoch (the last of 6): 2.5 epochs
GAMMA = 0.3
RHO = {"unnormalized": 0.5, "normalized": 0.05, "sgd": 0.0}


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired``."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_problem(n=N, d=D, n_targets=2, seed=0):
    X, y, _, X_test = spread_spectrum_data(
        n, d, n_targets=n_targets, decay=0.2, n_test=7, seed=seed
    )
    return X, y, X_test


def make_weights(n, weighted, zeros=False):
    if not weighted:
        return None
    sw = np.random.default_rng(1).uniform(0.2, 2.0, n)
    if zeros:
        sw[[0, 3, 4, 11, n - 1]] = 0.0
    return sw


def perturbation_radius(rho, variant, norm):
    if variant != "normalized":
        return rho
    return rho / norm if norm > 0 else 0.0


def reference_linear(X, y, sw, fit_intercept, eta, rho, variant, batches):
    """Coefficients (d, t) and intercepts (t,) of the plain mini-batch loop."""
    coefs, intercepts, _ = linear_sam(
        X, y, eta, rho, [len(batches)], variant=variant,
        fit_intercept=fit_intercept, sample_weight=sw, batches=batches,
    )  # fmt: skip
    return coefs[0], intercepts[0]


def reference_kernel(K, K_test, y, sw, fit_intercept, eta, rho, variant, batches):
    """Test predictions (n_test, t) of the plain mini-batch dual loop."""
    preds, _ = kernel_sam(
        K, y, eta, rho, [len(batches)], K_eval=K_test, variant=variant,
        fit_intercept=fit_intercept, sample_weight=sw, batches=batches,
    )  # fmt: skip
    return preds[0]


def fit_stochastic(kind, variant, fit_intercept, **params):
    rho = RHO[variant]
    variant = "unnormalized" if variant == "sgd" else variant
    common = dict(
        rho=rho,
        n_iter=STEPS,
        variant=variant,
        fit_intercept=fit_intercept,
        batch_size=BATCH,
        random_state=42,
    )
    common.update(params)
    if kind == "linear":
        return SAMRegressor(**common)
    return SAMKernelRidge(kernel="rbf", gamma=GAMMA, **common)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized", "sgd"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("multi_output", [True, False])
def test_matches_plain_minibatch_loop(
    kind, variant, fit_intercept, weighted, multi_output
):
    X, y, X_test = make_problem()
    sw = make_weights(N, weighted)
    y_fit = y if multi_output else y[:, :1]
    est = fit_stochastic(kind, variant, fit_intercept, learning_rate=0.4)
    est.fit(X, y_fit if multi_output else y_fit[:, 0], sample_weight=sw)
    assert est.solver_ == "iterative"
    assert est.n_iter_ == STEPS
    batches = shuffled_epochs(42, N, BATCH, STEPS, sw)
    rho, eta = RHO[variant], est.learning_rate_
    variant = "unnormalized" if variant == "sgd" else variant
    if kind == "linear":
        coef, intercept = reference_linear(
            X, y_fit, sw, fit_intercept, eta, rho, variant, batches
        )
        expected = X_test @ coef + intercept
        assert_rel_close(est.coef_, coef.T if multi_output else coef[:, 0])
    else:
        expected = reference_kernel(
            rbf_kernel(X, gamma=GAMMA),
            rbf_kernel(X_test, X, gamma=GAMMA),
            y_fit,
            sw,
            fit_intercept,
            eta,
            rho,
            variant,
            batches,
        )
    pred = est.predict(X_test)
    assert_rel_close(pred, expected if multi_output else expected[:, 0])
    # the batches matter: full-batch SAM with the same step size is far away
    full = fit_stochastic(kind, variant, fit_intercept, batch_size=None)
    full.set_params(learning_rate=eta).fit(X, y_fit, sample_weight=sw)
    assert np.abs(full.predict(X_test) - expected).max() > 1e-3


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_learning_rate_auto_is_the_full_batch_value(kind, variant):
    X, y, _ = make_problem()
    stochastic = fit_stochastic(kind, variant, True).fit(X, y)
    for solver in ("iterative", "spectral"):  # both find lam_max, to rounding
        full = fit_stochastic(kind, variant, True, batch_size=None, solver=solver)
        assert_rel_close(stochastic.learning_rate_, full.fit(X, y).learning_rate_)


def test_sparse_rows_match_dense():
    X, y, X_test = make_problem()
    X[np.random.default_rng(3).random(X.shape) < 0.4] = 0.0
    sw = make_weights(N, True)
    for variant in ("unnormalized", "normalized"):
        dense = fit_stochastic("linear", variant, True).fit(X, y, sample_weight=sw)
        csr = fit_stochastic("linear", variant, True).fit(
            sparse.csr_matrix(X), y, sample_weight=sw
        )
        assert_rel_close(csr.coef_, dense.coef_, rtol=1e-10)
        assert_rel_close(csr.intercept_, dense.intercept_, rtol=1e-10)


def test_linear_kernel_matches_linear_model():
    # The invariant holds batch by batch: the RKHS gradient of the batch loss
    # is X_c^T of the linear batch gradient.
    X, y, X_test = make_problem()
    sw = make_weights(N, True)
    for variant in ("unnormalized", "normalized"):
        params = dict(rho=0.3, n_iter=STEPS, variant=variant, learning_rate=0.1)
        params.update(batch_size=BATCH, random_state=7)
        linear = SAMRegressor(**params).fit(X, y, sample_weight=sw)
        kernel = SAMKernelRidge(kernel="linear", **params).fit(X, y, sample_weight=sw)
        assert_rel_close(kernel.predict(X_test), linear.predict(X_test), rtol=1e-10)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batch_size", [N, N + 5])
def test_full_batch_size_is_full_batch_sam(kind, variant, weighted, batch_size):
    X, y, X_test = make_problem()
    sw = make_weights(N, weighted)
    expected = {}
    for solver in ("spectral", "iterative"):
        full = fit_stochastic(kind, variant, True, batch_size=None, solver=solver)
        expected[solver] = full.fit(X, y, sample_weight=sw).predict(X_test)
    stochastic = fit_stochastic(kind, variant, True, batch_size=batch_size)
    pred = stochastic.fit(X, y, sample_weight=sw).predict(X_test)
    assert stochastic.solver_ == "iterative"
    assert_array_equal(pred, expected["iterative"])
    assert_rel_close(pred, expected["spectral"], rtol=1e-10)


@pytest.mark.parametrize("make_op", ["dense", "sparse", "kernel"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_batch_loop_over_all_rows_is_the_full_batch_loop(make_op, variant):
    # The mini-batch machinery itself (not the full-batch shortcut) with B = all rows,
    # in shuffled order, is full-batch SAM up to rounding.
    X, y, _ = make_problem()
    sw = make_weights(N, True)
    sqrt_sw, S = np.sqrt(sw), sw.sum()
    x_mean = sw @ X / S
    if make_op == "kernel":
        K = rbf_kernel(X, gamma=GAMMA)
        op = ScaledKernel(K, sqrt_sw, S)
    else:
        Xop = sparse.csr_matrix(X) if make_op == "sparse" else X
        op = ScaledDesign(Xop, sqrt_sw, x_mean, S)
    y_scaled = (y - sw @ y / S) * sqrt_sw[:, None]
    rng = np.random.default_rng(5)
    batches = [(rng.permutation(N), S) for _ in range(STEPS)]
    eta = 0.1
    iterates = sam_batch_iterates(op, y_scaled, eta, 0.5, variant, batches)
    coef = [coef.copy() for _, coef in iterates][-1]
    assert_rel_close(coef, sam_loop(op, y_scaled, eta, 0.5, STEPS, variant), 1e-12)


@pytest.mark.parametrize("make_op", ["dense", "sparse", "kernel"])
def test_batch_loop_only_touches_batch_rows(make_op, monkeypatch):
    X, y, _ = make_problem(n=200)
    if make_op == "kernel":
        op = ScaledKernel(rbf_kernel(X, gamma=GAMMA), None, 200.0)
    else:
        op = ScaledDesign(
            sparse.csr_matrix(X) if make_op == "sparse" else X,
            None,
            X.mean(axis=0),
            200.0,
        )
    rows_seen = []

    def spy(method):
        def checked(self, arg):
            rows_seen.append(self.X.shape[0])
            return method(self, arg)

        return checked

    def forbidden(self, arg):
        raise AssertionError("full kernel product in a mini-batch step")

    for name in ("apply", "adjoint"):
        monkeypatch.setattr(ScaledDesign, name, spy(getattr(ScaledDesign, name)))
        monkeypatch.setattr(ScaledKernel, name, forbidden)
    batches = list(shuffled_batches(np.random.RandomState(0), 200, 16, 30))
    for variant in ("unnormalized", "normalized"):
        iterates = sam_batch_iterates(op, y, 0.1, 0.5, variant, batches)
        assert all(np.all(np.isfinite(coef)) for _, coef in iterates)
    if make_op != "kernel":
        assert len(rows_seen) == 2 * 30 * 4 and max(rows_seen) == 16


def test_shuffled_batches_sequence_and_weight_sums():
    sw = make_weights(N, True, zeros=True)
    drawn = list(shuffled_batches(np.random.RandomState(3), N, BATCH, 12, sw))
    expected = shuffled_epochs(3, N, BATCH, 12, sw)
    assert len(drawn) == 12
    for (rows, total), ref in zip(drawn, expected, strict=True):
        assert_array_equal(rows, ref)
        assert total == pytest.approx(sw[rows].sum(), rel=1e-15)
        assert total > 0
    # epochs of the 25 positive-weight samples: sizes 8, 8, 8, 1, 8, ...
    assert [len(rows) for rows, _ in drawn[:5]] == [8, 8, 8, 1, 8]
    first_epoch = np.concatenate([rows for rows, _ in drawn[:4]])
    assert_array_equal(np.sort(first_epoch), np.flatnonzero(sw > 0))
    unit = list(shuffled_batches(np.random.RandomState(3), N, BATCH, 5))
    assert [total for _, total in unit] == [8.0, 8.0, 8.0, 6.0, 8.0]


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_zero_weight_is_removing_the_sample(kind):
    # Zero-weight samples never enter a batch (every batch has a positive weight
    # sum), so they are exactly the same as removing the samples.
    X, y, X_test = make_problem()
    sw = make_weights(N, True, zeros=True)
    keep = sw > 0
    for variant in ("unnormalized", "normalized"):
        est = fit_stochastic(kind, variant, True, learning_rate=0.2)
        with_zeros = est.fit(X, y, sample_weight=sw).predict(X_test)
        removed = est.fit(X[keep], y[keep], sample_weight=sw[keep]).predict(X_test)
        assert_rel_close(with_zeros, removed, rtol=1e-10)
    # and the reference loop agrees (batches of the positive-weight samples only)
    if kind == "linear":
        batches = shuffled_epochs(42, N, BATCH, STEPS, sw)
        coef, _ = reference_linear(X, y, sw, True, 0.2, 0.05, "normalized", batches)
        assert_rel_close(est.coef_, coef.T)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_random_state_fixes_the_result(kind):
    X, y, _ = make_problem()
    first = fit_stochastic(kind, "unnormalized", True).fit(X, y)
    second = fit_stochastic(kind, "unnormalized", True).fit(X, y)
    attr = "coef_" if kind == "linear" else "dual_coef_"
    assert_array_equal(getattr(first, attr), getattr(second, attr))
    other = fit_stochastic(kind, "unnormalized", True, random_state=43).fit(X, y)
    assert np.abs(getattr(other, attr) - getattr(first, attr)).max() > 1e-4
    # a RandomState instance is the same stream as its seed, and advances with fits
    rng = np.random.RandomState(42)
    from_instance = fit_stochastic(kind, "unnormalized", True, random_state=rng)
    assert_array_equal(getattr(from_instance.fit(X, y), attr), getattr(first, attr))
    refit = getattr(from_instance.fit(X, y), attr)
    assert np.abs(refit - getattr(first, attr)).max() > 1e-4
    assert first.__sklearn_tags__().non_deterministic is False


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_staged_predict_replays_the_batches_of_fit(kind, variant):
    X, y, X_test = make_problem()
    sw = make_weights(N, True)
    rng = np.random.RandomState(42)  # advanced by fit: staged_predict must not care
    est = fit_stochastic(kind, variant, True, random_state=rng)
    est.fit(X, y, sample_weight=sw)
    staged = list(est.staged_predict(X_test))
    assert len(staged) == STEPS
    assert_rel_close(staged[-1], est.predict(X_test), rtol=1e-12)
    for k in (1, 4, 7):
        short = fit_stochastic(kind, variant, True, n_iter=k)
        expected = short.fit(X, y, sample_weight=sw).predict(X_test)
        assert_rel_close(staged[k - 1], expected, rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_staged_predict_across_prediction_chunks(kind):
    # staged_predict forms the test predictions of 64 loop iterates at a time; the
    # mini-batch loop updates its coefficients in place, so each must be copied.
    X, y, X_test = make_problem()
    est = fit_stochastic(kind, "unnormalized", True, n_iter=150).fit(X, y)
    staged = list(est.staged_predict(X_test))
    assert len(staged) == 150
    assert_rel_close(staged[-1], est.predict(X_test), rtol=1e-12)
    for k in (63, 64, 65, 129):
        short = fit_stochastic(kind, "unnormalized", True, n_iter=k).fit(X, y)
        assert_rel_close(staged[k - 1], short.predict(X_test), rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_spectral_solver_rejects_batch_size(kind):
    X, y, _ = make_problem()
    est = fit_stochastic(kind, "unnormalized", True, solver="spectral")
    with pytest.raises(ValueError, match="solver='spectral' does not support batch"):
        est.fit(X, y)
    assert (
        fit_stochastic(kind, "unnormalized", True, solver="iterative").fit(X, y).solver_
        == "iterative"
    )


def test_n_iter_zero_is_the_intercept_only_model():
    X, y, X_test = make_problem()
    est = fit_stochastic("linear", "unnormalized", True, n_iter=0).fit(X, y)
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.predict(X_test), np.tile(y.mean(axis=0), (7, 1)))


def theory_problem():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((24, 3)) * np.array([2.0, 1.0, 0.5])
    y = X @ np.array([1.0, -1.0, 2.0]) + 0.5 * rng.standard_normal(24)
    n = X.shape[0]
    H = X.T @ X / n
    lam, vecs = np.linalg.eigh(H)
    rho = 0.5 / lam[-1]
    eta = 0.5 / (lam[-1] * (1 + rho * lam[-1]))
    return X, y, H, vecs[:, -1], rho, eta


def test_mean_iterate_with_replacement_is_exact():
    # The mean-iterate recursion of stochastic SAM, checked on a with-replacement
    # simulation (the theory's sampling): E w_k = (I - (I - eta A_B)^k) A_B^{-1} c_B.
    X, y, H, _, rho, eta = theory_problem()
    n, d = X.shape
    batch, k, chains = 4, 6, 40_000
    z = X.T @ y / n
    sq = np.sum(X**2, axis=1)
    M = (X * sq[:, None]).T @ X / n
    m = X.T @ (sq * y) / n
    A = H + rho * (M / batch + (1 - 1 / batch) * H @ H)
    c = z + rho * (m / batch + (1 - 1 / batch) * H @ z)
    expected = (np.eye(d) - np.linalg.matrix_power(np.eye(d) - eta * A, k)) @ (
        np.linalg.solve(A, c)
    )
    rng = np.random.default_rng(0)
    w = np.zeros((chains, d))
    for _ in range(k):
        rows = rng.integers(0, n, size=(chains, batch))
        Xb, yb = X[rows], y[rows]

        def grad(v, Xb=Xb, yb=yb):
            resid = np.einsum("cbd,cd->cb", Xb, v) - yb
            return np.einsum("cbd,cb->cd", Xb, resid) / batch

        w = w - eta * grad(w + rho * grad(w))
    stderr = w.std(axis=0) / np.sqrt(chains)
    assert np.all(np.abs(w.mean(axis=0) - expected) < 4 * stderr)


def test_stochastic_sam_fits_the_top_direction_faster_than_sgd():
    # At the same step size, the mean stochastic-SAM iterate has the
    # larger component along the top eigen-direction (the estimator samples without
    # replacement, so the ordering is checked with a Monte Carlo tolerance).
    X, y, _, top, rho, eta = theory_problem()
    top = top * np.sign(top @ np.linalg.lstsq(X, y, rcond=None)[0])
    params = dict(n_iter=5, learning_rate=eta, fit_intercept=False, batch_size=4)
    diffs = []
    for seed in range(150):
        sam = SAMRegressor(rho=rho, random_state=seed, **params).fit(X, y)
        sgd = SAMRegressor(rho=0.0, random_state=seed, **params).fit(X, y)
        diffs.append((sam.coef_ - sgd.coef_) @ top)
    diffs = np.array(diffs)
    assert diffs.mean() > 5 * diffs.std() / np.sqrt(diffs.size)


def test_warns_when_minibatch_steps_diverge():
    # "auto" is the full-batch step; single-sample Hessians ||x_i||^2 are ~D times
    # larger than lam_max, so batch_size=1 at that step makes SAM grow.
    X, y, _ = make_problem(n=60, d=8)
    est = SAMRegressor(rho=1.0, n_iter=300, batch_size=1, random_state=0)
    with pytest.warns(
        ConvergenceWarning, match="batch_size=1 ended with a larger training loss"
    ):
        est.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_params(learning_rate=0.01 * est.learning_rate_).fit(X, y)
        est.set_params(batch_size=20, learning_rate="auto").fit(X, y)


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_early_stopping_runs_on_minibatch_paths(kind):
    X, y, X_test = make_problem(n=120)
    params = dict(n_iter=40, learning_rate=0.2, early_stopping=True)
    first = fit_stochastic(kind, "unnormalized", True, **params).fit(X, y)
    second = fit_stochastic(kind, "unnormalized", True, **params).fit(X, y)
    assert_array_equal(first.validation_score_, second.validation_score_)
    assert first.validation_score_.shape == (41,)
    assert 0 < first.n_iter_ <= 40
    refit = fit_stochastic(kind, "unnormalized", True, n_iter=first.n_iter_)
    refit.set_params(learning_rate=0.2).fit(X, y)
    assert_array_equal(first.predict(X_test), refit.predict(X_test))
