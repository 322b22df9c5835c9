"""The figure of the ``python -m sksam`` demonstration (matplotlib, optional)."""

from pathlib import Path

import numpy as np

__all__ = ["plot_demo"]


def plot_demo(synthetic, diabetes, path):
    """Write the four-panel figure of the demo to ``path`` (needs matplotlib).

    Parameters
    ----------
    synthetic : Bunch
        Result of :func:`synthetic_part`.
    diabetes : Bunch
        Result of :func:`diabetes_part`.
    path : str or Path
        Output file; the format follows the extension.

    Returns
    -------
    path : Path
        The file written.
    """
    from matplotlib.figure import Figure  # no pyplot: works with any backend

    eta = synthetic.learning_rate
    fig = Figure(figsize=(12, 8.5), layout="constrained")
    (ax_bv, ax_dof), (ax_cv, ax_test) = fig.subplots(2, 2)
    for name, res in (("SAM", synthetic.sam), ("GD", synthetic.gd)):
        res.plot(ax=ax_bv, label=name)
    ax_bv.set(xscale="log", yscale="log", xlabel="number of steps k")
    ax_bv.set_ylim(0.05, 50)
    ax_bv.set_title(f"(a) exact bias$^2$, variance, expected loss (step {eta:.3g})")
    ax_bv.legend(fontsize=8, ncol=2)

    # SAM and GD run over n_iter, Ridge over alpha: the dof is their common axis.
    for name, res in (
        ("SAM", synthetic.sam),
        ("GD", synthetic.gd),
        ("Ridge", synthetic.ridge),
    ):
        res.plot(ax=ax_dof, x="dof", label=name, components=("expected_loss",))
    ax_dof.set(
        xlabel="effective degrees of freedom (trace of the smoother)",
        ylabel="expected loss = bias$^2$ + variance + noise",
        title="(a) expected loss at equal degrees of freedom (dot: best)",
    )

    for name, (n_iters, scores) in diabetes.cv_curves.items():
        ax_cv.semilogx(n_iters, scores, label=name.split(" (")[0])
    ax_cv.set(xlabel="number of steps k", ylabel="mean CV R$^2$")
    ax_cv.set_title("(b) diabetes: cross-validated stopping time")
    ax_cv.legend()

    for name, (n_iters, r2, chosen) in diabetes.test_curves.items():
        (line,) = ax_test.semilogx(n_iters, r2, label=name.split(" (")[0])
        i = int(np.searchsorted(n_iters, chosen))
        ax_test.plot(chosen, r2[i], "o", color=line.get_color())
    ax_test.axhline(diabetes.ridge_r2, color="k", ls="--", lw=1, label="RidgeCV")
    ax_test.set(xlabel="number of steps k", ylabel="test R$^2$")
    ax_test.set_title("(b) diabetes: held-out test score (dot: CV choice)")
    ax_test.legend()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path
