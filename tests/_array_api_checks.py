"""When scikit-learn's array API estimator checks cannot run here, and why."""

import sklearn


def array_api_skip_reason(check):
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
