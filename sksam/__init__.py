"""sksam: scikit-learn estimators for exact early-stopped Sharpness-Aware Minimization.

Full-batch SAM on a quadratic loss is diagonal in the eigenbasis of the (kernel) Gram
matrix, so one eigendecomposition gives the exact iterate for any number of steps.
"""

from ._bias_variance import bias_variance_decomposition
from ._classification import (
    SAMClassifier,
    SAMClassifierCV,
    SAMKernelClassifier,
    SAMKernelClassifierCV,
)
from ._kernel import SAMKernelRidge
from ._linear import SAMRegressor
from ._path import sam_kernel_path, sam_path
from ._selection import (
    SAMKernelRidgeCV,
    SAMKernelRidgeIC,
    SAMRegressorCV,
    SAMRegressorIC,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "SAMClassifier",
    "SAMClassifierCV",
    "SAMKernelClassifier",
    "SAMKernelClassifierCV",
    "SAMKernelRidge",
    "SAMKernelRidgeCV",
    "SAMKernelRidgeIC",
    "SAMRegressor",
    "SAMRegressorCV",
    "SAMRegressorIC",
    "__version__",
    "bias_variance_decomposition",
    "sam_kernel_path",
    "sam_path",
]
