"""cv="gcv" of the classifiers against a hand computation from plain loops.

The definition (user guide, "Model selection"; ``_selection/_gcv``): on the +/-1
indicator columns ``Y`` of the labels, with the weights ``s`` (sample weights times
class weights) and ``S = sum(s)`` as the number of observations,

    GCV_k = mean over columns j of (RSS_kj / S) / (1 - dof_k / S)^2,
    RSS_kj = sum_i s_i (Y_ij - (H_k Y)_ij)^2,   dof_k = trace(H_k),

scored as ``-GCV`` and picked among the candidates with ``dof_k <= 0.9 S``. Here the
smoother ``H_k`` of each candidate is the plain loop itself (``_reference``) fitted
to the unit vectors ``e_i`` as targets (column ``i`` of ``H_k`` is the fit of
``e_i``), with the fitted intercept: its trace counts the intercept's degree of
freedom, and the weights enter only through the loop.
"""

import numpy as np
import pytest
from _data import classification_data, weights_with_zeros
from _reference import (
    auto_learning_rate,
    class_targets,
    kernel_matrix,
    kernel_sam,
    kernel_sam_model,
    linear_sam,
)
from _warning_checks import fit_search
from numpy.testing import assert_allclose, assert_array_equal

from sksam import SAMClassifierCV, SAMKernelClassifierCV

N_ITERS = np.array([1, 3, 10, 30, 60])
RHOS = np.array([0.0, 0.5, 2.0])
GAMMA = 0.5


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired`` (exact when it is all zero)."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def design(kind, X, gamma=GAMMA):
    """The kernel matrix the loops run on (``X X^T`` for the "auto" step of a
    linear model)."""
    return X @ X.T if kind == "linear" else kernel_matrix(X, X, "rbf", gamma)


def smoothers(kind, X, s, fit_intercept, rho, gamma=GAMMA):
    """``(H, eta)``: the training smoother of every ``n_iter`` of ``N_ITERS``,
    shape (len(N_ITERS), n, n), at the "auto" step of ``rho``."""
    n = X.shape[0]
    eta = auto_learning_rate(
        design(kind, X, gamma), rho, "unnormalized", fit_intercept, s
    )
    options = dict(fit_intercept=fit_intercept, sample_weight=s)
    if kind == "linear":
        coefs, intercepts, _ = linear_sam(X, np.eye(n), eta, rho, N_ITERS, **options)
        H = X @ coefs + intercepts[:, None, :]
    else:
        K = design(kind, X, gamma)
        H, _ = kernel_sam(K, np.eye(n), eta, rho, N_ITERS, K_eval=K, **options)
    return H, eta


def hand_gcv(kind, X, Y, s, fit_intercept, gamma=GAMMA):
    """``(rss, dof, H, etas)``: ``rss`` (n_iters, n_rhos, n_columns), ``dof``
    (n_iters, n_rhos), the smoothers (n_rhos, n_iters, n, n) and the steps."""
    rss = np.empty((N_ITERS.size, RHOS.size, Y.shape[1]))
    dof = np.empty((N_ITERS.size, RHOS.size))
    Hs, etas = [], []
    for j, rho in enumerate(RHOS):
        H, eta = smoothers(kind, X, s, fit_intercept, rho, gamma)
        Hs.append(H)
        etas.append(eta)
        residuals = Y[None] - H @ Y  # (n_iters, n, n_columns)
        rss[:, j] = np.einsum("i,kij->kj", s, residuals**2)
        dof[:, j] = np.trace(H, axis1=1, axis2=2)
    return rss, dof, np.array(Hs), np.array(etas)


def gcv_score(rss, dof, n_obs):
    """``-GCV``, averaged over the indicator columns, per candidate."""
    return -np.mean((rss / n_obs) / (1.0 - dof / n_obs)[..., None] ** 2, axis=-1)


def make_search(kind, **params):
    if kind == "linear":
        return SAMClassifierCV(N_ITERS, RHOS, cv="gcv", **params)
    return SAMKernelClassifierCV(
        N_ITERS, RHOS, cv="gcv", kernel="rbf", gamma=params.pop("gamma", GAMMA),
        **params,
    )  # fmt: skip


def assert_refit_is_the_loop(search, kind, X, Y, s, eta, H_best):
    """The selected model equals the loop at the picked ``(n_iter, rho)``."""
    n_iter, rho = search.n_iter_, search.rho_
    fit_intercept = search.fit_intercept
    options = dict(fit_intercept=fit_intercept, sample_weight=s)
    if kind == "linear":
        coefs, intercepts, _ = linear_sam(X, Y, eta, rho, [n_iter], **options)
        coef, intercept = coefs[0], intercepts[0]
        fitted = X @ coef + intercept
        assert_rel_close(search.coef_, coef[:, 0] if Y.shape[1] == 1 else coef.T)
    else:
        K = design(kind, X, search.gamma)
        coef, intercept, fitted = kernel_sam_model(
            K, Y, eta, rho, n_iter, K_test=K, **options
        )
        assert_rel_close(search.dual_coef_, coef[:, 0] if Y.shape[1] == 1 else coef)
    if fit_intercept:
        assert_rel_close(np.atleast_1d(search.intercept_), intercept)
    else:
        assert_array_equal(search.intercept_, 0.0)
    decision = search.decision_function(X)
    assert_rel_close(decision, fitted[:, 0] if Y.shape[1] == 1 else fitted)
    assert_rel_close(fitted, H_best @ Y)  # the smoother is that of the model


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_scores_and_pick_are_the_hand_computation(
    kind, n_classes, fit_intercept, weighted
):
    X, y, _ = classification_data(30, n_classes)
    sw, cw = (weights_with_zeros(30), "balanced") if weighted else (None, None)
    _, Y, s = class_targets(y, sw, cw)
    S = s.sum()
    rss, dof, H, etas = hand_gcv(kind, X, Y, s, fit_intercept)
    scores = gcv_score(rss, dof, S)
    search = make_search(kind, fit_intercept=fit_intercept, class_weight=cw)
    fit_search(search, X, y, sample_weight=sw)
    results = search.cv_results_
    assert [tuple(p.values()) for p in results["params"]] == [
        (k, r) for k in N_ITERS for r in RHOS
    ]  # n_iter outer, rho inner: the order of scores.ravel()
    assert_rel_close(results["mean_test_score"], scores.ravel())
    # The pick: the best -GCV among the candidates with dof <= 0.9 S (all of
    # them here: no guard warning), the first on ties.
    kept = dof.ravel() <= 0.9 * S
    assert kept[np.argmax(scores)]
    best = np.flatnonzero(kept)[np.argmax(scores.ravel()[kept])]
    assert search.best_index_ == best
    assert results["rank_test_score"][best] == 1
    assert search.best_score_ == pytest.approx(scores.ravel()[best], rel=1e-10)
    i, j = np.unravel_index(best, scores.shape)
    assert (search.n_iter_, search.rho_) == (N_ITERS[i], RHOS[j])
    assert search.best_estimator_.learning_rate_ == pytest.approx(etas[j], rel=1e-12)
    assert_refit_is_the_loop(search, kind, X, Y, s, etas[j], H[j, i])


def test_gcv_hand_computation_can_fail():
    # The definition's details each move the scores far beyond 1e-8: the number
    # of observations (S, not the number of rows), the intercept's degree of
    # freedom, the weights of the residuals, the mean over the columns, and the
    # class weights.
    X, y, _ = classification_data(30, 3)
    sw = weights_with_zeros(30)
    _, Y, s = class_targets(y, sw, "balanced")
    S = s.sum()
    rss, dof, H, _ = hand_gcv("kernel", X, Y, s, True)
    search = make_search("kernel", class_weight="balanced")
    got = fit_search(search, X, y, sample_weight=sw).cv_results_["mean_test_score"]
    assert_rel_close(got, gcv_score(rss, dof, S).ravel())
    _, _, s_unbalanced = class_targets(y, sw)
    # Unweighted residuals of the same fits, scaled to the same total weight.
    plain_rss = np.sum((Y - H @ Y) ** 2, axis=2).transpose(1, 0, 2) * S / 30
    others = {
        "n rows": gcv_score(rss, dof, 30),
        "no intercept dof": gcv_score(rss, dof - 1.0, S),
        "unweighted rss": gcv_score(plain_rss, dof, S),
        "sum over columns": 3 * gcv_score(rss, dof, S),
        "no class weights": gcv_score(
            *hand_gcv("kernel", X, Y, s_unbalanced, True)[:2], s_unbalanced.sum()
        ),
    }
    for name, other in others.items():
        assert np.abs(got - other.ravel()).max() > 1e-3 * np.abs(got).max(), name


def test_gcv_guard_picks_the_best_candidate_with_dof_at_most_0_9_S():
    # A rough kernel: the unrestricted GCV minimiser nearly interpolates (dof >
    # 0.9 S); the pick is the best candidate within the bound, with a warning,
    # and the others rank last.
    X, y, _ = classification_data(30, 3, seed=1)
    _, Y, s = class_targets(y)
    rss, dof, H, etas = hand_gcv("kernel", X, Y, s, True, gamma=5.0)
    scores = gcv_score(rss, dof, 30.0).ravel()
    kept = dof.ravel() <= 0.9 * 30
    assert not kept[np.argmax(scores)] and kept.any()
    search = make_search("kernel", gamma=5.0)
    with pytest.warns(UserWarning, match="cv='gcv': generalized cross-validation is"):
        fit_search(search, X, y)
    results = search.cv_results_
    got = results["mean_test_score"]
    assert_rel_close(got[kept], scores[kept])
    # The others are still reported, but their RSS (1e-11 of ||Y||^2 at 60 steps)
    # is rounding-sized (user guide): sksam forms it from the spectral energies,
    # to a few ulps of the targets' weighted sum of squares, which 1 - dof / S
    # (4e-6 here) then amplifies. Agreement to 100 such ulps, at every candidate.
    Y_centred = Y - Y.mean(axis=0)
    ulp = np.finfo(float).eps * np.mean(np.sum(Y_centred**2, axis=0)) / 30.0
    slack = 100 * ulp / (1.0 - dof.ravel() / 30.0) ** 2
    assert np.all(np.abs(got - scores) <= slack)
    best = np.flatnonzero(kept)[np.argmax(scores[kept])]
    assert search.best_index_ == best
    ranks = results["rank_test_score"]
    assert ranks[kept].max() < ranks[~kept].min()
    i, j = np.unravel_index(best, dof.shape)
    assert_refit_is_the_loop(search, "kernel", X, Y, s, etas[j], H[j, i])
