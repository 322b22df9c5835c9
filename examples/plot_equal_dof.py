"""
===========================================================
SAM, gradient descent and Ridge at equal degrees of freedom
===========================================================

Early-stopped SAM, early-stopped gradient descent (GD) and Ridge are all linear
smoothers: their predictions are ``A y`` for a matrix ``A`` fixed by the design. The
trace of the training smoother is the **effective degrees of freedom** (dof), a common
scale of model complexity for a stopping time and a penalty. Here we compare the three
at equal dof, with the exact bias and variance at fresh test points from
:func:`~sksam.bias_variance_decomposition`, and check the calibration
``alpha ~ n_samples / (learning_rate * n_iter)`` between a stopping time and a Ridge
penalty (see :ref:`comparing_with_ridge`).
"""

# %%
# A design with a spectrum spread over four decades
# -------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from sksam import SAMRegressor, bias_variance_decomposition

rng = np.random.default_rng(0)
n_samples, n_features, noise_std = 300, 40, 1.0
scales = np.geomspace(3.0, 0.03, n_features)
coef_true = rng.standard_normal(n_features)
X = rng.standard_normal((n_samples, n_features)) * scales
X_test = rng.standard_normal((500, n_features)) * scales
truth = {"f_train": X @ coef_true, "f_test": X_test @ coef_true, "noise_std": noise_std}

# %%
# Exact curves: GD and SAM over the stopping time (one float learning rate, the SAM
# one), Ridge over ``alpha``. Each SAM/GD curve comes from one eigendecomposition.
lam_max = 1 / SAMRegressor(rho=0.0, n_iter=0).fit(X, truth["f_train"]).learning_rate_
rho = 3 / lam_max
eta = SAMRegressor(rho=rho, n_iter=0).fit(X, truth["f_train"]).learning_rate_
n_iters = np.unique(np.geomspace(1, 1e5, 200).astype(int))
alphas = np.geomspace(1e-3, 1e6, 50)
results = {
    "GD": bias_variance_decomposition(
        SAMRegressor(rho=0.0, learning_rate=eta),
        X,
        None,
        X_test,
        **truth,
        param_name="n_iter",
        param_range=n_iters,
    ),
    "SAM": bias_variance_decomposition(
        SAMRegressor(rho=rho, learning_rate=eta),
        X,
        None,
        X_test,
        **truth,
        param_name="n_iter",
        param_range=n_iters,
    ),
    "Ridge": bias_variance_decomposition(
        Ridge(), X, None, X_test, **truth, param_name="alpha", param_range=alphas
    ),
}
for name, res in results.items():
    i = res.oracle_index
    print(
        f"{name:>5}: best {res.param_name}={res.oracle_param:.4g}, dof "
        f"{res.dof[i]:.1f}, test risk {res.expected_loss[i]:.4f} (bias^2 "
        f"{res.bias_squared[i]:.4f}, variance {res.variance[i]:.4f})"
    )

# %%
# Calibration of ``alpha`` against the stopping time
# --------------------------------------------------
# For each stopping time, the Ridge penalty with the same dof (the Ridge dof decreases
# with ``alpha``, so we interpolate ``log alpha`` on the fine grid), divided by the rule
# ``n / (eta k)``. For gradient descent the ratio sits near ``exp(-gamma) ~ 0.56``
# (``gamma`` is Euler's constant) wherever the spectrum is spread evenly on a log
# scale; SAM has more dof at equal ``k``, so its matched penalty is smaller.
ridge = results["Ridge"]
order = np.argsort(ridge.dof)
ratios = {}
for name in ("GD", "SAM"):
    dof = results[name].dof
    inside = (dof > ridge.dof.min()) & (dof < ridge.dof.max())
    log_alpha = np.interp(dof[inside], ridge.dof[order], np.log(alphas[order]))
    ratios[name] = (
        n_iters[inside],
        np.exp(log_alpha) * eta * n_iters[inside] / n_samples,
    )
k, ratio = ratios["GD"]
middle = (k >= 10) & (k <= 10_000)
print(
    f"GD: matched alpha / (n / (eta k)) over 10 <= k <= 1e4: "
    f"{ratio[middle].min():.2f} to {ratio[middle].max():.2f}"
)

# %%
# Figure
# ------
# ``plot(x="dof")`` draws each result against its effective degrees of freedom, so
# the curves over ``n_iter`` (GD, SAM) and over ``alpha`` (Ridge) share one axis.
fig, (ax_bv, ax_risk) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
for name, res in results.items():
    res.plot(ax=ax_bv, x="dof", label=name, components=("bias_squared", "variance"))
    res.plot(ax=ax_risk, x="dof", label=name, components=("expected_loss",))
ax_bv.set(yscale="log", ylim=(1e-3, None), title="bias$^2$ (dashed), variance (dotted)")
ax_bv.legend(ncol=2, fontsize="small")
ax_risk.set(
    yscale="log",
    ylabel="expected test loss (noise included)",
    title="expected loss (dot: best)",
)
plt.show()

# %%
# The matched Ridge penalty over the rule ``n / (eta k)``:
fig, ax_cal = plt.subplots(figsize=(8, 4.5), layout="constrained")
for name, (k, ratio) in ratios.items():
    ax_cal.semilogx(k, ratio, label=name)
ax_cal.axhline(np.exp(-np.euler_gamma), color="k", ls=":", label=r"$e^{-\gamma}$")
ax_cal.set(
    xlabel="number of steps k",
    ylabel=r"$\alpha$ at equal dof / ($n / (\eta k)$)",
    ylim=(0, 1.2),
    title="Ridge penalty matched to a stopping time",
)
ax_cal.legend()
plt.show()

# %%
# At equal dof the three methods have nearly the same bias and variance: the stopping
# time and the penalty are two parametrizations of very similar filters, and their
# best test risks are close. What differs is how the dof is spent. Ridge's filter
# ``lam / (lam + alpha / n)`` is flatter than GD's ``1 - (1 - eta lam)^k``: at equal
# dof it shrinks the strong directions more and the weak ones less. SAM's filter is
# steeper than GD's (it fits the strong directions ``1 + rho lam`` times faster), so
# at equal ``k`` SAM has more dof than GD and needs a smaller matched penalty.
plt.show()
