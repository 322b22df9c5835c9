"""Selection of the stopping time and rho: cross-validation and criteria.

- ``_search``: what the selection estimators share (grids, results, the selected
  model);
- ``_cv``: ``SAMRegressorCV`` / ``SAMKernelRidgeCV``, scoring a whole grid per
  split from one decomposition: ``_cv_scores`` (what the routes share),
  ``_split_scores`` (a split's data and problem), ``_path_scores`` (the
  estimator's score path), ``_candidate_scores`` (a custom scorer),
  ``_dask_scores`` (dask, one pass) and ``_gcv`` (one GCV, also for the IC
  noise estimate); ``_multimetric`` (several metrics and ``refit``, as
  ``GridSearchCV``) and ``_dof_guard`` (the guard against interpolating
  picks on tiny data);
- ``_criteria`` and ``_ic``: Cp, AIC, BIC and the discrepancy principle from exact
  residuals and degrees of freedom, and ``SAMRegressorIC`` / ``SAMKernelRidgeIC``;
- ``_per_target``: per-target selection (``per_target=True``) for both, and
  ``_per_target_refit``, the model of per-target picks.
"""

from ._cv import SAMKernelRidgeCV, SAMRegressorCV
from ._ic import SAMKernelRidgeIC, SAMRegressorIC

__all__ = [
    "SAMKernelRidgeCV",
    "SAMKernelRidgeIC",
    "SAMRegressorCV",
    "SAMRegressorIC",
]
