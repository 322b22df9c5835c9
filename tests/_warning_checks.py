"""sksam's own warnings in the tests.

``pyproject.toml`` turns sksam's warnings into errors wherever a test does not
expect them. A test that expects one asserts it with ``pytest.warns``; the
grid-edge warning of the CV and IC searches depends on where the selected
``n_iter`` falls, which many tests do not fix in advance: ``fit_search`` fits a
search and asserts that it warned exactly when its ``n_iter_at_edge_`` says the
grid's end truncated the search (the documented rule), and no more than once;
likewise the rho-edge warning, exactly when ``rho_at_edge_ == "upper"`` on the
default radius grid (``rhos=None``).
"""

import warnings

import numpy as np

from sksam._array_api import to_numpy

EDGE_MESSAGE = "The selected n_iter="
RHO_EDGE_MESSAGE = "The selected rho="


def _is_edge_warning(record):
    return issubclass(record.category, UserWarning) and str(record.message).startswith(
        EDGE_MESSAGE
    )


def _is_rho_edge_warning(record):
    return issubclass(record.category, UserWarning) and str(record.message).startswith(
        RHO_EDGE_MESSAGE
    )


def rho_edge_warning_expected(search):
    """Whether the fitted ``search`` must have warned about its radius grid's edge:
    an ``"upper"`` pick on the default radius grid (``rhos=None``), of any target
    (a per-target search warns once for all its targets)."""
    edges = np.atleast_1d(np.asarray(search.rho_at_edge_, dtype=object))
    return search.rhos is None and any(edge == "upper" for edge in edges)


def _edge_picks(search):
    """The ``n_iter_`` of the picks whose edge truncated the search: an
    ``"upper"`` pick, or a ``"lower"`` pick above one step (each target's, for a
    per-target search, whose flags are arrays; one warning says so for all)."""
    edges = np.atleast_1d(np.asarray(search.n_iter_at_edge_, dtype=object))
    n_iters = np.atleast_1d(to_numpy(search.n_iter_))
    return [
        int(k)
        for edge, k in zip(edges, n_iters, strict=True)
        if edge == "upper" or (edge == "lower" and int(k) > 1)
    ]


def edge_warning_expected(search):
    """Whether the fitted ``search`` must have warned about its grid's edge: an
    ``"upper"`` pick, or a ``"lower"`` pick above one step (of any target)."""
    return bool(_edge_picks(search))


def fit_search(search, *args, **kwargs):
    """``search.fit(*args, **kwargs)``, checking its grid-edge ``UserWarning``.

    Every other warning is emitted again, to the test's filters (so sksam's other
    warnings stay errors unless the test expects them).

    Returns
    -------
    search : the fitted search.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(*args, **kwargs)
    edge = [w for w in caught if _is_edge_warning(w)]
    expected = edge_warning_expected(search)
    assert len(edge) == int(expected), (
        f"n_iter_={search.n_iter_}, n_iter_at_edge_={search.n_iter_at_edge_!r}: "
        f"expected {int(expected)} grid-edge warning(s), got "
        f"{[str(w.message) for w in edge]}"
    )
    if expected:
        assert any(
            f"{EDGE_MESSAGE}{k} " in str(edge[0].message) for k in _edge_picks(search)
        )
    rho_edge = [w for w in caught if _is_rho_edge_warning(w)]
    expected = rho_edge_warning_expected(search)
    assert len(rho_edge) == int(expected), (
        f"rho_={search.rho_}, rhos={search.rhos!r}, rho_at_edge_="
        f"{search.rho_at_edge_!r}: expected {int(expected)} rho-edge warning(s), "
        f"got {[str(w.message) for w in rho_edge]}"
    )
    for w in caught:
        if not (_is_edge_warning(w) or _is_rho_edge_warning(w)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return search
