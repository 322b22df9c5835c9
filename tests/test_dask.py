"""Dask input (the Gram reduced over row chunks); Nystroem features for big kernels."""

import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest
from _reference import linear_sam
from _warning_checks import fit_search
from numpy.testing import assert_allclose
from sklearn.kernel_approximation import Nystroem
from sklearn.model_selection import KFold, ShuffleSplit, check_cv
from sklearn.pipeline import make_pipeline

from sksam import (
    SAMKernelRidge,
    SAMRegressor,
    SAMRegressorCV,
    bias_variance_decomposition,
    sam_path,
)


@pytest.fixture(scope="module")
def da():
    return pytest.importorskip("dask.array")


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired``."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def make_problem(n=600, d=8, n_targets=2, offset=0.0, seed=0):
    """Correlated columns (condition number ~ 1e2) with nonzero means."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ np.diag(np.geomspace(1.0, 0.1, d))
    X += rng.standard_normal(d) + offset
    y = X @ rng.standard_normal((d, n_targets)) + 0.3 * rng.standard_normal(
        (n, n_targets)
    )
    return X, y + 5.0


def reference_sam(X, y, eta, rho, n_iter, variant, fit_intercept, sample_weight):
    """The plain loop (``_reference.linear_sam``): (coef (t, d), intercept (t,))."""
    coefs, intercepts, _ = linear_sam(
        X, y, eta, rho, [n_iter], variant=variant, fit_intercept=fit_intercept,
        sample_weight=sample_weight,
    )  # fmt: skip
    return coefs[0].T, intercepts[0]


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "weights, multi_output", [(None, False), ("numpy", True), ("dask", False)]
)
def test_dask_fit_matches_numpy_fit(da, variant, fit_intercept, weights, multi_output):
    X, y = make_problem()
    y = y if multi_output else y[:, 0]
    sw = None
    if weights is not None:
        sw = np.random.default_rng(1).uniform(0.1, 2.0, X.shape[0])
    Xd = da.from_array(X, chunks=(97, 8))  # ragged last chunk
    yd = da.from_array(y, chunks=130)  # chunks unlike those of X
    swd = da.from_array(sw, chunks=150) if weights == "dask" else sw
    rho = 0.5 if variant == "unnormalized" else 1e-3
    for n_iter, learning_rate in [(0, "auto"), (3, "auto"), (40, "auto"), (25, 0.05)]:
        params = dict(
            rho=rho,
            n_iter=n_iter,
            learning_rate=learning_rate,
            variant=variant,
            fit_intercept=fit_intercept,
        )
        expected = SAMRegressor(**params, solver="spectral").fit(X, y, sw)
        reg = SAMRegressor(**params).fit(Xd, yd, swd)
        assert reg.solver_ == "spectral" and reg.n_features_in_ == X.shape[1]
        assert reg.coef_.shape == expected.coef_.shape
        assert_rel_close(reg.learning_rate_, expected.learning_rate_)
        if n_iter > 0:
            assert_rel_close(reg.coef_, expected.coef_)
        else:
            assert_allclose(reg.coef_, 0.0, atol=0)
        assert_rel_close(reg.intercept_, expected.intercept_)
        pred = reg.predict(Xd)
        assert isinstance(pred, da.Array) and pred.shape == y.shape
        assert_rel_close(pred.compute(), expected.predict(X))


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_dask_fit_matches_explicit_loop(da, variant):
    X, y = make_problem(n=300, d=5)
    sw = np.random.default_rng(2).uniform(0.1, 2.0, X.shape[0])
    rho, eta, n_iter = (0.5, 0.2, 30) if variant == "unnormalized" else (1e-3, 0.3, 30)
    reg = SAMRegressor(rho=rho, n_iter=n_iter, learning_rate=eta, variant=variant)
    reg.fit(da.from_array(X, chunks=64), da.from_array(y, chunks=64), sw)
    coef, intercept = reference_sam(X, y, eta, rho, n_iter, variant, True, sw)
    assert_rel_close(reg.coef_, coef)
    assert_rel_close(reg.intercept_, intercept)


def test_large_column_means_do_not_cancel(da):
    # Gram about the first chunk's mean, not about zero: with column means ~1e5 and
    # unit spread the uncentred X^T X would lose ~10 of its 16 digits.
    X, y = make_problem(offset=1e5, n_targets=1)
    expected = SAMRegressor(rho=0.2, n_iter=50, solver="spectral").fit(X, y[:, 0])
    reg = SAMRegressor(rho=0.2, n_iter=50).fit(da.from_array(X, chunks=100), y[:, 0])
    assert_rel_close(reg.coef_, expected.coef_)
    assert_rel_close(reg.intercept_, expected.intercept_)


def test_mixed_inputs_and_column_chunks(da):
    X, y = make_problem()
    expected = SAMRegressor(rho=0.1, n_iter=20).fit(X, y)
    for Xfit, yfit in [
        (da.from_array(X, chunks=(100, 3)), y),  # numpy y, X chunked in columns too
        (X, da.from_array(y, chunks=(200, 1))),  # numpy X, dask y
        (da.from_array(X.astype(np.float32), chunks=100), y),  # float32 X
    ]:
        reg = SAMRegressor(rho=0.1, n_iter=20).fit(Xfit, yfit)
        rtol = 1e-5 if Xfit.dtype == np.float32 else 1e-8
        assert reg.coef_.dtype == Xfit.dtype
        assert_rel_close(reg.coef_, expected.coef_, rtol=rtol)
        assert_rel_close(reg.intercept_, expected.intercept_, rtol=rtol)


def test_staged_predict_and_score_on_dask(da):
    X, y = make_problem(n_targets=1)
    Xd = da.from_array(X, chunks=150)
    expected = SAMRegressor(rho=0.3, n_iter=6, solver="spectral").fit(X, y[:, 0])
    reg = SAMRegressor(rho=0.3, n_iter=6).fit(Xd, da.from_array(y[:, 0], chunks=150))
    staged = list(reg.staged_predict(Xd))
    assert len(staged) == 6
    for got, want in zip(staged, expected.staged_predict(X), strict=True):
        assert_rel_close(np.asarray(got), want)
    assert_rel_close(reg.score(X, y[:, 0]), expected.score(X, y[:, 0]))


def test_each_chunk_is_read_once(da):
    # One pass over the data: every chunk of X is produced once (each chunk's moments
    # are taken about its own mean, so no chunk is read beforehand for a shift).
    X, y = make_problem()
    counts, lock = Counter(), threading.Lock()

    def produce(block, block_info=None):
        with lock:
            counts[block_info[0]["chunk-location"][0]] += 1
        return block

    Xd = da.from_array(X, chunks=(100, 8)).map_blocks(produce, dtype=float)
    SAMRegressor(n_iter=5).fit(Xd, y)
    assert counts == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1})


def test_dask_input_errors(da):
    X, y = make_problem(n_targets=1)
    Xd, yd = da.from_array(X, chunks=100), da.from_array(y[:, 0], chunks=100)
    with pytest.raises(ValueError, match="solver='iterative' is not supported"):
        SAMRegressor(solver="iterative").fit(Xd, yd)
    with pytest.raises(ValueError, match="batch_size is not supported"):
        SAMRegressor(batch_size=10).fit(Xd, yd)
    with pytest.raises(ValueError, match="Negative values"):
        SAMRegressor().fit(Xd, yd, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="sum of sample_weight must be positive"):
        SAMRegressor().fit(Xd, yd, sample_weight=np.zeros(X.shape[0]))
    with pytest.raises(ValueError, match="does not match X"):
        SAMRegressor().fit(Xd, yd[:-1])
    with pytest.raises(ValueError, match="contains NaN or infinity"):
        SAMRegressor().fit(da.where(Xd > 2.5, np.nan, Xd), yd)
    reg = SAMRegressor().fit(Xd, yd)
    with pytest.raises(ValueError, match="X has 3 features, but SAMRegressor is"):
        reg.predict(Xd[:, :3])


def test_distributed_scheduler_fit(da, client):
    import dask
    from distributed import get_task_stream

    X, y = make_problem()
    expected = SAMRegressor(rho=0.4, n_iter=30).fit(X, y)
    with dask.config.set(scheduler=client), get_task_stream(client) as tasks:
        reg = SAMRegressor(rho=0.4, n_iter=30).fit(da.from_array(X, chunks=100), y)
    assert len(tasks.data) > 6  # the chunks were reduced on the cluster
    assert_rel_close(reg.coef_, expected.coef_)
    assert_rel_close(reg.intercept_, expected.intercept_)


IMPORT_CHECK = """
import sys

sys.modules["dask"] = None  # "import dask" now fails, as if dask were not installed
import numpy as np
import sksam

X, y = np.random.default_rng(0).random((30, 3)), np.arange(30.0)
sksam.SAMRegressor().fit(X, y).predict(X)
sksam.sam_path(X, y, [1, 5])
sksam.SAMRegressorCV(n_iters=[1, 5], cv=3).fit(X, y)
"""


@pytest.mark.slow  # a subprocess or the gallery
def test_sksam_never_imports_dask():
    # A fresh interpreter where any attempt to import dask raises ImportError.
    subprocess.run([sys.executable, "-c", IMPORT_CHECK], check=True)


# ----------------------------------------------------- paths and selection
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_sam_path_on_dask(da, variant):
    X, y = make_problem()
    sw = np.random.default_rng(1).uniform(0.1, 2.0, X.shape[0])
    rho = 0.5 if variant == "unnormalized" else 1e-3
    kwargs = dict(rho=rho, variant=variant, sample_weight=sw)
    expected = sam_path(X, y, [0, 1, 7, 60], **kwargs)
    got = sam_path(
        da.from_array(X, chunks=128),
        da.from_array(y, chunks=99),
        [0, 1, 7, 60],
        **kwargs,
    )
    for g, e in zip(got, expected, strict=True):
        assert_rel_close(g, e)


CV_SPLITTERS = {
    "kfold": 4,
    "shuffled": KFold(3, shuffle=True, random_state=0),
    "not_complement": ShuffleSplit(3, test_size=0.25, random_state=0),
}


@pytest.mark.parametrize(
    "splitter, scoring, weighted",
    [
        ("kfold", None, True),
        ("shuffled", "neg_mean_squared_error", False),
        ("not_complement", "neg_root_mean_squared_error", True),
    ],
)
def test_cv_on_dask_matches_numpy(da, splitter, scoring, weighted):
    X, y = make_problem(n=400, d=6)
    sw = np.random.default_rng(1).uniform(0.1, 2.0, X.shape[0]) if weighted else None
    params = dict(
        n_iters=[1, 3, 10, 30, 100],
        rhos=(0.0, 0.3, 3.0),
        cv=CV_SPLITTERS[splitter],
        scoring=scoring,
    )
    expected = fit_search(SAMRegressorCV(**params), X, y, sample_weight=sw)
    Xd = da.from_array(X, chunks=90)
    got = fit_search(SAMRegressorCV(**params), Xd, da.from_array(y, chunks=90), sw)
    assert (got.n_iter_, got.rho_) == (expected.n_iter_, expected.rho_)
    n_splits = 4 if splitter == "kfold" else 3
    for key in [f"split{k}_test_score" for k in range(n_splits)] + ["mean_test_score"]:
        assert_rel_close(got.cv_results_[key], expected.cv_results_[key])
    assert_rel_close(got.best_score_, expected.best_score_)
    assert_rel_close(got.coef_, expected.coef_)
    assert isinstance(got.predict(Xd), da.Array)


def test_cv_gcv_and_explained_variance_on_dask(da):
    X, y = make_problem(n=300, d=5, n_targets=1)
    Xd, yd = da.from_array(X, chunks=64), da.from_array(y[:, 0], chunks=64)
    for params in [{"cv": "gcv"}, {"scoring": "explained_variance"}]:
        params.update(n_iters=[1, 4, 16, 64], rhos=(0.0, 1.0))
        expected = fit_search(SAMRegressorCV(**params), X, y[:, 0])
        got = fit_search(SAMRegressorCV(**params), Xd, yd)
        assert_rel_close(
            got.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
        )
        assert (got.n_iter_, got.rho_) == (expected.n_iter_, expected.rho_)


@pytest.mark.parametrize("splitter", ["kfold", "not_complement"])
def test_dask_split_scores_with_unweighted_scoring(da, splitter):
    # Weighted training but unweighted scores: what GridSearchCV does when the scorer
    # does not receive the weights (scikit-learn 1.6, or routing without a request).
    from sklearn.metrics import check_scoring

    from sksam._selection._cv_scores import SplitGrid
    from sksam._selection._dask_scores import dask_split_scores
    from sksam._selection._split_scores import split_scores

    X, y = make_problem(n=300, d=5)
    sw = np.random.default_rng(1).uniform(0.1, 2.0, X.shape[0])
    estimator = SAMRegressor(n_iter=100)
    scorer = check_scoring(estimator)
    grid = SplitGrid(np.array([1, 10, 100]), np.array([0.0, 1.0]), scorer, None)
    splits = list(check_cv(CV_SPLITTERS[splitter]).split(X))
    expected = np.stack(
        [
            split_scores(
                estimator, X, y, train, test, {"sample_weight": sw}, {}, grid
            ).scores
            for train, test in splits
        ],
        axis=-1,
    )
    Xd, yd = da.from_array(X, chunks=64), da.from_array(y, chunks=64)
    got = dask_split_scores(
        SAMRegressor(n_iter=100), Xd, yd, splits, sw, {}, grid
    ).scores
    assert_rel_close(got, expected)


def test_kernel_models_compute_dask_input_in_memory(da):
    # The n x n kernel needs the data in memory anyway: dask input is computed.
    from sksam import SAMKernelRidgeCV

    X, y = make_problem(n=60, d=3, n_targets=1)
    Xd, yd = da.from_array(X, chunks=20), da.from_array(y[:, 0], chunks=20)
    params = dict(n_iters=[1, 10], rhos=(0.0, 1.0), kernel="rbf", gamma=0.5)
    expected = fit_search(SAMKernelRidgeCV(**params), X, y[:, 0])
    got = fit_search(SAMKernelRidgeCV(**params), Xd, yd)
    assert (got.n_iter_, got.rho_) == (expected.n_iter_, expected.rho_)
    assert_rel_close(got.dual_coef_, expected.dual_coef_)


def test_cv_on_dask_reads_each_chunk_once_for_all_folds(da):
    X, y = make_problem()
    counts, lock = Counter(), threading.Lock()

    def produce(block, block_info=None):
        with lock:
            counts[block_info[0]["chunk-location"][0]] += 1
        return block

    Xd = da.from_array(X, chunks=(100, 8)).map_blocks(produce, dtype=float)
    cv = KFold(5, shuffle=True, random_state=0)
    model = fit_search(SAMRegressorCV(n_iters=[1, 10], rhos=(0.0,), cv=cv), Xd, y[:, 0])
    # all the rows (grid, refit) and every fold in one pass: each chunk read once
    assert counts == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1})
    with pytest.raises(ValueError, match="supports only the squared-error scorings"):
        SAMRegressorCV(scoring="neg_mean_absolute_error").fit(Xd, y[:, 0])
    assert model.n_features_in_ == X.shape[1]


# ------------------------------------------------------------ distributed
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",  # real (serialising) comms on loopback, workers in-process
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


# ------------------------------------------------------- Nystroem features
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_full_rank_nystroem_pipeline_is_exact_kernel_sam(
    variant, fit_intercept, weighted
):
    # With m = n components phi phi^T = K, and centring phi with the weighted means is
    # the feature-space centring of SAMKernelRidge: the same iterates, the same
    # predictions (for the same learning rate).
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(120, 3))
    y = np.sin(X).sum(axis=1) + 0.1 * rng.standard_normal(120) + 2.0
    X_test = rng.uniform(-2, 2, size=(50, 3))
    sw = rng.uniform(0.2, 2.0, 120) if weighted else None
    rho = 0.5 if variant == "unnormalized" else 1e-3
    params = dict(rho=rho, n_iter=60, variant=variant, fit_intercept=fit_intercept)
    exact = SAMKernelRidge(kernel="rbf", gamma=0.3, **params).fit(X, y, sw)
    pipe = make_pipeline(
        Nystroem(kernel="rbf", gamma=0.3, n_components=120, random_state=0),
        SAMRegressor(learning_rate=exact.learning_rate_, **params),
    ).fit(X, y, samregressor__sample_weight=sw)
    assert_rel_close(pipe[-1].learning_rate_, exact.learning_rate_, rtol=1e-10)
    auto = make_pipeline(
        Nystroem(kernel="rbf", gamma=0.3, n_components=120, random_state=0),
        SAMRegressor(**params),
    ).fit(X, y, samregressor__sample_weight=sw)
    assert_rel_close(auto[-1].learning_rate_, exact.learning_rate_)
    for model in (pipe, auto):
        assert_rel_close(model.predict(X_test), exact.predict(X_test))
        assert_rel_close(model.predict(X), exact.predict(X))


def test_nystroem_error_shrinks_with_components():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.1 * rng.standard_normal(400)
    exact = SAMKernelRidge(rho=0.1, n_iter=300, kernel="rbf", gamma=1.0).fit(X, y)
    X_test = rng.uniform(-2, 2, size=(200, 2))
    errors = []
    for m in (5, 20, 80, 400):
        pipe = make_pipeline(
            Nystroem(kernel="rbf", gamma=1.0, n_components=m, random_state=0),
            SAMRegressor(rho=0.1, n_iter=300, learning_rate=exact.learning_rate_),
        ).fit(X, y)
        errors.append(np.abs(pipe.predict(X_test) - exact.predict(X_test)).max())
    assert errors == sorted(errors, reverse=True)
    assert errors[0] > 0.1 and errors[-1] < 1e-8


def test_joblib_dask_backend_gives_the_default_results(client):
    # SAMRegressorCV and bias_variance_decomposition parallelise with joblib; on a
    # dask.distributed cluster they must run there unchanged and give the same results.
    from distributed import get_task_stream
    from joblib import parallel_config

    X, y = make_problem(n=200, d=6, n_targets=1)
    y = y[:, 0]
    w = np.random.default_rng(3).standard_normal(X.shape[1])
    cv_params = dict(n_iters=[1, 5, 20, 80], rhos=(0.0, 0.5), cv=4)
    bv_args = (SAMRegressor(rho=0.2), X[:150], None, X[150:])
    bv_kwargs = dict(
        method="simulate",
        f_train=X[:150] @ w,
        f_test=X[150:] @ w,
        noise_std=0.5,
        param_name="n_iter",
        param_range=[1, 10, 100],
        n_rounds=6,
        random_state=0,
    )
    # Reference: the default backend, sequential (loky's process start-up is slow).
    expected_cv = fit_search(SAMRegressorCV(**cv_params), X, y)
    expected_bv = bias_variance_decomposition(*bv_args, **bv_kwargs)
    with parallel_config("dask", client=client):
        with get_task_stream(client) as cv_tasks:
            cv = SAMRegressorCV(**cv_params, n_jobs=2)
            fit_search(cv, X, y)
        with get_task_stream(client) as bv_tasks:
            bv = bias_variance_decomposition(*bv_args, **bv_kwargs, n_jobs=2)
    # the splits and the rounds ran on the cluster (joblib batches them into tasks)
    assert len(cv_tasks.data) >= 1 and len(bv_tasks.data) >= 1
    assert (cv.n_iter_, cv.rho_) == (expected_cv.n_iter_, expected_cv.rho_)
    assert_allclose(
        cv.cv_results_["mean_test_score"],
        expected_cv.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert_allclose(cv.coef_, expected_cv.coef_, rtol=1e-12)
    for key in ("bias_squared", "variance", "expected_loss"):
        assert_allclose(bv[key], expected_bv[key], rtol=1e-12)
