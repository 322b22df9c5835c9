"""Warnings that point at the user's line, whatever the call path.

A fixed ``stacklevel`` is right for one call path only: the same check runs under
``fit``, ``sam_path``, the CV and IC searches, ``bias_variance_decomposition``,
scikit-learn meta-estimators and joblib workers. ``warn`` walks the stack instead and
attributes the warning to the first frame outside sksam, scikit-learn, joblib and the
thread machinery (in a worker thread, where no user frame exists, to the outermost
frame).
"""

import os
import sys
import threading
import warnings

import joblib
import sklearn

__all__ = ["warn"]

_STDLIB = os.path.dirname(os.path.abspath(threading.__file__))
_INTERNAL_DIRS = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,  # sksam
    os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(joblib.__file__)) + os.sep,
    os.path.abspath(threading.__file__),
    os.path.join(_STDLIB, "concurrent") + os.sep,
)


def _is_internal(filename):
    return os.path.abspath(filename).startswith(_INTERNAL_DIRS)


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first caller outside the libraries."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and _is_internal(frame.f_code.co_filename):
        if frame.f_back is None:
            break
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level + 1)
