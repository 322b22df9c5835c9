"""Shared fixtures of the test suite.

Data: ``make_data`` builds the shared spread-spectrum regression problem of
``_data.py`` (modules that need data at collection time import it directly). The
plain reference loops of the update rules live in ``_reference.py``.
"""

import pytest
from _data import spread_spectrum_data


@pytest.fixture
def make_data():
    """``make_data(n, d, **options) -> (X, y, f, X_test)``; see ``_data``."""
    return spread_spectrum_data
