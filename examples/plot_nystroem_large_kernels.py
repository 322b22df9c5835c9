"""
======================================================
Large kernels: Nystroem kernel SAM (``n_components``)
======================================================

:class:`~sksam.SAMKernelRidge` decomposes the ``n x n`` kernel matrix once: ``O(n^2)``
memory and ``O(n^3)`` time, fine for a few thousand samples and out of reach beyond.
With ``n_components=m`` it fits exact SAM on the Nystroem kernel
``K_nm K_mm^+ K_mn`` of ``m`` landmark samples ``Z`` drawn from the training rows:
the feature map ``phi(x) = k(x, Z) U diag(s)^{-1/2}`` (from ``K_mm = U diag(s) U^T``)
has ``phi(x_i) . phi(x_j) = K~_ij``, and function-space SAM with ``K~`` is linear SAM
on ``phi`` (the same rho units, step sizes and intercept: centring ``phi`` with the
weighted training means is the feature-space centring of ``K~``). With ``m = n`` the
model is ``SAMKernelRidge`` itself, to rounding (tested in sksam's test suite); with
``m << n`` it costs ``O(n m^2 + m^3)`` time and ``O(n m)`` memory, and its CV and IC
searches select on the Nystroem model.

It is what the pipeline ::

    make_pipeline(Nystroem(kernel="rbf", gamma=g, n_components=m, random_state=r),
                  SAMRegressor(...))

fits (the same landmarks for the same ``random_state``, unit weights), without the
pipeline's limits: sample weights choose the landmarks among the weighted rows, dask
arrays are reduced chunk by chunk, and the searches know the kernel.

Here we measure how fast the accuracy approaches that of the exact model as ``m``
grows, on the Friedman #1 regression problem.
"""

# %%
# Data and the exact model
# ------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics import mean_squared_error
from sklearn.pipeline import make_pipeline

from sksam import SAMKernelRidge, SAMRegressor

n_train = 600
X_train, y_train = make_friedman1(n_samples=n_train, noise=1.0, random_state=0)
X_test, y_test = make_friedman1(n_samples=500, noise=0.0, random_state=1)

kernel = {"kernel": "rbf", "gamma": 0.2}
sam = {"rho": 0.1, "n_iter": 2000}

exact = SAMKernelRidge(**kernel, **sam).fit(X_train, y_train)
exact_pred = exact.predict(X_test)
exact_mse = mean_squared_error(y_test, exact_pred)
print(f"exact SAMKernelRidge: test MSE {exact_mse:.4f}")

# %%
# Nystroem kernel SAM for a growing number of components
# ------------------------------------------------------
# ``learning_rate="auto"`` takes the largest eigenvalue of the centred Nystroem
# kernel, which is that of the centred kernel for ``m = n`` and a close lower bound
# for ``m < n`` (the top of the spectrum is what Nystroem captures first), so the
# stopping times of the two models mean the same thing.
components = [5, 10, 20, 50, 100, 200, 400, n_train]
mse, gap = [], []
for m in components:
    model = SAMKernelRidge(**kernel, **sam, n_components=m, random_state=0)
    pred = model.fit(X_train, y_train).predict(X_test)
    mse.append(mean_squared_error(y_test, pred))
    gap.append(np.abs(pred - exact_pred).max())
    print(f"m = {m:4d}: test MSE {mse[-1]:.4f}, max |f_m - f_exact| = {gap[-1]:.1e}")

# %%
# The test error falls steadily with ``m``: with two thirds of the samples as
# landmarks it is within a few percent of the exact model, and at ``m = n`` the two
# predict the same function to rounding. Which ``m`` suffices depends on how fast the
# kernel spectrum decays (smoother kernels, i.e. smaller ``gamma``, need fewer
# components); the payoff comes for large ``n``, where the pipeline's cost grows like
# ``n m^2`` instead of ``n^3``.
fig, (ax_mse, ax_gap) = plt.subplots(1, 2, figsize=(11, 4))
ax_mse.semilogx(components, mse, "o-", label="SAMKernelRidge(n_components=m)")
ax_mse.axhline(exact_mse, color="k", ls="--", label="exact SAMKernelRidge")
ax_mse.set_xlabel("number of Nystroem components m")
ax_mse.set_ylabel("test MSE against the noiseless truth")
ax_mse.legend()
ax_gap.loglog(components, gap, "o-")
ax_gap.set_xlabel("number of Nystroem components m")
ax_gap.set_ylabel("max |f_m(x) - f_exact(x)| on the test set")
fig.tight_layout()

# %%
# The same model as a pipeline
# ----------------------------
# scikit-learn's ``Nystroem`` draws the same landmarks for the same
# ``random_state``; its features are ours rotated, and linear SAM does not see
# rotations, so the pipeline predicts the same function (to rounding, as long as no
# eigenvalue of ``K_mm`` falls below ``Nystroem``'s floor of 1e-12).
pipe = make_pipeline(
    Nystroem(**kernel, n_components=100, random_state=0), SAMRegressor(**sam)
).fit(X_train, y_train)
nystroem_sam = SAMKernelRidge(**kernel, **sam, n_components=100, random_state=0)
nystroem_sam.fit(X_train, y_train)
difference = np.abs(pipe.predict(X_test) - nystroem_sam.predict(X_test)).max()
print(f"pipeline vs n_components=100: max difference {difference:.1e}")

# %%
# Beyond one machine
# ------------------
# ``SAMKernelRidge(n_components=m)`` accepts a ``dask.array`` chunked by rows: the
# landmarks are gathered in one pass, the features are formed chunk by chunk and only
# their ``m x m`` moments are reduced, so the data never sit in one process
# (``predict`` on a dask array returns a dask array). ``SAMKernelRidgeCV(cv="gcv")``
# and ``SAMKernelRidgeIC`` select the stopping time and ``rho`` from the same pass.
# With dask's threaded scheduler, which runs one task per core, limit BLAS to one
# thread (``with threadpoolctl.threadpool_limits(1):``) to avoid oversubscription:
#
# .. code-block:: python
#
#     import dask.array as da
#
#     X = da.from_zarr("features.zarr")  # (n_samples, n_features), chunked by rows
#     y = da.from_zarr("targets.zarr")
#     model = SAMKernelRidgeCV(
#         cv="gcv", kernel="rbf", gamma=0.2, n_components=500, random_state=0
#     ).fit(X, y)
plt.show()
