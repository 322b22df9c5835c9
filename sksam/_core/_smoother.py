"""Bias and variance of linear smoothers, exact and by Monte Carlo (pure numpy).

Fixed design, ``y = f + eps`` with ``Var eps = sigma^2 I`` (the user guide, "Comparing
with Ridge; bias and variance"). An estimator linear in ``y`` predicts ``A y + c`` at
the test points, so at test point ``i``

    bias_i     = (A f + c)_i - f_test_i,        variance_i = sigma^2 ||A_i||^2,

and the reported figures are the averages over the test points.

For SAM the smoother is diagonal in the eigenbasis of one decomposition (see
``_spectral.SpectralFactor``): the centred test predictions are
``T diag(psi_k) P y_s`` with ``T`` the test map applied to ``factor.basis`` and
``P y_s = factor.proj``. The training hat matrix is ``U diag(lam * psi_k) U^T`` for
orthonormal ``U`` (the spectral filter), which forces ``P`` to have orthogonal
rows, ``P P^T = diag(gain)`` with ``gain = lam^2 / ||A basis_r||^2`` (``A`` the scaled
design or kernel; see ``noise_gain``). Hence the variance of every stopping time is a
weighted sum over the spectrum, and the whole curve costs O(rank * n_steps) after one
decomposition.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "RunningMoments",
    "ProjectedTestPoints",
    "noise_gain",
    "project_test_points",
    "smoother_risk",
    "spectral_coef_risk",
    "spectral_risk",
]


def noise_gain(lam, basis, sum_weights, rkhs):
    """Diagonal of ``P P^T``: ``lam_r^2 / ||A basis_r||^2`` (see the module docstring).

    The columns of ``basis`` are multiples ``a_r`` of unit eigenvectors: right singular
    vectors of the design ``A`` (``A^T A / S`` has eigenvalues ``lam``), so
    ``||A basis_r||^2 = S lam_r a_r^2``; or, for a kernel (``rkhs``), eigenvectors of
    ``A = K_s`` itself, so ``||A basis_r||^2 = (S lam_r a_r)^2``. Only the column
    norms ``a_r^2 = ||basis_r||^2`` are needed.

    Parameters
    ----------
    lam : ndarray of shape (rank,)
    basis : ndarray of shape (n_params, rank)
    sum_weights : float
    rkhs : bool
    """
    scale = np.sum(basis**2, axis=0) * sum_weights
    if rkhs:
        return 1.0 / (scale * sum_weights)
    return lam / scale


class ProjectedTestPoints(NamedTuple):
    """The test points seen through the basis, ``T = test_map(basis)``.

    Only ``T^T T`` and ``T^T e`` (``e`` the bias shift ``offset - f_test``) enter the
    risks; ``T`` itself is formed on demand, for the steps where the Gram form of the
    bias cancels (see ``spectral_risk``).
    """

    gram: np.ndarray
    cross: np.ndarray
    shift: np.ndarray
    test_basis: Callable[[], np.ndarray]


def project_test_points(basis, shift, test_map, test_design=None):
    """``ProjectedTestPoints`` of the test points onto ``basis`` (n_params, rank).

    Parameters
    ----------
    basis : ndarray of shape (n_params, rank)
    shift : ndarray of shape (n_test,)
        ``offset - f_test``.
    test_map : callable
        Maps coefficients (n_params, m) to centred test predictions (n_test, m).
    test_design : ndarray of shape (n_test, n_params), default=None
        The matrix of ``test_map`` when it is one (a dense linear design). Then
        ``T^T T = basis^T (M^T M) basis`` is used where it takes fewer products than
        forming ``T = M basis``: ``n_test p^2 / 2 + p^2 r + p r^2`` against
        ``n_test p r + n_test r^2 / 2`` multiply-adds.
    """
    n_params, rank = basis.shape
    n_test = shift.shape[0]
    if test_design is not None:
        through_design = n_test * n_params**2 / 2 + n_params * rank * (n_params + rank)
        if through_design < n_test * rank * (n_params + rank / 2):
            design_gram = test_design.T @ test_design
            return ProjectedTestPoints(
                basis.T @ (design_gram @ basis),
                (shift @ test_design) @ basis,
                shift,
                lambda: test_design @ basis,
            )
    test_basis = test_map(basis)
    return ProjectedTestPoints(
        test_basis.T @ test_basis, shift @ test_basis, shift, lambda: test_basis
    )


def spectral_risk(psi, proj, lam, gain, test, noise_var, n_mean):
    """Exact bias^2, variance and dof of spectral filters at the test points.

    Parameters
    ----------
    psi : ndarray of shape (rank, n_steps)
        Filter values ``(1 - r^k) / lam`` (one column per point of the curve).
    proj : ndarray of shape (rank,)
        The noiseless training targets ``f`` in eigen-coordinates.
    lam, gain : ndarray of shape (rank,)
        Eigenvalues and ``noise_gain``.
    test : ProjectedTestPoints
        The test points through the basis (``project_test_points``), with the shift
        ``offset - f_test`` (``offset`` the intercept of the noiseless fit: the mean
        of ``f``, or 0).
    noise_var : float
    n_mean : int or None
        Number of training samples averaged into a fitted intercept (``None``
        without one): the intercept adds ``noise_var / n_mean`` to the variance and
        1 to the dof.

    Returns
    -------
    bias_squared, variance, dof : ndarray of shape (n_steps,)
    """
    shift = test.shift
    n_test = shift.shape[0]
    coefs = psi * proj[:, None]
    # ||T c_k + e||^2 = c_k^T (T^T T) c_k + 2 (T^T e) . c_k + ||e||^2: a rank x rank
    # Gram instead of the n_test x n_steps errors. Where the sum cancels (the bias is
    # tiny next to ||e||^2) the error is formed directly, so every value keeps
    # relative accuracy ~1e-10 or better.
    shift_sq = shift @ shift
    bias_squared = np.einsum("rk,rk->k", coefs, test.gram @ coefs)
    bias_squared += 2.0 * (test.cross @ coefs) + shift_sq
    cancelled = bias_squared <= 1e-6 * shift_sq
    if np.any(cancelled):
        error = test.test_basis() @ coefs[:, cancelled] + shift[:, None]
        bias_squared[cancelled] = np.einsum("ik,ik->k", error, error)
    bias_squared /= n_test
    weights = gain * np.diag(test.gram) / n_test
    variance = noise_var * (weights @ psi**2)
    dof = lam @ psi
    if n_mean is not None:
        variance += noise_var / n_mean
        dof += 1.0
    return bias_squared, variance, dof


def spectral_coef_risk(psi, proj, gain, basis, coef_true, noise_var):
    """Parameter-space ``||E w_k - w*||^2`` and ``E||w_k - E w_k||^2``.

    ``w_k = basis diag(psi_k) P y``: the noise part has covariance
    ``sigma^2 basis diag(psi^2 gain) basis^T``.

    Returns
    -------
    bias_squared, variance : ndarray of shape (n_steps,)
    """
    mean_coef = basis @ (psi * proj[:, None])
    bias_squared = np.sum((mean_coef - coef_true[:, None]) ** 2, axis=0)
    variance = noise_var * ((gain * np.sum(basis**2, axis=0)) @ psi**2)
    return bias_squared, variance


def smoother_risk(mean_pred, smoother, target, noise_var):
    """Exact bias^2 and variance of one linear smoother ``A`` (rows = test points).

    Parameters
    ----------
    mean_pred : ndarray of shape (n_test,)
        Prediction of the noiseless fit, ``A f + c``.
    smoother : ndarray of shape (n_test, n_samples)
    target : ndarray of shape (n_test,)
    noise_var : float
    """
    bias_squared = float(np.mean((mean_pred - target) ** 2))
    variance = noise_var * float(np.mean(np.sum(smoother**2, axis=1)))
    return bias_squared, variance


class RunningMoments:
    """Mean and (population) variance of a stream of equally shaped arrays.

    Chan/Welford updates keep the variance accurate when it is small next to the
    squared mean (small variance near the least-squares limit).

    Examples
    --------
    >>> import numpy as np
    >>> moments = RunningMoments()
    >>> for x in (np.array([1.0, 2.0]), np.array([3.0, 2.0])):
    ...     moments.update(x)
    >>> moments.mean, moments.variance
    (array([2., 2.]), array([1., 0.]))
    """

    def __init__(self):
        self.count = 0
        self.mean = None
        self._sum_sq = None

    def update(self, x):
        """Add one observation ``x``."""
        x = np.asarray(x, dtype=float)
        self.count += 1
        if self.mean is None:
            self.mean = x.copy()
            self._sum_sq = np.zeros_like(x)
            return
        delta = x - self.mean
        self.mean += delta / self.count
        self._sum_sq += delta * (x - self.mean)

    @property
    def variance(self):
        """Population variance (divides by the count, so that the Monte Carlo
        ``bias^2 + variance`` equals the average squared error exactly)."""
        return self._sum_sq / self.count
