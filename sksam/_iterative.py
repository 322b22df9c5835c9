"""Explicit SAM loops on the scaled least-squares problem (pure numpy).

The operator ``op`` (see ``_design.py``) supplies ``apply`` (coefficients to scaled
fitted values), ``adjoint`` (scaled residuals to the gradient direction), the weight
sum ``S`` and whether the gradient norm is the RKHS norm. One step of SAM is
(DESIGN.md section 1)

    g  = grad(c),    c <- c - eta * grad(c + rho_k * g),

with ``rho_k = rho`` (unnormalized) or ``rho / ||g||`` per target column (normalized).
Because the loss is quadratic, ``grad(c + rho_k g) = grad(c) + rho_k A^T A g / S`` is
formed from the residual, so a step costs two products with ``A`` and ``A^T`` more than
a gradient-descent step, and ``rho = 0`` skips them: it *is* gradient descent.
"""

import numpy as np

__all__ = ["sam_iterates", "sam_loop"]


def sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant):
    """Yield ``(step, coef)`` after each of ``n_iter`` full-batch SAM steps from zero.

    Parameters
    ----------
    op : ScaledDesign or ScaledKernel
    y_scaled : ndarray of shape (n_samples, n_targets)
    learning_rate, rho : float
    n_iter : int
    variant : {"unnormalized", "normalized"}
    """
    S = op.sum_weights
    coef = np.zeros((op.n_params, y_scaled.shape[1]))
    normalized = variant == "normalized"
    for step in range(1, n_iter + 1):
        resid = op.apply(coef) - y_scaled
        grad = op.adjoint(resid) / S
        if rho > 0.0:
            fitted_step = op.apply(grad)
            radius = rho
            if normalized:
                sq = grad * fitted_step if op.rkhs else grad * grad
                norm = np.sqrt(np.sum(sq, axis=0))
                with np.errstate(divide="ignore"):
                    radius = np.where(norm > 0.0, rho / norm, 0.0)
            grad = op.adjoint(resid + radius * fitted_step) / S
        coef = coef - learning_rate * grad
        yield step, coef


def sam_loop(op, y_scaled, learning_rate, rho, n_iter, variant):
    """Coefficients after ``n_iter`` full-batch SAM steps (see ``sam_iterates``)."""
    coef = np.zeros((op.n_params, y_scaled.shape[1]))
    for _, coef in sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant):
        pass
    return coef
