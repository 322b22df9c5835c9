"""sksam: scikit-learn estimators for exact early-stopped Sharpness-Aware Minimization.

Full-batch SAM on a quadratic loss is diagonal in the eigenbasis of the (kernel) Gram
matrix, so one eigendecomposition gives the exact iterate for any number of steps.
"""

from ._kernel import SAMKernelRidge
from ._linear import SAMRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "SAMKernelRidge",
    "SAMRegressor",
    "__version__",
]
