"""Least-squares classification by early-stopped SAM.

- ``_classifier``: ``SAMClassifier`` and ``SAMKernelClassifier`` (the regressors
  fitted to +/-1 indicator columns of the labels);
- ``_cv``: ``SAMClassifierCV``, the cross-validated search of ``_selection`` scored
  by accuracy.
"""

from ._classifier import SAMClassifier, SAMKernelClassifier
from ._cv import SAMClassifierCV, SAMKernelClassifierCV

__all__ = [
    "SAMClassifier",
    "SAMClassifierCV",
    "SAMKernelClassifier",
    "SAMKernelClassifierCV",
]
