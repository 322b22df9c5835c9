"""Parameter constraints shared by the estimators, the paths and the searches."""

from numbers import Integral, Real

from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS
from sklearn.utils._param_validation import Interval, StrOptions

from ._core._variants import VARIANTS, SAMVariant

__all__ = ["KERNEL_CONSTRAINTS", "SAM_CONSTRAINTS"]

SAM_CONSTRAINTS = {
    "rho": [Interval(Real, 0, None, closed="left")],
    "relative_rho": ["boolean"],
    "n_iter": [Interval(Integral, 0, None, closed="left")],
    "learning_rate": [
        StrOptions({"auto"}),
        Interval(Real, 0, None, closed="neither"),
    ],
    # A built-in variant by name, or any ``SAMVariant`` (``_core._variants``).
    "variant": [StrOptions(set(VARIANTS)), SAMVariant],
    "fit_intercept": ["boolean"],
    "solver": [StrOptions({"auto", "spectral", "iterative"})],
    "batch_size": [None, Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "verbose": ["verbose"],
}

KERNEL_CONSTRAINTS = {
    "kernel": [
        StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS) | {"precomputed"}),
        callable,
    ],
    "gamma": [Interval(Real, 0, None, closed="left"), None],
    "degree": [Interval(Real, 0, None, closed="left")],
    "coef0": [Interval(Real, None, None, closed="neither")],
    "kernel_params": [dict, None],
    # Nystroem kernel SAM (``_nystroem``): m landmarks, or None for the exact kernel.
    "n_components": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
}
