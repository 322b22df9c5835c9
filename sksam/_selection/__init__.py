"""Selection of the stopping time and rho: cross-validation and criteria.

- ``_search``: what the selection estimators share (grids, results, the selected
  model);
- ``_cv_scores`` and ``_cv``: scores of a whole grid per split from one
  decomposition, and ``SAMRegressorCV`` / ``SAMKernelRidgeCV``;
- ``_criteria`` and ``_ic``: Cp, AIC, BIC and the discrepancy principle from exact
  residuals and degrees of freedom, and ``SAMRegressorIC`` / ``SAMKernelRidgeIC``.
"""

from ._cv import SAMKernelRidgeCV, SAMRegressorCV
from ._ic import SAMKernelRidgeIC, SAMRegressorIC

__all__ = [
    "SAMKernelRidgeCV",
    "SAMKernelRidgeIC",
    "SAMRegressorCV",
    "SAMRegressorIC",
]
