"""
====================================================
Kernel SAM vs KernelRidge on a 1-D nonlinear problem
====================================================

:class:`~sksam.SAMKernelRidge` fits a kernel model by early-stopped SAM on the
function-space gradient; :class:`~sklearn.kernel_ridge.KernelRidge` fits the same
model class with a penalty. Both are linear smoothers with filters on the eigenvalues
``mu`` of ``K / n``: ``1 - (1 - eta mu (1 + rho mu))^k`` for ``k`` SAM steps and
``mu / (mu + alpha / n)`` for KernelRidge, so the rule ``alpha = n / (eta k)`` maps a
stopping time to a penalty (see :ref:`comparing_with_ridge`).

We fit a wiggly 1-D function from noisy samples with an RBF kernel and compare the
test error along the whole SAM path (one eigendecomposition, read with
:meth:`~sksam.SAMKernelRidge.staged_predict`) with KernelRidge over the matching
penalties.
"""

# %%
# Data
# ----
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import mean_squared_error

from sksam import SAMKernelRidge

rng = np.random.default_rng(0)
n_train = 150


def truth(x):
    return np.sin(3 * x) + 0.5 * np.cos(7 * x) * np.exp(-(x**2))


x_train = np.sort(rng.uniform(-2.5, 2.5, n_train))[:, None]
y_train = truth(x_train[:, 0]) + 0.4 * rng.standard_normal(n_train)
x_test = np.linspace(-2.5, 2.5, 400)[:, None]
y_test = truth(x_test[:, 0])  # noiseless: the error is bias^2 + variance

# %%
# The whole SAM path from one fit
# -------------------------------
# KernelRidge has no intercept, so we fit SAM without one as well: the two models then
# live in exactly the same function space. ``rho`` only matters relative to the largest
# eigenvalue ``mu_max`` of ``K / n``, which is one over gradient descent's automatic
# step size; we take ``rho = 5 / mu_max``. Gradient descent (``rho=0``) uses the SAM
# step size, so that the two differ only by ``rho``.
kernel = {"kernel": "rbf", "gamma": 5.0, "fit_intercept": False}
mu_max = (
    1 / SAMKernelRidge(rho=0.0, n_iter=0, **kernel).fit(x_train, y_train).learning_rate_
)
rho = 5 / mu_max
n_steps = 1000


def test_errors(model):
    """Test MSE after every step, from one fit (no refits, no stepping)."""
    return np.array([np.mean((p - y_test) ** 2) for p in model.staged_predict(x_test)])


tic = time.perf_counter()
sam = SAMKernelRidge(rho=rho, n_iter=n_steps, **kernel).fit(x_train, y_train)
sam_mse = test_errors(sam)
toc = time.perf_counter() - tic
eta = sam.learning_rate_
gd = SAMKernelRidge(rho=0.0, n_iter=n_steps, learning_rate=eta, **kernel)
gd_mse = test_errors(gd.fit(x_train, y_train))
print(f"mu_max = {mu_max:.3f}, rho = {rho:.3g}, step size eta = {eta:.3g}")
print(f"SAM fit and test curve over {n_steps} stopping times: {toc:.2f} s")

# %%
# KernelRidge over the calibrated penalties ``alpha = n / (eta k)``.
steps = np.unique(np.geomspace(1, n_steps, 40).astype(int))
alphas = n_train / (eta * steps)
krr = {"kernel": "rbf", "gamma": 5.0}
ridge_mse = np.array(
    [
        mean_squared_error(
            y_test, KernelRidge(alpha=a, **krr).fit(x_train, y_train).predict(x_test)
        )
        for a in alphas
    ]
)

k_sam, k_gd = np.argmin(sam_mse) + 1, np.argmin(gd_mse) + 1
best_alpha = alphas[np.argmin(ridge_mse)]
print(f"best SAM: {k_sam} steps, test MSE {sam_mse.min():.4f}")
print(f"best GD:  {k_gd} steps, test MSE {gd_mse.min():.4f}")
print(f"best KernelRidge: alpha={best_alpha:.3g}, test MSE {ridge_mse.min():.4f}")

# %%
# Test error against the stopping time (KernelRidge plotted at ``k = n / (eta alpha)``),
# and the fitted functions at the best stopping time / penalty of each method.
fig, (ax_path, ax_fit) = plt.subplots(1, 2, figsize=(11, 4))
ks = np.arange(1, n_steps + 1)
ax_path.loglog(ks, sam_mse, label=r"SAM ($\rho \mu_{max}$ = 5)")
ax_path.loglog(ks, gd_mse, label="GD (same step)")
ax_path.loglog(steps, ridge_mse, "o", ms=3, label=r"KernelRidge, $\alpha = n/(\eta k)$")
ax_path.set_xlabel("number of steps k")
ax_path.set_ylabel("test MSE against the truth")
ax_path.legend()

best_sam = SAMKernelRidge(rho=rho, n_iter=k_sam, **kernel)
best_ridge = KernelRidge(alpha=best_alpha, **krr)
ax_fit.plot(x_train[:, 0], y_train, ".", color="0.6", label="training data")
ax_fit.plot(x_test[:, 0], y_test, "k", lw=2, label="truth")
for name, model in [(f"SAM, k={k_sam}", best_sam), ("KernelRidge", best_ridge)]:
    ax_fit.plot(x_test[:, 0], model.fit(x_train, y_train).predict(x_test), label=name)
ax_fit.set_xlabel("x")
ax_fit.legend(fontsize=8)
fig.tight_layout()

# %%
# SAM's error falls much faster at first: it fits the large-eigenvalue (smooth)
# components of the function ``1 + rho mu`` times faster than GD, so it reaches its best
# stopping time earlier. The best error itself is set by the small-eigenvalue
# directions, on which SAM and GD nearly coincide, so the two minima are close.
#
# The KernelRidge curve follows the GD curve, shifted to larger ``k``: the rule
# ``alpha = n / (eta k)`` matches the weak directions exactly but shrinks the strong
# ones more than ``k`` GD steps do, so equal complexity needs a smaller penalty, about
# ``0.56 n / (eta k)`` (see :ref:`comparing_with_ridge`).
plt.show()
