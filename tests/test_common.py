"""scikit-learn's estimator checks over every public estimator, no expected failures.

The array API checks (``check_array_api_*``) run for the estimators whose tags
declare ``array_api_support``, on every namespace and device that is here; a device
that is absent (CUDA, MPS) or a stack without array API dispatch (scipy < 1.14, as
in the lowest-versions CI stage) skips them with the reason.
"""

import pytest
import sklearn
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksam import (
    SAMClassifier,
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMKernelRidge,
    SAMKernelRidgeIC,
    SAMRegressor,
    SAMRegressorIC,
)

ESTIMATORS = [
    SAMRegressor(),
    SAMRegressor(variant="normalized"),
    SAMRegressor(rho=0.0, solver="iterative"),
    SAMKernelRidge(),
    SAMKernelRidge(kernel="rbf", variant="normalized"),
    SAMKernelRidge(kernel="precomputed"),
    SAMRegressorIC(noise_variance=1.0),  # as sklearn tests LassoLarsIC
    SAMKernelRidgeIC(),
    SAMKernelRidgeIC(kernel="precomputed", criterion="discrepancy"),
    SAMClassifier(),
    # Normalized rho is in units of the coefficients: the class-weight check's
    # features (std 20) have coefficients well below the default 0.1.
    SAMClassifier(variant="normalized", rho=0.01),
    SAMClassifier(rho=0.0, solver="iterative"),
    SAMKernelClassifier(),
    SAMKernelClassifier(kernel="rbf", variant="normalized"),
    SAMClassifierCV(),
]


def _array_api_skip_reason(check):
    """Why an array API check cannot run on this machine (None if it can)."""
    name = getattr(getattr(check, "func", check), "__name__", "")
    if not name.startswith("check_array_api"):
        return None
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        return f"array_api_dispatch unavailable: {exc}"
    keywords = getattr(check, "keywords", {})
    devices = {keywords.get("device_name")} | {
        getattr(keywords.get(key), "device", None)
        for key in ("X_ns_and_device", "other_ns_and_device")
    }
    if "cuda" in devices or "mps" in devices:
        try:
            import torch
        except ImportError:
            return None  # scikit-learn's check skips itself
        if "cuda" in devices and not torch.cuda.is_available():
            return "torch: no usable CUDA device here"
        if "mps" in devices and not torch.backends.mps.is_available():
            return "torch: no MPS device here"
    return None


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    reason = _array_api_skip_reason(check)
    if reason is not None:
        pytest.skip(reason)
    check(estimator)
