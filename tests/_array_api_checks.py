"""Which array namespaces and devices are here, and the checks that can run on them.

Array API tests run on every namespace and device that is installed and usable on
this machine; the others are not collected one by one (torch alone would add
hundreds of skips) but reported in one skipped test per parametrized function,
whose reason lists what was left out and why.
"""

import importlib
from functools import cache

import pytest
import sklearn


def dispatch_unavailable():
    """Why ``array_api_dispatch=True`` cannot be set here (None if it can)."""
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        return f"array_api_dispatch unavailable: {exc}"
    return None


@cache
def namespace_unavailable(namespace, device=None):
    """Why arrays of ``namespace`` on ``device`` cannot be made here (None if
    they can). ``device`` is a name (``"cpu"``, ``"cuda"``, ...) or None."""
    if namespace in ("numpy", "array_api_compat.numpy"):
        return None
    try:
        module = importlib.import_module(namespace)
    except ImportError:
        return f"{namespace} is not installed"
    if namespace == "torch":
        device = device or "cpu"
        if device == "mps" and not module.backends.mps.is_available():
            return "torch: no MPS device here"
        if device == "xpu" and not (
            hasattr(module, "xpu") and module.xpu.is_available()
        ):
            return "torch: no XPU device here"
        try:
            module.zeros(1, device=module.device(device))
        except (RuntimeError, AssertionError) as exc:
            return f"torch: no usable {device} device ({exc})"
    elif namespace == "cupy":  # pragma: no cover - needs a GPU
        try:
            if module.cuda.runtime.getDeviceCount() == 0:
                return "cupy: no CUDA device here"
        except Exception as exc:  # any CUDA runtime error
            return f"cupy: no usable CUDA device ({exc})"
    return None


def _namespaces_of(check):
    """The (namespace, device name) pairs an array API check uses."""
    keywords = getattr(check, "keywords", {})
    pairs = []
    if "array_namespace" in keywords:
        pairs.append((keywords["array_namespace"], keywords.get("device_name")))
    for key in ("X_ns_and_device", "other_ns_and_device"):
        value = keywords.get(key)
        if value is not None:
            pairs.append((value.xp, value.device))
    return pairs


def array_api_skip_reason(check):
    """Why an array API check cannot run on this machine (None if it can)."""
    name = getattr(getattr(check, "func", check), "__name__", "")
    if not name.startswith("check_array_api"):
        return None
    reason = dispatch_unavailable()
    if reason is not None:
        return reason
    for namespace, device in _namespaces_of(check):
        # array_api_strict's devices are its own, always there
        device = None if namespace == "array_api_strict" else device
        reason = namespace_unavailable(namespace, device)
        if reason is not None:
            return reason
    return None


def not_run_here(reasons):
    """One skipped parameter set standing for the cases left out, with the reasons
    (counted), or nothing when every case runs; ``reasons`` lists one reason per
    case left out."""
    if not reasons:
        return []
    counts = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    summary = "; ".join(f"{n} x {reason}" for reason, n in counts.items())
    return [summary]


def parametrize_with_available_checks(estimators, **kwargs):
    """``sklearn.utils.estimator_checks.parametrize_with_checks``, collecting only
    the checks that can run here: the array API checks of namespaces and devices
    that are absent become one skipped case, whose reason names them."""
    from sklearn.utils.estimator_checks import (
        _get_check_estimator_ids,
        parametrize_with_checks,
    )

    mark = parametrize_with_checks(estimators, **kwargs).mark
    args, named = list(mark.args), mark.kwargs
    argnames = args[0] if args else named["argnames"]
    cases = args[1] if len(args) > 1 else named["argvalues"]
    kept, reasons = [], []
    for case in cases:
        values = case.values if hasattr(case, "values") else case
        reason = array_api_skip_reason(values[1])
        if reason is None:
            kept.append(case)
        else:
            reasons.append(reason)
    for summary in not_run_here(reasons):
        kept.append(
            pytest.param(
                None,
                None,
                marks=pytest.mark.skip(reason=f"not collected here: {summary}"),
                id="array-api-checks-not-available-here",
            )
        )
    return pytest.mark.parametrize(argnames, kept, ids=_get_check_estimator_ids)
