"""Test-session setup shared by every test module."""

import os

# scikit-learn's array API support (array_api_dispatch=True) needs scipy's, which
# scipy reads once, at its first import: set before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
