"""The parts of a ``Problem`` whose data are arrays of another namespace (torch, ...).

``_problem.linear_problem`` and ``_problem.kernel_problem`` come here for array API
inputs (``_array_api.namespace_of``): the weights, the weighted centring and the
target offsets are computed in the namespace ``xp`` of the data and on its device,
with the dtype of ``X``; the output maps are ``_outputs``' (the same for every
namespace); the operator (``XPDesign``, ``XPKernel``) makes the one decomposition
there too.
"""

from ._core._xp_spectral import XPDesign, XPKernel
from ._outputs import KernelOutput, LinearOutput

__all__ = ["xp_kernel_parts", "xp_linear_parts"]


def _weights(xp, sample_weight, n_samples, like):
    """``(s, S, sqrt(s) or None)`` in ``xp``."""
    if sample_weight is None:
        sw = xp.ones(n_samples, dtype=like.dtype, device=like.device)
    else:
        sw = sample_weight
    sum_weights = float(xp.sum(sw))
    if not sum_weights > 0.0:
        raise ValueError("The sum of sample_weight must be positive.")
    return sw, sum_weights, None if sample_weight is None else xp.sqrt(sw)


def _centred_targets(xp, y, sw, sum_weights, sqrt_sw, fit_intercept):
    if fit_intercept:
        y_offset = xp.sum(y * sw[:, None], axis=0) / sum_weights
    else:
        y_offset = xp.zeros(y.shape[1], dtype=y.dtype, device=y.device)
    y_scaled = y - y_offset[None, :]
    if sqrt_sw is not None:
        y_scaled = y_scaled * sqrt_sw[:, None]
    return y_offset, y_scaled


def xp_linear_parts(xp, X, y, sample_weight, fit_intercept):
    """The ``Problem`` arguments of a linear model on arrays of namespace ``xp``."""
    sw, sum_weights, sqrt_sw = _weights(xp, sample_weight, X.shape[0], X)
    y_offset, y_scaled = _centred_targets(
        xp, y, sw, sum_weights, sqrt_sw, fit_intercept
    )
    if fit_intercept:
        x_mean = (sw @ X) / sum_weights
    else:
        x_mean = xp.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    op = XPDesign(xp, X, sqrt_sw, x_mean if fit_intercept else None, sum_weights)
    return {
        "op": op,
        "y_scaled": y_scaled,
        "y_offset": y_offset,
        "output": LinearOutput(x_mean, xp=xp),
        "y_sq_norm": xp.sum(y_scaled**2, axis=0),
    }


def xp_kernel_parts(xp, K, y, sample_weight, fit_intercept):
    """The ``Problem`` arguments of a kernel model (``K``: the training kernel)."""
    y = xp.astype(y, K.dtype)
    if sample_weight is not None:
        sample_weight = xp.astype(sample_weight, K.dtype)
    sw, sum_weights, sqrt_sw = _weights(xp, sample_weight, K.shape[0], K)
    y_offset, y_scaled = _centred_targets(
        xp, y, sw, sum_weights, sqrt_sw, fit_intercept
    )
    if fit_intercept:
        col_mean = (K @ sw) / sum_weights
        grand_mean = float(sw @ col_mean) / sum_weights
        K = K - col_mean[:, None] - (col_mean - grand_mean)[None, :]
    else:
        col_mean = xp.zeros(K.shape[0], dtype=K.dtype, device=K.device)
        grand_mean = 0.0
    output = KernelOutput(
        sqrt_sw, sw / sum_weights, col_mean, grand_mean, fit_intercept, xp=xp
    )
    return {
        "op": XPKernel(xp, K, sqrt_sw, sum_weights),
        "y_scaled": y_scaled,
        "y_offset": y_offset,
        "output": output,
        "y_sq_norm": xp.sum(y_scaled**2, axis=0),
    }
