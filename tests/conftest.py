"""Shared fixtures of the test suite, and the test-session setup.

Data: ``make_data`` builds the shared spread-spectrum regression problem of
``_data.py`` (modules that need data at collection time import it directly). The
plain reference loops of the update rules live in ``_reference.py``.
"""

import os

# scikit-learn's array API support (array_api_dispatch=True) needs scipy's, which
# scipy reads once, at its first import: set before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402
from _data import spread_spectrum_data  # noqa: E402
from _namespaces import NAMESPACES, Namespace  # noqa: E402


@pytest.fixture
def make_data():
    """``make_data(n, d, **options) -> (X, y, f, X_test)``; see ``_data``."""
    return spread_spectrum_data


@pytest.fixture(params=NAMESPACES)
def namespace(request):
    """Each available array namespace (numpy, array-api-strict, torch CPU): see
    ``_namespaces``."""
    return Namespace(request.param)
