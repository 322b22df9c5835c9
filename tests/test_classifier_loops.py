"""The kernel and the mini-batch classifiers against plain loops of the update rule.

A least-squares classifier is the regressor fitted to the +/-1 indicator columns of
its labels (one column for two classes, one per class otherwise) with the sample
weights multiplied by the class weights. The references below build that problem
themselves (``_reference.class_targets``), run the plain function-space or linear
loop on it (``_reference.kernel_sam``, ``linear_sam``) with the kernels written out
(``kernel_matrix``), the documented ``"auto"`` step and, for mini-batches, the
documented draw of ``random_state`` (``shuffled_epochs``), and compare every fitted
quantity to 1e-8 relative. ``test_*_can_fail`` show that the comparisons notice a
change of any one ingredient.
"""

import numpy as np
import pytest
from _data import classification_data, weights_with_zeros
from _reference import (
    auto_learning_rate,
    class_targets,
    kernel_matrix,
    kernel_sam_model,
    linear_sam,
    shuffled_epochs,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sksam import SAMClassifier, SAMKernelClassifier

N, N_ITER = 40, 15
KERNELS = {
    "rbf": {"gamma": 0.5},
    "laplacian": {"gamma": 0.4},
    "poly": {"gamma": 0.3, "degree": 3, "coef0": 1.0},
}
# Normalized SAM is compared over steps before it bounces across the top direction
# (user guide, stability): a small radius there.
RHO = {"unnormalized": 0.5, "normalized": 0.05}
# (sample_weight with zeros, class_weight)
WEIGHTINGS = {
    "unweighted": (False, None),
    "sample_weight": (True, None),
    "balanced": (False, "balanced"),
    "both": (True, "balanced"),
}


def assert_rel_close(actual, desired, rtol=1e-8):
    """Relative to the largest entry of ``desired`` (exact when it is all zero)."""
    desired = np.asarray(desired, dtype=float)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def rel_diff(actual, desired):
    return np.abs(actual - desired).max() / np.abs(desired).max()


def labels_of(classes, decision):
    """The decision rule: the sign of one column, the arg-max of several."""
    if decision.shape[1] == 1:
        return classes[(decision[:, 0] > 0).astype(int)]
    return classes[decision.argmax(axis=1)]


def as_fitted(clf, values):
    """``values`` (n, t) in the shape of the classifier's: 1-D for two classes."""
    return values[:, 0] if clf.classes_.size == 2 else values


def kernel_reference(
    X, y, X_test, kernel, *, sw, cw, rho, eta=None, kernel_params=None, **options
):
    """``(classes, dual, intercept, decision, eta)`` of the plain dual loop on the
    indicators (``options``: ``n_iter`` and those of ``kernel_sam``); ``eta=None``:
    the "auto" step of the weighted, centred kernel."""
    classes, Y, s = class_targets(y, sw, cw)
    params = KERNELS[kernel] if kernel_params is None else kernel_params
    K = kernel_matrix(X, X, kernel, **params)
    if eta is None:
        eta = auto_learning_rate(
            K,
            rho,
            options.get("variant", "unnormalized"),
            options.get("fit_intercept", True),
            s,
        )
    n_iter = options.pop("n_iter", N_ITER)
    dual, intercept, decision = kernel_sam_model(
        K, Y, eta, rho, n_iter, K_test=kernel_matrix(X_test, X, kernel, **params),
        sample_weight=s, **options,
    )  # fmt: skip
    return classes, dual, intercept, decision, eta


def assert_kernel_model(clf, X_test, classes, dual, intercept, decision):
    assert_array_equal(clf.classes_, classes)
    assert clf.dual_coef_.shape == as_fitted(clf, dual).shape
    assert_rel_close(clf.dual_coef_, as_fitted(clf, dual))
    if clf.fit_intercept:
        assert_rel_close(np.atleast_1d(clf.intercept_), intercept)
    else:
        assert_array_equal(clf.intercept_, 0.0)
    assert_rel_close(clf.decision_function(X_test), as_fitted(clf, decision))
    assert_array_equal(clf.predict(X_test), labels_of(classes, decision))


# ------------------------------------------------------- non-linear kernels
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_kernel_classifier_is_the_loop_on_indicators(
    kernel, weighting, n_classes, fit_intercept, variant
):
    X, y, X_test = classification_data(N, n_classes)
    weighted, cw = WEIGHTINGS[weighting]
    sw = weights_with_zeros(N) if weighted else None
    rho = RHO[variant]
    classes, dual, intercept, decision, eta = kernel_reference(
        X, y, X_test, kernel, sw=sw, cw=cw, rho=rho, variant=variant,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    for solver in ("spectral", "iterative"):
        clf = SAMKernelClassifier(
            rho=rho, n_iter=N_ITER, kernel=kernel, variant=variant,
            fit_intercept=fit_intercept, solver=solver, class_weight=cw,
            **KERNELS[kernel],
        ).fit(X, y, sample_weight=sw)  # fmt: skip
        assert clf.solver_ == solver
        assert clf.learning_rate_ == pytest.approx(eta, rel=1e-12)
        assert_kernel_model(clf, X_test, classes, dual, intercept, decision)
        if weighted:  # a zero weight leaves its row out of the model
            assert_array_equal(clf.dual_coef_[[1, 7, 20]], 0.0)


def test_kernel_classifier_explicit_learning_rate_and_dict_class_weight():
    X, y, X_test = classification_data(N, 3, seed=1)
    sw = weights_with_zeros(N)
    cw = {"a": 3.0, "c": 0.5}  # "b" keeps weight 1
    expected = kernel_reference(
        X, y, X_test, "rbf", sw=sw, cw=cw, rho=2.0, eta=0.8, n_iter=25
    )
    clf = SAMKernelClassifier(
        rho=2.0, n_iter=25, learning_rate=0.8, kernel="rbf", class_weight=cw,
        **KERNELS["rbf"],
    ).fit(X, y, sample_weight=sw)  # fmt: skip
    assert clf.learning_rate_ == 0.8
    assert_kernel_model(clf, X_test, *expected[:4])


@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_indefinite_sigmoid_kernel_warns_and_is_the_loop(variant):
    # The sigmoid kernel is indefinite here: every solver warns, and the fit is
    # still the iteration (growing along the negative directions).
    X, y, X_test = classification_data(N, 3)
    sw, params = weights_with_zeros(N), {"gamma": 0.1, "coef0": 0.5}
    rho = RHO[variant]
    expected = kernel_reference(
        X, y, X_test, "sigmoid", sw=sw, cw=None, rho=rho, variant=variant,
        kernel_params=params,
    )  # fmt: skip
    for solver in ("spectral", "iterative"):
        clf = SAMKernelClassifier(
            rho=rho, n_iter=N_ITER, kernel="sigmoid", variant=variant, solver=solver,
            **params,
        )  # fmt: skip
        with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
            clf.fit(X, y, sample_weight=sw)
        assert_kernel_model(clf, X_test, *expected[:4])


def test_kernel_loop_comparison_can_fail():
    # Each ingredient of the reference moves the model far beyond 1e-8: the
    # radius (for either variant), the weights, the class weights, the centring,
    # the number of steps, the kernel parameter and the +/-1 coding.
    X, y, X_test = classification_data(N, 3)
    sw = weights_with_zeros(N)
    base = dict(sw=sw, cw="balanced", fit_intercept=True)
    fitted = {}
    for variant in ("unnormalized", "normalized"):
        rho = RHO[variant]
        fitted[variant] = SAMKernelClassifier(
            rho=rho, n_iter=N_ITER, kernel="rbf", variant=variant,
            class_weight="balanced", **KERNELS["rbf"],
        ).fit(X, y, sample_weight=sw)  # fmt: skip
        _, dual, _, decision, eta = kernel_reference(
            X, y, X_test, "rbf", rho=rho, variant=variant, **base
        )
        assert_rel_close(fitted[variant].dual_coef_, dual)
        assert_rel_close(fitted[variant].decision_function(X_test), decision)
        changes = {
            "rho=0": dict(base, rho=0.0, eta=eta),
            "no sample_weight": dict(base, sw=None, rho=rho, eta=eta),
            "no class_weight": dict(base, cw=None, rho=rho, eta=eta),
            "no intercept": dict(base, fit_intercept=False, rho=rho, eta=eta),
            "one step less": dict(base, rho=rho, eta=eta, n_iter=N_ITER - 1),
            "gamma * 1.01": dict(
                base, rho=rho, eta=eta, kernel_params={"gamma": 0.505}
            ),
        }
        for name, change in changes.items():
            _, other_dual, _, other, _ = kernel_reference(
                X, y, X_test, "rbf", variant=variant, **change
            )
            assert rel_diff(fitted[variant].dual_coef_, other_dual) > 1e-3, name
            assert rel_diff(fitted[variant].decision_function(X_test), other) > 1e-3
    # 0/1 indicators instead of +/-1 (the regressor on them is another model).
    classes, Y, s = class_targets(y, sw, "balanced")
    K = kernel_matrix(X, X, "rbf", gamma=0.5)
    eta = fitted["unnormalized"].learning_rate_
    dual01, _, _ = kernel_sam_model(
        K, (Y + 1) / 2, eta, RHO["unnormalized"], N_ITER, K_test=np.zeros((0, N)),
        sample_weight=s,
    )  # fmt: skip
    assert rel_diff(fitted["unnormalized"].dual_coef_, dual01) > 0.1


# ------------------------------------------------------------- mini-batches
BATCH, SEED = 8, 3  # 5 batches of 8 positive-weight rows (fewer with zeros) per epoch


def batch_learning_rate(kind, X, rho, variant, fit_intercept, s):
    """A quarter of the full-batch "auto" step (``X X^T`` is the linear model's
    kernel): with batches of 8, larger steps end some fits with a larger loss of
    an indicator column than at the start (a ``ConvergenceWarning``)."""
    K = X @ X.T if kind == "linear" else kernel_matrix(X, X, "rbf", **KERNELS["rbf"])
    return auto_learning_rate(K, rho, variant, fit_intercept, s) / 4


def linear_reference(X, y, X_test, *, sw, cw, rho, eta, batches, **options):
    """``(classes, coef (d, t), intercept (t,), decision)`` of the plain linear loop
    on the indicators."""
    classes, Y, s = class_targets(y, sw, cw)
    n_iter = options.pop("n_iter", N_ITER)
    coefs, intercepts, _ = linear_sam(
        X, Y, eta, rho, [n_iter], sample_weight=s, batches=batches, **options
    )
    return classes, coefs[0], intercepts[0], X_test @ coefs[0] + intercepts[0]


@pytest.mark.parametrize("kind", ["linear", "kernel"])
@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("variant", ["unnormalized", "normalized"])
def test_batch_classifier_is_the_minibatch_loop(
    kind, weighting, n_classes, fit_intercept, variant
):
    X, y, X_test = classification_data(N, n_classes)
    weighted, cw = WEIGHTINGS[weighting]
    sw = weights_with_zeros(N) if weighted else None
    rho = RHO[variant]
    _, _, s = class_targets(y, sw, cw)
    batches = shuffled_epochs(SEED, N, BATCH, N_ITER, s)
    params = dict(
        rho=rho, n_iter=N_ITER, variant=variant, fit_intercept=fit_intercept,
        batch_size=BATCH, random_state=SEED, class_weight=cw,
    )  # fmt: skip
    options = dict(variant=variant, fit_intercept=fit_intercept, batches=batches)
    eta = batch_learning_rate(kind, X, rho, variant, fit_intercept, s)
    if kind == "linear":
        clf = SAMClassifier(learning_rate=eta, **params).fit(X, y, sample_weight=sw)
        classes, coef, intercept, decision = linear_reference(
            X, y, X_test, sw=sw, cw=cw, rho=rho, eta=eta, **options
        )
        assert_rel_close(clf.coef_, as_fitted(clf, coef).T)
        if fit_intercept:
            assert_rel_close(clf.intercept_, intercept)
        else:
            assert_array_equal(clf.intercept_, 0.0)
        assert_rel_close(clf.decision_function(X_test), as_fitted(clf, decision))
        assert_array_equal(clf.predict(X_test), labels_of(classes, decision))
    else:
        clf = SAMKernelClassifier(
            learning_rate=eta, kernel="rbf", **KERNELS["rbf"], **params
        ).fit(X, y, sample_weight=sw)
        expected = kernel_reference(
            X, y, X_test, "rbf", sw=sw, cw=cw, rho=rho, eta=eta, **options
        )
        assert_kernel_model(clf, X_test, *expected[:4])
    assert clf.solver_ == "iterative"
    if weighted:  # zero-weight rows are never drawn
        assert not np.isin([1, 7, 20], np.concatenate(batches)).any()


@pytest.mark.parametrize("kind", ["linear", "kernel"])
def test_batch_loop_comparison_can_fail(kind):
    # The draw matters: another seed's batches, or full batches, are another
    # model; so do the weights, whose zeros change the draw.
    X, y, X_test = classification_data(N, 3)
    sw = weights_with_zeros(N)
    rho = RHO["unnormalized"]
    eta = batch_learning_rate(kind, X, rho, "unnormalized", True, sw)
    params = dict(rho=rho, n_iter=N_ITER, learning_rate=eta, batch_size=BATCH)
    if kind == "linear":
        clf = SAMClassifier(**params, random_state=SEED).fit(X, y, sample_weight=sw)

        def reference(seed, batch_rows, weights):
            _, _, s = class_targets(y, weights)
            batches = None if batch_rows is None else shuffled_epochs(
                seed, N, batch_rows, N_ITER, s
            )  # fmt: skip
            return linear_reference(
                X, y, X_test, sw=weights, cw=None, rho=rho, eta=eta, batches=batches
            )[3]
    else:
        clf = SAMKernelClassifier(
            kernel="rbf", **KERNELS["rbf"], **params, random_state=SEED
        ).fit(X, y, sample_weight=sw)

        def reference(seed, batch_rows, weights):
            _, _, s = class_targets(y, weights)
            batches = None if batch_rows is None else shuffled_epochs(
                seed, N, batch_rows, N_ITER, s
            )  # fmt: skip
            return kernel_reference(
                X, y, X_test, "rbf", sw=weights, cw=None, rho=rho, eta=eta,
                batches=batches,
            )[3]  # fmt: skip

    decision = clf.decision_function(X_test)
    assert_rel_close(decision, reference(SEED, BATCH, sw))
    for name, change in {
        "another seed": (SEED + 1, BATCH, sw),
        "full batches": (SEED, None, sw),
        "another batch size": (SEED, BATCH + 1, sw),
        "no sample_weight": (SEED, BATCH, None),
    }.items():
        assert rel_diff(decision, reference(*change)) > 1e-3, name
