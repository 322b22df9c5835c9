"""
================================================
Cross-validating the stopping time in a pipeline
================================================

The stopping time ``n_iter`` (and the radius ``rho``) of :class:`~sksam.SAMRegressor`
play the role of Ridge's ``alpha``: they are chosen by cross-validation.
:class:`~sklearn.model_selection.GridSearchCV` can do it, refitting every candidate on
every fold. :class:`~sksam.SAMRegressorCV` gives **the same answer** from one
eigendecomposition per fold, because every stopping time of every ``rho`` is read off
the exact SAM path.

We cross-validate a quadratic model of the diabetes data (a
:class:`~sklearn.preprocessing.PolynomialFeatures` pipeline, 65 features for 442
patients): the stopping time decides how much of the many interaction terms is fitted.
"""

# %%
# The grid and the folds
# ----------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from sksam import SAMRegressor, SAMRegressorCV

X, y = load_diabetes(return_X_y=True)  # features already centred and scaled
features = PolynomialFeatures(2, include_bias=False)

# ``rho`` acts through ``rho * lam``: set it relative to the largest eigenvalue of the
# (centred) Gram matrix, one over gradient descent's automatic step size.
lam_max = (
    1 / SAMRegressor(rho=0.0, n_iter=0).fit(features.fit_transform(X), y).learning_rate_
)
rhos = [0.0, 1 / lam_max, 5 / lam_max]
n_iters = np.unique(np.geomspace(1, 20_000, 20).astype(int))
cv = KFold(5, shuffle=True, random_state=0)

# %%
# GridSearchCV refits the pipeline for each of the 3 x 20 candidates on each of the 5
# folds (300 fits).
pipe = make_pipeline(features, SAMRegressor())
grid = {"samregressor__n_iter": n_iters, "samregressor__rho": rhos}
tic = time.perf_counter()
search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
grid_seconds = time.perf_counter() - tic

# %%
# SAMRegressorCV sits in the pipeline in place of SAMRegressor and scores the whole
# grid from one decomposition per fold.
tic = time.perf_counter()
pipe_cv = make_pipeline(
    features, SAMRegressorCV(n_iters=n_iters, rhos=rhos, cv=cv)
).fit(X, y)
cv_seconds = time.perf_counter() - tic
sam_cv = pipe_cv[-1]

best = search.best_params_
print(
    f"GridSearchCV:   n_iter={best['samregressor__n_iter']}, "
    f"rho={best['samregressor__rho']:.4g}, score {search.best_score_:.6f}, "
    f"{grid_seconds:.2f} s"
)
print(
    f"SAMRegressorCV: n_iter={sam_cv.n_iter_}, rho={sam_cv.rho_:.4g}, "
    f"score {sam_cv.best_score_:.6f}, {cv_seconds:.2f} s"
)
gap = np.max(
    np.abs(
        search.cv_results_["mean_test_score"] - sam_cv.cv_results_["mean_test_score"]
    )
)
print(f"largest difference between the 60 mean CV scores: {gap:.1e}")
print(f"speed-up: {grid_seconds / cv_seconds:.0f}x")

# %%
# Both searches list the candidates in the same order (``n_iter`` outer, ``rho``
# inner), so the score tables can be compared entry by entry: they agree to rounding,
# and so do the selected parameters and the refitted models.
assert best["samregressor__n_iter"] == sam_cv.n_iter_
assert best["samregressor__rho"] == sam_cv.rho_
np.testing.assert_allclose(
    search.best_estimator_.predict(X), pipe_cv.predict(X), rtol=1e-8
)

# %%
# Curves and timings
# ------------------
fig, (ax, ax_time) = plt.subplots(
    1,
    2,
    figsize=(11, 4.8),
    gridspec_kw={"width_ratios": [2.2, 1]},
    layout="constrained",
)
scores = sam_cv.cv_results_["mean_test_score"].reshape(n_iters.size, len(rhos))
grid_scores = search.cv_results_["mean_test_score"].reshape(n_iters.size, len(rhos))
rho_labels = ["rho = 0 (GD)", "rho = 1 / lam_max", "rho = 5 / lam_max"]
for j, text in enumerate(rho_labels):
    (line,) = ax.semilogx(n_iters, scores[:, j], label=f"SAMRegressorCV, {text}")
    ax.semilogx(
        n_iters, grid_scores[:, j], "o", ms=4, mfc="none", color=line.get_color()
    )
ax.plot([], [], "ko", mfc="none", label="GridSearchCV (same candidates)")
ax.axvline(sam_cv.n_iter_, color="0.5", ls=":")
ax.set_xlabel("number of steps n_iter")
ax.set_ylabel("mean 5-fold CV R$^2$")
ax.set_ylim(max(scores.min(), -0.2), None)
ax.legend(fontsize="small")

ax_time.bar(["GridSearchCV", "SAMRegressorCV"], [grid_seconds, cv_seconds])
ax_time.set_ylabel("wall time of the search (s)")
ax_time.set_yscale("log")

# %%
# Each radius uses its own automatic step size (the largest of the monotone regime),
# which shrinks as ``rho`` grows, so the SAM curves are shifted to more steps; their
# best scores are close to gradient descent's. Every point of every curve was computed
# twice, and the two computations agree.
#
# Note on preprocessing that learns from the data: ``GridSearchCV`` over a pipeline
# refits every step on every training fold, while a ``SAMRegressorCV`` inside a
# pipeline sees data transformed by steps fitted once on all of ``X``. With a
# stateless step such as ``PolynomialFeatures`` the two are identical (as above);
# with a ``StandardScaler`` they differ slightly, exactly as ``RidgeCV`` in a pipeline
# differs from ``GridSearchCV(make_pipeline(StandardScaler(), Ridge()))``.
plt.show()
