"""The array namespaces every edge-case test runs on, through one parametrization.

``NAMESPACES`` lists numpy and, where installed (and scikit-learn's array API
dispatch is available), array-api-strict and torch on the CPU: the ``namespace``
fixture of ``conftest.py`` collects only those, so a missing optional library
removes its tests instead of skipping hundreds. A ``Namespace`` moves numpy test
data there (``asarray``), runs estimators under ``array_api_dispatch``
(``context``) and brings results back (``to_numpy``), so one test body checks
that every namespace gives numpy's result, error and warnings.
"""

import contextlib
import importlib.util

import numpy as np
import sklearn

from sksam._array_api import to_numpy


def _dispatch_available():
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError):
        return False
    return True


NAMESPACES = ["numpy"]
if _dispatch_available():
    NAMESPACES += [
        name
        for name in ("array_api_strict", "torch")
        if importlib.util.find_spec(name) is not None
    ]


class Namespace:
    """One array namespace of the tests (numpy, array-api-strict, torch CPU)."""

    def __init__(self, name):
        self.name = name
        self.xp = None if name == "numpy" else importlib.import_module(name)
        self.device = None
        if name == "torch":
            self.device = self.xp.device("cpu")
        elif name == "array_api_strict":
            self.device = self.xp.Device("CPU_DEVICE")

    def __repr__(self):
        return self.name

    @property
    def is_numpy(self):
        return self.xp is None

    def asarray(self, array):
        """A numpy array (or None) in this namespace, same dtype."""
        if array is None or self.xp is None:
            return array
        return self.xp.asarray(np.asarray(array), device=self.device)

    def context(self):
        """``array_api_dispatch`` on for another namespace."""
        if self.xp is None:
            return contextlib.nullcontext()
        return sklearn.config_context(array_api_dispatch=True)

    def check(self, array):
        """``array`` (a result) in this namespace, as a numpy array."""
        if self.xp is not None and not np.isscalar(array):
            library = type(array).__module__.split(".")[0]
            assert library == self.name, (library, self.name)
        return to_numpy(array) if not np.isscalar(array) else array

    def fit(self, estimator, X, y, sample_weight=None):
        """``estimator`` fitted on this namespace's copies of numpy data."""
        with self.context():
            return estimator.fit(
                self.asarray(X), self.asarray(y), self.asarray(sample_weight)
            )

    def predict(self, estimator, X, method="predict"):
        """``estimator.predict`` (or ``method``) of numpy rows, as numpy."""
        with self.context():
            return self.check(getattr(estimator, method)(self.asarray(X)))
