"""
======================================================
Large kernels: Nystroem features + SAMRegressor
======================================================

:class:`~sksam.SAMKernelRidge` decomposes the ``n x n`` kernel matrix once: ``O(n^2)``
memory and ``O(n^3)`` time, fine for a few thousand samples and out of reach beyond.
The scalable route is a low-rank feature map followed by *linear* SAM::

    make_pipeline(Nystroem(kernel="rbf", gamma=g, n_components=m), SAMRegressor(...))

:class:`~sklearn.kernel_approximation.Nystroem` maps ``x`` to
``phi(x) = k(x, Z) K_ZZ^{-1/2}`` for ``m`` landmark samples ``Z``, so that
``phi(x_i) . phi(x_j)`` approximates ``k(x_i, x_j)`` (exactly when the landmarks are all
the training samples, ``m = n``). :class:`~sksam.SAMRegressor` on ``phi`` runs the
same function-space SAM restricted to the span of the landmarks, and its intercept is
handled consistently: centring ``phi`` with the (weighted) training means is the
feature-space centring that ``SAMKernelRidge`` applies to ``K``. With ``m = n`` the
pipeline therefore reproduces ``SAMKernelRidge`` to rounding (tested in sksam's test
suite); with ``m << n`` it costs ``O(n m^2 + m^3)`` time and ``O(n m)`` memory.

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
# Nystroem + SAMRegressor for a growing number of components
# ----------------------------------------------------------
# ``learning_rate="auto"`` takes the largest eigenvalue of the centred feature Gram,
# which is that of the centred kernel for ``m = n`` and a close lower bound for
# ``m < n`` (the top of the spectrum is what Nystroem captures first), so the stopping
# times of the two models mean the same thing.
components = [5, 10, 20, 50, 100, 200, 400, n_train]
mse, gap = [], []
for m in components:
    model = make_pipeline(
        Nystroem(**kernel, n_components=m, random_state=0), SAMRegressor(**sam)
    )
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
ax_mse.semilogx(components, mse, "o-", label="Nystroem + SAMRegressor")
ax_mse.axhline(exact_mse, color="k", ls="--", label="exact SAMKernelRidge")
ax_mse.set_xlabel("number of Nystroem components m")
ax_mse.set_ylabel("test MSE against the noiseless truth")
ax_mse.legend()
ax_gap.loglog(components, gap, "o-")
ax_gap.set_xlabel("number of Nystroem components m")
ax_gap.set_ylabel("max |f_m(x) - f_exact(x)| on the test set")
fig.tight_layout()

# %%
# Beyond one machine
# ------------------
# ``SAMRegressor`` also accepts a ``dask.array`` chunked by rows (it reduces the
# ``m x m`` Gram matrix of the features over the chunks). Fit the feature map on a
# subsample and transform the chunks lazily, and kernel SAM never holds the data in
# one process (with dask's threaded scheduler, which runs one task per core, limit
# BLAS to one thread, e.g. ``with threadpoolctl.threadpool_limits(1):``, to avoid
# oversubscription):
#
# .. code-block:: python
#
#     import dask.array as da
#
#     X = da.from_zarr("features.zarr")  # (n_samples, n_features), chunked by rows
#     y = da.from_zarr("targets.zarr")
#     nystroem = Nystroem(kernel="rbf", gamma=0.2, n_components=500, random_state=0)
#     nystroem.fit(X[:20_000].compute())
#     phi = X.map_blocks(nystroem.transform, chunks=(X.chunks[0], (500,)), dtype=float)
#     model = SAMRegressor(rho=0.1, n_iter=2000).fit(phi, y)
plt.show()
