"""SAMRegressor against plain explicit loops of the update rules."""

import pickle
import re
import warnings
from functools import cache

import numpy as np
import pytest
from _reference import linear_sam
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sksam import SAMRegressor

# All-zero sample_weight is refused: by newer scikit-learn ("at least one non-zero
# number"), by sksam itself on 1.6 ("The sum of sample_weight must be positive.").
ZERO_WEIGHTS = "non-zero|sum of sample_weight must be positive"
STEPS = (0, 1, 7, 200)
SHAPES = {"n>d": (40, 15), "n<d": (15, 40)}
# Normalized SAM bounces across the top eigen-direction once rho / ||g_k|| grows too
# large (user guide, stability); there rounding differences are amplified and no two
# implementations agree. On these problems ||g_k|| stays above ~6e-4 for 200 steps, so
# rho = 1e-4 keeps rho * lam_max / ||g_k|| < 0.5 over every compared step (asserted in
# the reference loop) while still moving the iterates well beyond 1e-8.
RHO = {"unnormalized": 0.5, "normalized": 1e-4}


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired`` (exact when it is all zero)."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_problem(n, d, n_targets=2, seed=0):
    """Sparse-ish design with a spread spectrum (condition number ~ 1e3)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.5)
    X *= np.geomspace(1.0, 0.1, d)[None, :] * np.geomspace(1.0, 0.3, n)[:, None]
    y = X @ rng.standard_normal((d, n_targets)) + 0.1 * rng.standard_normal(
        (n, n_targets)
    )
    y += 3.0
    return X, y


def weights(n, weighted):
    return np.random.default_rng(1).uniform(0.1, 2.0, n) if weighted else None


def centred_gram(X, sample_weight, fit_intercept):
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    xm = s @ X / s.sum() if fit_intercept else 0.0
    return (X - xm).T @ (s[:, None] * (X - xm)) / s.sum()


def lam_max(X, sample_weight=None, fit_intercept=True):
    return np.linalg.eigvalsh(centred_gram(X, sample_weight, fit_intercept))[-1]


def auto_eta(top, rho, variant):
    """The "auto" step: 1 / (lam_max (1 + rho lam_max)); 1 / lam_max for normalized."""
    return 1.0 / top if variant == "normalized" else 1.0 / (top * (1.0 + rho * top))


def reference_sam(X, y, eta, rho, steps, variant, fit_intercept, sample_weight):
    """The plain loop (``_reference.linear_sam``): coefficients (K, d, t), intercepts
    (K, t) after each step count, and the smallest gradient norm seen per column."""
    coefs, intercepts, norms = linear_sam(
        X, y, eta, rho, steps, variant=variant, fit_intercept=fit_intercept,
        sample_weight=sample_weight,
    )  # fmt: skip
    return coefs, intercepts, norms.min(axis=0)


@cache
def reference_case(shape, variant, fit_intercept, weighted):
    X, y = make_problem(*SHAPES[shape])
    sw = weights(X.shape[0], weighted)
    rho = RHO[variant]
    top = lam_max(X, sw, fit_intercept)
    eta = auto_eta(top, rho, variant)
    coefs, intercepts, min_norm = reference_sam(
        X, y, eta, rho, STEPS, variant, fit_intercept, sw
    )
    if variant == "normalized":  # before the bouncing regime, see RHO
        assert np.all(rho * top / min_norm < 0.5)
    return X, y, sw, eta, coefs, intercepts


@pytest.mark.parametrize("solver", ["spectral", "iterative", "auto"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("multi_output", [False, True])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("is_sparse", [False, True])
def test_matches_explicit_loop(
    solver, variant, fit_intercept, weighted, multi_output, shape, is_sparse
):
    X, y, sw, eta, coefs, intercepts = reference_case(
        shape, variant, fit_intercept, weighted
    )
    Xfit = sparse.csr_matrix(X) if is_sparse else X
    yfit = y if multi_output else y[:, 0]
    for i, k in enumerate(STEPS):
        reg = SAMRegressor(
            rho=RHO[variant],
            n_iter=k,
            learning_rate=eta,
            variant=variant,
            fit_intercept=fit_intercept,
            solver=solver,
        ).fit(Xfit, yfit, sample_weight=sw)
        expected_coef = coefs[i].T if multi_output else coefs[i][:, 0]
        expected_intercept = intercepts[i] if multi_output else intercepts[i][0]
        assert reg.coef_.shape == expected_coef.shape
        assert_rel_close(reg.coef_, expected_coef)
        if fit_intercept:
            assert_rel_close(reg.intercept_, expected_intercept)
        else:
            assert_array_equal(reg.intercept_, 0.0)
        expected_pred = X @ coefs[i] + intercepts[i]
        assert_rel_close(
            reg.predict(Xfit), expected_pred if multi_output else expected_pred[:, 0]
        )
        assert reg.n_iter_ == k


def test_explicit_loop_problems_are_discriminating():
    # The normalized reference must differ from GD at the compared steps; otherwise
    # the normalized comparison above would not test the normalization.
    X, y, sw, eta, coefs, _ = reference_case("n>d", "normalized", True, False)
    gd, _, _ = reference_sam(X, y, eta, 0.0, STEPS, "normalized", True, sw)
    assert np.linalg.norm(coefs[-1] - gd[-1]) > 1e-5 * np.linalg.norm(gd[-1])


def test_rho_zero_is_bitwise_plain_gradient_descent():
    X, y = make_problem(60, 12, n_targets=3)
    n = X.shape[0]
    eta, n_iter = 1.5 / lam_max(X, fit_intercept=False), 25
    w = np.zeros((X.shape[1], y.shape[1]))
    for _ in range(n_iter):
        w = w - eta * (X.T @ (X @ w - y) / n)
    reg = SAMRegressor(
        rho=0.0,
        n_iter=n_iter,
        learning_rate=eta,
        fit_intercept=False,
        solver="iterative",
    ).fit(X, y)
    assert_array_equal(reg.coef_, w.T)
    assert_array_equal(reg.intercept_, 0.0)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_converges_to_min_norm_least_squares(solver, rho, shape):
    X, y = make_problem(*SHAPES[shape])
    x_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
    expected = np.linalg.pinv(X - x_mean) @ (y - y_mean)
    if shape == "n>d":
        lstsq = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)[0]
        assert_allclose(expected, lstsq, rtol=1e-10)
    n_iter = 50_000 if solver == "spectral" else 20_000
    reg = SAMRegressor(rho=rho, n_iter=n_iter, solver=solver).fit(X, y)
    assert_rel_close(reg.coef_, expected.T, rtol=1e-7)
    assert_rel_close(reg.intercept_, y_mean - x_mean @ expected, rtol=1e-7)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_normalized_does_not_converge_to_least_squares(solver):
    X, y = make_problem(40, 15, n_targets=1)
    Xc, yc = X - X.mean(axis=0), y[:, 0] - y.mean()
    fitted_ls = Xc @ np.linalg.lstsq(Xc, yc, rcond=None)[0]
    top_direction = np.linalg.svd(Xc)[0][:, 0]
    reg = SAMRegressor(rho=0.1, n_iter=3000, variant="normalized", solver=solver)
    staged = np.array(list(reg.fit(X, y[:, 0]).staged_predict(X)))[-50:]
    # In-sample predictions are X_c w_k + y_mean: compare X_c (w_k - w_ls).
    errors = staged - y.mean() - fitted_ls
    gaps = np.linalg.norm(errors, axis=1)
    assert gaps.min() > 1e-3 * np.linalg.norm(fitted_ls)
    top = errors @ top_direction
    assert np.all(top[1:] * top[:-1] < 0)  # the sign flips every step: bouncing
    assert np.all(np.abs(top) > 0.5 * gaps)  # mostly along the top direction
    # Unnormalized SAM with the same rho and n_iter gets much closer.
    unnormalized = SAMRegressor(rho=0.1, n_iter=3000, solver=solver).fit(X, y[:, 0])
    gap = np.linalg.norm(unnormalized.predict(X) - y.mean() - fitted_ls)
    assert gap < 1e-3 * gaps.min()


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("shape", [(30, 8), (8, 30)])  # primal and dual factor
@pytest.mark.parametrize("is_sparse", [False, True])
def test_staged_predict_equals_refits(solver, variant, shape, is_sparse):
    X, y = make_problem(*shape, n_targets=2)
    X_test = make_problem(7, shape[1], seed=3)[0]
    if is_sparse:
        X, X_test = sparse.csr_matrix(X), sparse.csr_matrix(X_test)
    params = dict(rho=0.3, variant=variant, solver=solver)
    staged = list(SAMRegressor(n_iter=12, **params).fit(X, y).staged_predict(X_test))
    assert len(staged) == 12
    for k, pred in enumerate(staged, start=1):
        refit = SAMRegressor(n_iter=k, **params).fit(X, y)
        assert_rel_close(pred, refit.predict(X_test), rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_n_iter_zero_is_intercept_only(solver):
    X, y = make_problem(30, 8, n_targets=1)
    sw = weights(30, True)
    reg = SAMRegressor(n_iter=0, solver=solver).fit(X, y[:, 0], sample_weight=sw)
    assert_array_equal(reg.coef_, 0.0)
    assert_allclose(reg.intercept_, np.average(y[:, 0], weights=sw), rtol=1e-14)
    assert_allclose(reg.predict(X), np.average(y[:, 0], weights=sw), rtol=1e-14)
    assert list(reg.staged_predict(X)) == []


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_integer_weights_equal_repeated_rows(solver, variant):
    X, y = make_problem(25, 6)
    counts = np.random.default_rng(2).integers(1, 4, size=25)
    params = dict(n_iter=20, rho=0.2, variant=variant, solver=solver)
    weighted = SAMRegressor(**params).fit(X, y, sample_weight=counts)
    repeated = SAMRegressor(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0)
    )
    assert_allclose(weighted.learning_rate_, repeated.learning_rate_, rtol=1e-12)
    assert_rel_close(weighted.coef_, repeated.coef_, rtol=1e-10)
    assert_rel_close(weighted.intercept_, repeated.intercept_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_zero_weights_equal_dropping_rows(solver, variant):
    X, y = make_problem(25, 6)
    sw = weights(25, True)
    sw[::3] = 0.0
    keep = sw > 0
    params = dict(n_iter=20, rho=0.2, variant=variant, solver=solver)
    weighted = SAMRegressor(**params).fit(X, y, sample_weight=sw)
    dropped = SAMRegressor(**params).fit(X[keep], y[keep], sample_weight=sw[keep])
    assert_rel_close(weighted.coef_, dropped.coef_, rtol=1e-10)
    assert_rel_close(weighted.intercept_, dropped.intercept_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_multi_output_columns_equal_single_output_fits(solver, variant):
    X, y = make_problem(30, 10, n_targets=3)
    y[:, 1] *= 100.0  # very different gradient norms per column
    params = dict(n_iter=15, rho=0.2, learning_rate=1.0, variant=variant, solver=solver)
    joint = SAMRegressor(**params).fit(X, y)
    for j in range(3):
        single = SAMRegressor(**params).fit(X, y[:, j])
        assert_rel_close(joint.coef_[j], single.coef_, rtol=1e-10)
        assert_allclose(joint.intercept_[j], single.intercept_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_auto_learning_rate_formula(solver, variant, shape):
    X, y = make_problem(*SHAPES[shape])
    sw = weights(X.shape[0], True)
    reg = SAMRegressor(rho=0.7, solver=solver, variant=variant).fit(X, y, sw)
    expected = auto_eta(lam_max(X, sw), 0.7, variant)
    assert_allclose(reg.learning_rate_, expected, rtol=1e-12)
    assert reg.solver_ == solver


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_unstable_learning_rate_warns_with_largest_stable_value(solver):
    X, y = make_problem(30, 8, n_targets=1)
    top, rho = lam_max(X), 0.3
    limit = 2.0 / (top * (1.0 + rho * top))
    stable = SAMRegressor(rho=rho, learning_rate=0.99 * limit, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stable.fit(X, y[:, 0])
    unstable = SAMRegressor(rho=rho, n_iter=5, learning_rate=1.01 * limit)
    with pytest.warns(ConvergenceWarning, match=re.escape(f"{limit:.6g}")):
        unstable.set_params(solver=solver).fit(X, y[:, 0])
    assert np.all(np.isfinite(unstable.coef_))


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
def test_divergence_raises_instead_of_non_finite_coef(solver):
    X, y = make_problem(30, 8, n_targets=1)
    reg = SAMRegressor(learning_rate=1e3, n_iter=5000, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow noise either
        with pytest.warns(ConvergenceWarning, match="largest stable"):
            with pytest.raises(ValueError, match="not finite"):
                reg.fit(X, y[:, 0])
    assert not hasattr(reg, "coef_")


X_OK, Y_OK = make_problem(20, 4, n_targets=1)
Y_OK = Y_OK[:, 0]


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


@pytest.mark.parametrize(
    "params, X, y, sample_weight, error, match",
    [
        ({}, _with(X_OK, (3, 1), np.nan), Y_OK, None, ValueError, "X contains NaN"),
        ({}, _with(X_OK, (3, 1), np.inf), Y_OK, None, ValueError, "X contains inf"),
        ({}, X_OK, _with(Y_OK, 2, np.nan), None, ValueError, "y contains NaN"),
        ({}, X_OK, _with(Y_OK, 2, -np.inf), None, ValueError, "y contains inf"),
        ({}, X_OK[:, 0], Y_OK, None, ValueError, "Expected 2D array"),
        ({}, X_OK, Y_OK[:-1], None, ValueError, "inconsistent numbers of samples"),
        ({}, X_OK, Y_OK[:, None, None], None, ValueError, "dim 3"),
        ({}, X_OK[:0], Y_OK[:0], None, ValueError, "0 sample"),
        ({}, X_OK, Y_OK, np.ones(5), ValueError, "sample_weight.shape"),
        ({}, X_OK, Y_OK, -np.ones(20), ValueError, "Negative values"),
        ({}, X_OK, Y_OK, np.zeros(20), ValueError, ZERO_WEIGHTS),
        ({"rho": -0.1}, X_OK, Y_OK, None, InvalidParameterError, "'rho'"),
        ({"n_iter": -1}, X_OK, Y_OK, None, InvalidParameterError, "'n_iter'"),
        ({"n_iter": 2.5}, X_OK, Y_OK, None, InvalidParameterError, "'n_iter'"),
        ({"learning_rate": 0.0}, X_OK, Y_OK, None, InvalidParameterError, "'learn"),
        ({"learning_rate": -1}, X_OK, Y_OK, None, InvalidParameterError, "'learn"),
        ({"learning_rate": "x"}, X_OK, Y_OK, None, InvalidParameterError, "'learn"),
        ({"variant": "adaptive"}, X_OK, Y_OK, None, InvalidParameterError, "'variant"),
        ({"solver": "svd"}, X_OK, Y_OK, None, InvalidParameterError, "'solver'"),
    ],
)
def test_bad_input_raises_clear_error(params, X, y, sample_weight, error, match):
    with pytest.raises(error, match=match):
        SAMRegressor(**params).fit(X, y, sample_weight=sample_weight)


def test_predict_with_wrong_number_of_features():
    reg = SAMRegressor().fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="X has 3 features.*expecting 4 features"):
        reg.predict(X_OK[:, :3])
    with pytest.raises(ValueError, match="X has 3 features.*expecting 4 features"):
        next(reg.staged_predict(X_OK[:, :3]))


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("is_sparse", [False, True])
def test_float32_input(solver, is_sparse):
    X, y = make_problem(40, 6, n_targets=1)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    if is_sparse:
        X32, X64 = sparse.csr_matrix(X32), sparse.csr_matrix(X64)
    reg32 = SAMRegressor(n_iter=30, solver=solver).fit(X32, y[:, 0])
    reg64 = SAMRegressor(n_iter=30, solver=solver).fit(X64, y[:, 0])
    pred32 = reg32.predict(X32)
    assert reg32.coef_.dtype == np.float32
    assert pred32.dtype == np.float32
    assert all(p.dtype == np.float32 for p in reg32.staged_predict(X32))
    assert_allclose(pred32, reg64.predict(X64), rtol=1e-5)


def test_grid_search_in_pipeline_equals_hand_written_search():
    X, y = make_problem(60, 10, n_targets=1)
    y = y[:, 0]
    grid = {"samregressor__n_iter": [1, 5, 50], "samregressor__rho": [0.0, 1.0]}
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), SAMRegressor(learning_rate=0.05))
    search = GridSearchCV(pipe, grid, cv=cv, scoring="r2").fit(X, y)

    scorer = get_scorer("r2")
    best_score, best_params = -np.inf, None
    for i, params in enumerate(search.cv_results_["params"]):
        scores = []
        for train, test in cv.split(X):
            model = clone(pipe).set_params(**params).fit(X[train], y[train])
            scores.append(scorer(model, X[test], y[test]))
        assert_allclose(search.cv_results_["mean_test_score"][i], np.mean(scores))
        if np.mean(scores) > best_score:
            best_score, best_params = np.mean(scores), params
    assert search.best_params_ == best_params
    # The chosen model is not at the edge of the grid in both parameters at once.
    assert best_params != {"samregressor__n_iter": 1, "samregressor__rho": 0.0}


def test_clone_keeps_parameters_and_drops_fit():
    reg = SAMRegressor(rho=0.3, n_iter=7, learning_rate=0.1, variant="normalized")
    reg.fit(X_OK, Y_OK)
    cloned = clone(reg)
    assert cloned.get_params() == reg.get_params()
    assert not hasattr(cloned, "coef_")


@pytest.mark.parametrize("solver", ["spectral", "iterative"])
@pytest.mark.parametrize("shape", [(30, 6), (6, 30)])
@pytest.mark.parametrize("is_sparse", [False, True])
def test_pickle_round_trip(solver, shape, is_sparse):
    X, y = make_problem(*shape, n_targets=1)
    X = sparse.csr_matrix(X) if is_sparse else X
    reg = SAMRegressor(n_iter=9, rho=0.2, solver=solver).fit(X, y[:, 0])
    restored = pickle.loads(pickle.dumps(reg))
    assert_array_equal(restored.predict(X), reg.predict(X))
    assert_array_equal(
        np.array(list(restored.staged_predict(X))),
        np.array(list(reg.staged_predict(X))),
    )


def test_pandas_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_problem(30, 4, n_targets=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reg = SAMRegressor(n_iter=10).fit(frame, pd.Series(y[:, 0]))
    assert_array_equal(reg.feature_names_in_, ["a", "b", "c", "d"])
    assert_allclose(
        reg.predict(frame), SAMRegressor(n_iter=10).fit(X, y).predict(X)[:, 0]
    )


def test_spectral_fit_does_not_keep_the_training_data():
    # The exact path needs only the d x d factor: a pickled model is far smaller
    # than X (the iterative solver must keep the data to replay staged_predict).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 10))
    y = X @ rng.standard_normal(10)
    reg = SAMRegressor(n_iter=50, solver="spectral").fit(X, y)
    assert len(pickle.dumps(reg)) < X.nbytes / 20
    staged = np.array(list(reg.staged_predict(X[:5])))
    assert_allclose(staged[-1], reg.predict(X[:5]), rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_linear_problem_overwriting_x_is_the_copy(weighted, fit_intercept):
    from sksam._problem import linear_problem

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 5)) + 3.0, rng.standard_normal((40, 2))
    sw = rng.uniform(0.5, 2.0, 40) if weighted else None
    copied = linear_problem(X, y, sw, fit_intercept)
    buffer = X.copy()
    owned = linear_problem(buffer, y, sw, fit_intercept, overwrite_X=True)
    assert owned.op.X is buffer  # centred and scaled in place
    np.testing.assert_array_equal(owned.op.X, copied.op.X)
    np.testing.assert_array_equal(owned.factor.lam, copied.factor.lam)
    np.testing.assert_array_equal(owned.factor.proj, copied.factor.proj)
