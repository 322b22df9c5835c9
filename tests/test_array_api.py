"""Array API inputs (array-api-strict, torch on CPU) under ``array_api_dispatch``.

Every result equals the numpy route's to 1e-8 relative in float64 (one
implementation for every namespace); float32 inputs compute in float64 on every
route and agree to float32 rounding, ``FLOAT32_RTOL`` (the user guide, "Fitting on
a GPU"). Parametrized over the
namespaces, devices and dtypes of ``yield_namespace_device_dtype_combinations``
as scikit-learn's own tests are, collecting only those that are here: the ones
that are not (torch is optional, a GPU is rare) are listed, with the reasons, by
one skipped test (and without array API dispatch the module is one skip).
"""

import numpy as np
import pytest
import sklearn
from _array_api_checks import dispatch_unavailable, namespace_unavailable, not_run_here
from _warning_checks import fit_search
from sklearn.utils._array_api import yield_namespace_device_dtype_combinations

from sksam import SAMKernelRidge, SAMRegressor, sam_path
from sksam._array_api import to_numpy

FLOAT32_RTOL = 1e-6

_REASON = dispatch_unavailable()
if _REASON is not None:  # one skip for the module
    pytest.skip(_REASON, allow_module_level=True)


def _unavailable(namespace, device):
    """Why ``namespace`` on ``device`` is not tested here (None if it is)."""
    reason = namespace_unavailable(namespace)
    if reason is None and namespace == "torch" and device == "mps":
        reason = "torch: the MPS device has no float64 eigh"
    if reason is None and namespace == "torch":
        reason = namespace_unavailable(namespace, device)
    return reason


COMBINATIONS, _LEFT_OUT = [], []
for _combo in yield_namespace_device_dtype_combinations():
    if _combo[0] in ("array_api_strict", "torch"):
        _reason = _unavailable(*_combo[:2])
        if _reason is None:
            COMBINATIONS.append(_combo)
        else:
            _LEFT_OUT.append(_reason)


def test_namespaces_and_devices_left_out():
    """The combinations that are not collected here, in one skip with the reasons."""
    assert COMBINATIONS, "array-api-strict is a test dependency"
    for summary in not_run_here(_LEFT_OUT):
        pytest.skip(f"not collected here: {summary}")


def _namespace(name, device, dtype):
    """The namespace module, device object and dtype name of a combination."""
    module = __import__(name)
    if name == "torch":
        device = module.device(device or "cpu")
    elif name == "array_api_strict":
        device = module.Device(device) if device else module.Device("CPU_DEVICE")
    return module, device, dtype


def _data(n, d, dtype, n_targets=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.2, 3.0, d)
    y = X @ rng.standard_normal((d, n_targets)) + 0.3 * rng.standard_normal(
        (n, n_targets)
    )
    sw = rng.uniform(0.2, 2.0, n)
    return X.astype(dtype), y.astype(dtype), sw.astype(dtype)


def _assert_close(actual, expected, dtype, xp):
    if xp is not None:
        assert type(actual).__module__.split(".")[0] == xp.__name__.split(".")[0]
    actual = to_numpy(actual)
    rtol = 1e-8 if dtype == "float64" else FLOAT32_RTOL
    scale = max(np.max(np.abs(expected)), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


LINEAR_SETTINGS = [
    {"solver": "spectral"},
    {"solver": "spectral", "variant": "normalized"},
    {"solver": "iterative"},
    {"solver": "iterative", "variant": "normalized"},
    {"solver": "spectral", "fit_intercept": False, "rho": 0.0},
]


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize("settings", LINEAR_SETTINGS)
@pytest.mark.parametrize("shape", [(60, 8), (12, 30)])  # primal and dual
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_sam_regressor_matches_numpy(
    namespace, device, dtype, settings, shape, weighted, n_targets
):
    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(*shape, dtype, n_targets=2)
    y = y[:, 0] if n_targets == 1 else y
    sw = sw if weighted else None
    params = {"rho": 0.5, "n_iter": 25, **settings}
    expected = SAMRegressor(**params).fit(X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx = xp.asarray(X, device=device), xp.asarray(y, device=device)
        swx = None if sw is None else xp.asarray(sw, device=device)
        model = SAMRegressor(**params).fit(Xx, yx, sample_weight=swx)
        pred = model.predict(Xx)
        stages = list(model.staged_predict(Xx))
        score = model.score(Xx, yx)
    assert model.solver_ == expected.solver_
    _assert_close(model.coef_, expected.coef_, dtype, xp)
    np.testing.assert_allclose(
        to_numpy(model.intercept_),
        expected.intercept_,
        rtol=1e-8 if dtype == "float64" else FLOAT32_RTOL,
    )
    _assert_close(pred, expected.predict(X), dtype, xp)
    assert pred.dtype == Xx.dtype and pred.device == Xx.device
    assert len(stages) == 25
    _assert_close(stages[-1], expected.predict(X), dtype, xp)
    _assert_close(stages[4], list(expected.staged_predict(X))[4], dtype, xp)
    assert score == pytest.approx(expected.score(X, y), rel=1e-6)
    assert model.learning_rate_ == pytest.approx(expected.learning_rate_, rel=1e-6)


KERNEL_SETTINGS = [
    {"kernel": "linear"},
    {"kernel": "rbf", "gamma": 0.1},
    {"kernel": "poly", "degree": 2},
    {"kernel": "laplacian", "gamma": 0.05},
    {"kernel": "rbf", "variant": "normalized"},
    {"kernel": "rbf", "solver": "iterative"},
    {"kernel": "precomputed"},
]


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize("settings", KERNEL_SETTINGS)
@pytest.mark.parametrize("weighted", [False, True])
def test_sam_kernel_ridge_matches_numpy(namespace, device, dtype, settings, weighted):
    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(40, 5, dtype)
    X_test = X[:7] + 0.1
    if settings["kernel"] == "precomputed":
        X, X_test = X @ X.T, X_test @ X.T
    sw = sw if weighted else None
    params = {"rho": 0.5, "n_iter": 20, **settings}
    expected = SAMKernelRidge(**params).fit(X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx = xp.asarray(X, device=device), xp.asarray(y, device=device)
        swx = None if sw is None else xp.asarray(sw, device=device)
        model = SAMKernelRidge(**params).fit(Xx, yx, sample_weight=swx)
        pred = model.predict(xp.asarray(X_test, device=device))
    _assert_close(model.dual_coef_, expected.dual_coef_, dtype, xp)
    _assert_close(pred, expected.predict(X_test), dtype, xp)
    _assert_close(model.intercept_, expected.intercept_, dtype, xp)


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_sam_path_matches_numpy(namespace, device, dtype, variant):
    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(50, 6, dtype)
    n_iters = [40, 1, 5, 5, 0]
    steps, coefs, intercepts = sam_path(
        X, y, n_iters, rho=0.3, variant=variant, sample_weight=sw
    )
    with sklearn.config_context(array_api_dispatch=True):
        args = [xp.asarray(a, device=device) for a in (X, y, sw)]
        steps_x, coefs_x, intercepts_x = sam_path(
            args[0], args[1], n_iters, rho=0.3, variant=variant, sample_weight=args[2]
        )
    np.testing.assert_array_equal(steps_x, steps)
    _assert_close(coefs_x, coefs, dtype, xp)
    _assert_close(intercepts_x, intercepts, dtype, xp)


def test_normalized_spectral_matches_plain_loop_in_torch():
    """The torch recursion against a plain torch loop of the update rule."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    X, y, _ = _data(30, 4, "float64", n_targets=1)
    Xc, yc = X - X.mean(axis=0), y[:, 0] - y[:, 0].mean()
    Xt, yt = torch.asarray(Xc), torch.asarray(yc)
    eta, rho, n = 0.05, 0.2, 15
    w = torch.zeros(4, dtype=torch.float64)
    for _ in range(n):
        g = Xt.T @ (Xt @ w - yt) / 30
        w = w - eta * (Xt.T @ (Xt @ (w + rho * g / torch.linalg.norm(g)) - yt) / 30)
    with sklearn.config_context(array_api_dispatch=True):
        model = SAMRegressor(
            rho=rho, n_iter=n, learning_rate=eta, variant="normalized"
        ).fit(torch.asarray(X), torch.asarray(y[:, 0]))
    np.testing.assert_allclose(model.coef_.numpy(), w.numpy(), rtol=1e-8)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 5, "solver": "iterative"}, "batch_size"),
        ({"early_stopping": True}, "early_stopping"),
    ],
)
def test_unsupported_routes_raise_clearly(params, match):
    xps = pytest.importorskip("array_api_strict")
    X, y, _ = _data(20, 3, "float64", n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=match):
            SAMRegressor(**params).fit(xps.asarray(X), xps.asarray(y[:, 0]))


def test_sparse_targets_with_array_api_x_raise():
    xps = pytest.importorskip("array_api_strict")
    from scipy import sparse

    X, y, _ = _data(20, 3, "float64", n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="sparse"):
            SAMRegressor().fit(xps.asarray(X), sparse.csr_matrix(y))


def test_predict_in_another_namespace_raises():
    xps = pytest.importorskip("array_api_strict")
    X, y, _ = _data(20, 3, "float64", n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        model = SAMRegressor().fit(xps.asarray(X), xps.asarray(y[:, 0]))
        with pytest.raises(ValueError, match="same namespace"):
            model.predict(X)


def test_numpy_route_unchanged_under_dispatch():
    """numpy input under dispatch takes the numpy route, bit for bit."""
    X, y, sw = _data(40, 5, "float64")
    expected = SAMRegressor(variant="normalized").fit(X, y, sw)
    with sklearn.config_context(array_api_dispatch=True):
        model = SAMRegressor(variant="normalized").fit(X, y, sw)
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    assert isinstance(model.coef_, np.ndarray)


# ------------------------------------------------------------- the searches
def _to(xp, device, *arrays):
    return [None if a is None else xp.asarray(a, device=device) for a in arrays]


def _assert_same_search(search, expected, dtype, xp, results=True):
    """Same pick; cv_results_ scores and refitted coefficients as on numpy."""
    assert search.best_params_ == expected.best_params_
    assert search.n_iter_ == expected.n_iter_ and search.rho_ == expected.rho_
    rtol = 1e-8 if dtype == "float64" else FLOAT32_RTOL
    if results:
        assert search.best_score_ == pytest.approx(
            expected.best_score_, rel=rtol, abs=rtol
        )
    for name in ("n_iters_", "rhos_"):
        _assert_close(getattr(search, name), getattr(expected, name), dtype, xp)
    if results:
        for key, value in expected.cv_results_.items():
            if key.startswith(("split", "mean_test", "std_test")):
                np.testing.assert_allclose(
                    search.cv_results_[key], value, rtol=rtol, atol=rtol
                )
            elif key.startswith("rank"):
                np.testing.assert_array_equal(search.cv_results_[key], value)


CV_SETTINGS = [
    {},
    {"scoring": "neg_mean_squared_error"},
    {"scoring": "neg_mean_absolute_error"},
    {"scoring": "explained_variance", "fit_intercept": False},
    {"variant": "normalized"},
    {"cv": "gcv"},
]


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize("settings", CV_SETTINGS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_sam_regressor_cv_matches_numpy(
    namespace, device, dtype, settings, weighted, n_targets
):
    from sksam import SAMRegressorCV

    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(50, 6, dtype)
    y = y[:, 0] if n_targets == 1 else y
    sw = sw if weighted else None
    params = {
        "n_iters": [0, 1, 3, 10, 30, 100],
        "rhos": [0.0, 0.3, 2.0],
        "cv": 4,
        **settings,
    }
    expected = fit_search(SAMRegressorCV(**params), X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx, swx = _to(xp, device, X, y, sw)
        search = fit_search(SAMRegressorCV(**params), Xx, yx, sample_weight=swx)
        pred = search.predict(Xx)
    _assert_same_search(search, expected, dtype, xp)
    _assert_close(search.coef_, expected.coef_, dtype, xp)
    _assert_close(search.best_estimator_.coef_, expected.coef_, dtype, xp)
    _assert_close(pred, expected.predict(X), dtype, xp)
    assert pred.device == Xx.device


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize(
    "settings",
    [
        {"kernel": "rbf", "gamma": 0.2},
        {"kernel": "linear", "scoring": "neg_mean_squared_error"},
        {"kernel": "rbf", "variant": "normalized"},
        {"kernel": "precomputed"},
        {"kernel": "rbf", "cv": "gcv"},
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_sam_kernel_ridge_cv_matches_numpy(
    namespace, device, dtype, settings, weighted
):
    from sksam import SAMKernelRidgeCV

    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(40, 5, dtype)
    X_test = X[:7] + 0.1
    if settings["kernel"] == "precomputed":
        X, X_test = X @ X.T, X_test @ X.T
    sw = sw if weighted else None
    params = {
        "n_iters": [0, 1, 3, 10, 30, 100],
        "rhos": [0.0, 0.5],
        "cv": 3,
        **settings,
    }
    expected = fit_search(SAMKernelRidgeCV(**params), X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx, swx = _to(xp, device, X, y, sw)
        search = fit_search(SAMKernelRidgeCV(**params), Xx, yx, sample_weight=swx)
        pred = search.predict(xp.asarray(X_test, device=device))
    _assert_same_search(search, expected, dtype, xp)
    _assert_close(search.dual_coef_, expected.dual_coef_, dtype, xp)
    _assert_close(pred, expected.predict(X_test), dtype, xp)


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize("criterion", ["aic", "bic", "cp", "discrepancy"])
# A kernel of rank below n (poly, degree 2: 28 features) keeps the least-squares
# noise estimate away from zero: an interpolating kernel would put it at the
# rounding floor, where the criteria amplify rounding.
@pytest.mark.parametrize("kernel", [None, "poly"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ic_estimators_match_numpy(
    namespace, device, dtype, criterion, kernel, weighted
):
    from sksam import SAMKernelRidgeIC, SAMRegressorIC

    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(50, 6, dtype)
    sw = sw if weighted else None
    params = {"n_iters": [0, 1, 3, 10, 30, 100, 1000, 10000], "rhos": [0.0, 0.5]}
    params["criterion"] = criterion
    if kernel is None:
        make, name = SAMRegressorIC, "coef_"
    else:
        make, name = SAMKernelRidgeIC, "dual_coef_"
        params.update(kernel=kernel, degree=2, gamma=0.2)
    expected = fit_search(make(**params), X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx, swx = _to(xp, device, X, y, sw)
        search = fit_search(make(**params), Xx, yx, sample_weight=swx)
        pred = search.predict(Xx)
    _assert_same_search(search, expected, dtype, xp, results=False)
    rtol = 1e-8 if dtype == "float64" else FLOAT32_RTOL
    for attribute in ("criterion_", "dof_", "noise_variance_"):
        actual = to_numpy(getattr(search, attribute))
        np.testing.assert_allclose(
            actual, getattr(expected, attribute), rtol=rtol, atol=rtol
        )
    _assert_close(getattr(search, name), getattr(expected, name), dtype, xp)
    _assert_close(pred, expected.predict(X), dtype, xp)


# The RBF search's best score is at the converged (interpolating) end of the
# default grid: the interpolation guard warns, on both namespaces alike.
@pytest.mark.filterwarnings("ignore:The best mean validation score is at:UserWarning")
def test_cv_default_grid_matches_numpy():
    """The spectrum-derived default grids (n_iters=None, rhos=None) in torch."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from sksam import SAMKernelRidgeCV, SAMRegressorCV

    X, y, sw = _data(60, 6, "float64", n_targets=1)
    for search_class, params in [
        (SAMRegressorCV, {}),
        (SAMRegressorCV, {"variant": "normalized"}),
        (SAMKernelRidgeCV, {"kernel": "rbf", "gamma": 0.2}),
    ]:
        expected = fit_search(search_class(**params), X, y[:, 0], sample_weight=sw)
        with sklearn.config_context(array_api_dispatch=True):
            args = [torch.asarray(a) for a in (X, y[:, 0], sw)]
            search = fit_search(
                search_class(**params), *args[:2], sample_weight=args[2]
            )
        np.testing.assert_array_equal(search.n_iters_.numpy(), expected.n_iters_)
        # The unit 1 / lam_max from torch's eigh: equal to the last bits.
        np.testing.assert_allclose(search.rhos_.numpy(), expected.rhos_, rtol=1e-12)
        assert search.n_iter_ == expected.n_iter_
        assert search.rho_ == pytest.approx(expected.rho_, rel=1e-12)


def test_cv_with_numpy_weights_and_torch_data():
    """Everything follows X: numpy weights are moved to its namespace."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from sksam import SAMRegressorCV

    X, y, sw = _data(40, 4, "float64", n_targets=1)
    params = {"n_iters": [1, 5, 20], "rhos": [0.0, 1.0]}
    expected = fit_search(SAMRegressorCV(**params), X, y[:, 0], sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        search = fit_search(
            SAMRegressorCV(**params),
            torch.asarray(X),
            torch.asarray(y[:, 0]),
            sample_weight=sw,
        )
    _assert_same_search(search, expected, "float64", torch)


def test_search_predict_in_another_namespace_raises():
    xps = pytest.importorskip("array_api_strict")
    from sksam import SAMRegressorCV

    X, y, _ = _data(30, 3, "float64", n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        search = fit_search(
            SAMRegressorCV(n_iters=[1, 5], cv=3), xps.asarray(X), xps.asarray(y[:, 0])
        )
        with pytest.raises(ValueError, match=r"SAMRegressorCV\.predict\(\)"):
            search.predict(X)


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
def test_cv_callable_scorer_runs_in_the_namespace(namespace, device, dtype):
    """A callable scorer is called on each candidate's model, with arrays of the
    input's namespace (scikit-learn's metrics accept them under dispatch)."""
    from sklearn.metrics import make_scorer, mean_squared_error

    from sksam import SAMRegressorCV

    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, sw = _data(40, 4, dtype, n_targets=1)
    scoring = make_scorer(mean_squared_error, greater_is_better=False)
    params = {"n_iters": [1, 5, 20], "rhos": [0.0, 1.0], "cv": 3}
    params.update(scoring=scoring)
    expected = fit_search(SAMRegressorCV(**params), X, y[:, 0])
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx = _to(xp, device, X, y[:, 0])
        search = fit_search(SAMRegressorCV(**params), Xx, yx)
    _assert_same_search(search, expected, dtype, xp)


def test_cv_sparse_targets_with_array_api_x_raise():
    xps = pytest.importorskip("array_api_strict")
    from scipy import sparse

    from sksam import SAMRegressorCV

    X, y, _ = _data(20, 3, "float64", n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="sparse"):
            SAMRegressorCV(n_iters=[1, 2], cv=2).fit(
                xps.asarray(X), sparse.csr_matrix(y)
            )


@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
@pytest.mark.parametrize(
    "make",
    [
        lambda: SAMRegressor(n_iter=7, rho=0.5),
        lambda: SAMRegressor(n_iter=7, rho=0.5, solver="iterative"),
        lambda: SAMKernelRidge(kernel="rbf", n_iter=7, rho=0.5),
        lambda: __import__("sksam").SAMRegressorCV(n_iters=[1, 5, 20], cv=3),
    ],
    ids=["spectral", "iterative", "kernel", "cv"],
)
def test_fitted_models_pickle(namespace, device, dtype, make):
    """A model fitted on arrays of another namespace pickles (its decomposition
    holds the namespace, a module, by name) and predicts, staged too, the same."""
    import pickle

    xp, device, dtype = _namespace(namespace, device, dtype)
    X, y, _ = _data(30, 4, dtype, n_targets=1)
    with sklearn.config_context(array_api_dispatch=True):
        Xx, yx = _to(xp, device, X, y[:, 0])
        model = make()
        if hasattr(model, "n_iters"):
            fit_search(model, Xx, yx)
        else:
            model.fit(Xx, yx)
        loaded = pickle.loads(pickle.dumps(model))
        assert_same = np.testing.assert_array_equal
        assert_same(to_numpy(loaded.predict(Xx)), to_numpy(model.predict(Xx)))
        fitted = model.best_estimator_ if hasattr(model, "best_estimator_") else model
        reloaded = pickle.loads(pickle.dumps(fitted))
        staged = zip(
            reloaded.staged_predict(Xx), fitted.staged_predict(Xx), strict=True
        )
        for a, b in staged:
            assert_same(to_numpy(a), to_numpy(b))
