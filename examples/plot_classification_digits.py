"""
=====================================================
SAM, gradient descent and Ridge classifiers on digits
=====================================================

:class:`~sksam.SAMClassifier` does for SAM what
:class:`~sklearn.linear_model.RidgeClassifier` does for Ridge: it regresses the +/-1
indicators of the classes (one column per class) and predicts the class with the
largest fitted indicator. The number of steps ``n_iter`` is the regularizer. One
eigendecomposition of the Gram matrix fits all ten classes at once, and gives the
exact model after any number of steps.

On the handwritten digits we follow the test accuracy of SAM and of plain gradient
descent (``rho=0``) along the stopping time, at **one fixed learning rate** for both
(``learning_rate="auto"`` shrinks the step as ``rho`` grows, which would mix the
effect of ``rho`` with that of a smaller step), and compare the cross-validated
choices of :class:`~sksam.SAMClassifierCV` with
:class:`~sklearn.linear_model.RidgeClassifierCV` and with a
:class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# Data and step size
# ------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from sksam import SAMClassifier, SAMClassifierCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# ``rho`` acts through ``rho * lam``: state it in units of 1 / lam_max, the largest
# eigenvalue of the centred Gram matrix (GD's automatic step is 1 / lam_max).
lam_max = 1 / SAMClassifier(rho=0.0, n_iter=0).fit(X_train, y_train).learning_rate_
rho = 1.0 / lam_max
# The SAM step of "auto" for this rho, used for GD too.
learning_rate = 1 / (lam_max * (1 + rho * lam_max))
print(f"lam_max = {lam_max:.2f}, rho = {rho:.3f}, learning rate = {learning_rate:.4f}")

# %%
# Test accuracy along the stopping time
# -------------------------------------
# ``staged_predict`` yields the predicted classes after every step 1, ..., n_iter
# from the decomposition made by ``fit`` (no stepping).
n_iter = 3000
steps = np.arange(1, n_iter + 1)
curves = {}
for name, r in [("GD (rho=0)", 0.0), (f"SAM (rho={rho:.3f})", rho)]:
    model = SAMClassifier(rho=r, n_iter=n_iter, learning_rate=learning_rate)
    model.fit(X_train, y_train)
    staged = model.staged_predict(X_test)
    curves[name] = np.array([np.mean(pred == y_test) for pred in staged])
    best = int(np.argmax(curves[name]))
    print(f"{name}: best test accuracy {curves[name][best]:.3f} after {best + 1} steps")

ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 50)).fit(X_train, y_train)
ridge_accuracy = ridge.score(X_test, y_test)
print(f"RidgeClassifierCV: alpha={ridge.alpha_:.3g}, accuracy {ridge_accuracy:.3f}")

# %%
# At the same step size SAM moves faster along every eigen-direction (it is GD on the
# spectrum ``lam (1 + rho lam)``), so it reaches a given fit in fewer steps; both end
# at the least-squares classifier (RidgeClassifier with a vanishing alpha), whose
# test accuracy is lower: stopping early is the regularization. On these data the
# two curves are close, and the stopping time matters far more than ``rho``.
fig, ax = plt.subplots(figsize=(7, 4))
for name, accuracy in curves.items():
    ax.semilogx(steps, accuracy, label=name)
ax.axhline(ridge_accuracy, color="k", ls="--", label="RidgeClassifierCV")
ax.set_xlabel("number of steps (n_iter)")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.8, 1.0)
ax.set_title(f"Digits, learning rate {learning_rate:.4f} for both")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Choosing the stopping time by cross-validation
# ----------------------------------------------
# :class:`~sksam.SAMClassifierCV` scores every ``(n_iter, rho)`` of the grid on each of
# the 5 stratified folds from one decomposition per fold; ``GridSearchCV`` refits each
# candidate on each fold and picks the same pair.
n_iters = np.unique(np.geomspace(1, 3000, 25).astype(int))
rhos = [0.0, rho / 2, rho]  # the fixed learning rate is stable up to rho
params = dict(learning_rate=learning_rate)

tic = time.perf_counter()
sam_cv = SAMClassifierCV(n_iters=n_iters, rhos=rhos, **params).fit(X_train, y_train)
t_sam = time.perf_counter() - tic

tic = time.perf_counter()
grid = GridSearchCV(
    SAMClassifier(**params), {"n_iter": n_iters, "rho": rhos}, cv=5
).fit(X_train, y_train)
t_grid = time.perf_counter() - tic

tic = time.perf_counter()
RidgeClassifierCV(alphas=np.logspace(-3, 3, 50)).fit(X_train, y_train)
t_ridge = time.perf_counter() - tic

assert (sam_cv.n_iter_, sam_cv.rho_) == (
    grid.best_params_["n_iter"],
    grid.best_params_["rho"],
)
print(
    f"SAMClassifierCV: n_iter={sam_cv.n_iter_}, rho={sam_cv.rho_:.3f}, "
    f"CV accuracy {sam_cv.best_score_:.3f}, test accuracy "
    f"{sam_cv.score(X_test, y_test):.3f}"
)
print(
    f"fit times: SAMClassifierCV {t_sam:.2f} s, GridSearchCV {t_grid:.2f} s "
    f"({t_grid / t_sam:.0f}x), RidgeClassifierCV (50 alphas) {t_ridge:.2f} s"
)

# %%
fig, ax = plt.subplots(figsize=(5, 3))
names = ["SAMClassifierCV", "GridSearchCV\n(SAMClassifier)", "RidgeClassifierCV"]
ax.bar(names, [t_sam, t_grid, t_ridge], color=["C1", "C7", "k"])
ax.set_yscale("log")
ax.set_ylabel("fit time [s]")
ax.set_title(f"{len(n_iters) * len(rhos)} candidates x 5 folds")
fig.tight_layout()
plt.show()
