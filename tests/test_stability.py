"""Divergence checks: learning-rate limit, indefinite kernels, overflow."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sksam._stability import (
    check_finite,
    resolve_learning_rate,
    warn_if_indefinite,
    warn_if_loss_grew,
)


def test_resolve_learning_rate_warns_from_the_stability_limit_on():
    lam_max, rho = 2.0, 0.5  # limit 2 / (lam_max (1 + rho lam_max)) = 0.5
    assert resolve_learning_rate("auto", lam_max, rho, "unnormalized") == 0.25
    assert resolve_learning_rate("auto", lam_max, rho, "normalized") == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_learning_rate(0.4999, lam_max, rho, "unnormalized") == 0.4999
    with pytest.warns(ConvergenceWarning, match="largest stable learning rate is 0.5 "):
        resolve_learning_rate(0.5, lam_max, rho, "unnormalized")
    with pytest.warns(ConvergenceWarning, match=r"eta \* lam_max = 2 >= 2"):
        resolve_learning_rate(1.0, lam_max, rho, "normalized")


def test_check_finite_raises_on_overflow_only():
    check_finite(np.array([1e308, -1e308]))
    for bad in (np.inf, np.nan):
        with pytest.raises(ValueError, match="SAM diverged"):
            check_finite(np.array([0.0, bad]))


class _Identity:
    def apply(self, coef):
        return coef


def test_loss_check_compares_with_the_zero_model():
    y = np.array([[1.0], [2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_loss_grew(_Identity(), y, 0.5 * y, "grew")  # halfway: lower loss
    with pytest.warns(ConvergenceWarning, match="grew"):
        warn_if_loss_grew(_Identity(), y, 3.0 * y, "grew")


def factor(lam):
    """The eigenvalues and the largest one, as ``warn_if_indefinite`` takes them."""
    lam = np.asarray(lam, dtype=float)
    return lam, float(lam.max())


def test_indefinite_check_follows_the_growth_factor():
    # r = 1 - eta lam (1 + rho lam) for lam < 0: > 1 (grows) unless rho lam < -1.
    with pytest.warns(ConvergenceWarning, match="1 of its eigenvalues are negative"):
        warn_if_indefinite(*factor([-0.5, 1.0]), 0.5, 0.1, "unnormalized")
    with pytest.warns(ConvergenceWarning, match="not positive semi-definite"):
        warn_if_indefinite(*factor([-0.5, 1.0]), 0.5, 5.0, "normalized")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # rho lam = -2.5 < -1: r = 1 - 0.5 * (-0.5) * (-1.5) = 0.625, contracting
        warn_if_indefinite(*factor([-0.5, 1.0]), 0.5, 5.0, "unnormalized")
        # rounding-level negatives are not a loss of definiteness
        warn_if_indefinite(*factor([-1e-12, 1.0]), 0.5, 0.1, "unnormalized")
