"""Offline fallback inventories for intersphinx (used by ``conf.py``).

Each project of :data:`PROJECTS` whose site answers is looked up there first, with
the small inventory that :func:`write` makes here from :data:`OBJECTS` as its
fallback; a project whose site does not answer (offline) gets only that inventory, so
Sphinx never tries the network and prints no connection error. :data:`OBJECTS` lists
the external objects that the sksam documentation links to, at the addresses the
real inventories give them (pages as of scikit-learn 1.x, numpy 2.x, scipy 1.x,
matplotlib 3.x, dask, pandas 2.x and Python 3). A link target that is not listed is
plain text in an offline build. To add one, copy its line from the real inventory
(``python -m sphinx.ext.intersphinx <url>/objects.inv`` prints it where the site is
reachable).
"""

import threading
import urllib.error
import urllib.request
import zlib
from pathlib import Path

# project -> its site (the inventory is <site>objects.inv)
PROJECTS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "dask": "https://docs.dask.org/en/stable/",
}

_SKLEARN_PAGE = "modules/generated/$.html#$"

# project -> [(name, domain:role, uri relative to the site)]; "$" in a uri stands for
# the name.
OBJECTS = {
    "python": [
        ("None", "py:data", "library/constants.html#$"),
        ("True", "py:data", "library/constants.html#$"),
        ("False", "py:data", "library/constants.html#$"),
        ("int", "py:class", "library/functions.html#$"),
        ("float", "py:class", "library/functions.html#$"),
        ("bool", "py:class", "library/functions.html#$"),
        ("str", "py:class", "library/stdtypes.html#$"),
        ("list", "py:class", "library/stdtypes.html#$"),
        ("tuple", "py:class", "library/stdtypes.html#$"),
        ("dict", "py:class", "library/stdtypes.html#$"),
        ("callable", "py:function", "library/functions.html#$"),
        ("ValueError", "py:exception", "library/exceptions.html#$"),
        ("ImportError", "py:exception", "library/exceptions.html#$"),
        ("pathlib.Path", "py:class", "library/pathlib.html#$"),
        # Targets of numpydoc's default links for bool, generator and iterable.
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#$"),
        ("generator", "std:term", "glossary.html#term-generator"),
        ("iterable", "std:term", "glossary.html#term-iterable"),
    ],
    "numpy": [
        ("numpy.ndarray", "py:class", "reference/generated/$.html#$"),
        ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
        ("numpy.linalg.eigh", "py:function", "reference/generated/$.html#$"),
    ],
    "scipy": [
        ("scipy.linalg.eigh", "py:function", "reference/generated/$.html#$"),
        ("scipy.sparse.csr_matrix", "py:class", "reference/generated/$.html#$"),
    ],
    "sklearn": [
        *(
            (f"sklearn.{name}", "py:class", _SKLEARN_PAGE)
            for name in (
                "base.BaseEstimator",
                "base.RegressorMixin",
                "exceptions.ConvergenceWarning",
                "kernel_approximation.Nystroem",
                "kernel_ridge.KernelRidge",
                "linear_model.LassoLarsIC",
                "linear_model.LinearRegression",
                "linear_model.Ridge",
                "linear_model.RidgeCV",
                "linear_model.SGDRegressor",
                "model_selection.GridSearchCV",
                "model_selection.KFold",
                "pipeline.Pipeline",
                "preprocessing.PolynomialFeatures",
                "preprocessing.StandardScaler",
                "utils.Bunch",
                "utils.parallel.Parallel",
            )
        ),
        *(
            (f"sklearn.{name}", "py:function", _SKLEARN_PAGE)
            for name in (
                "linear_model.lasso_path",
                "metrics.get_scorer_names",
                "metrics.pairwise.pairwise_kernels",
                "model_selection.check_cv",
            )
        ),
        ("array-like", "std:term", "glossary.html#term-array-like"),
        ("sparse matrix", "std:term", "glossary.html#term-sparse-matrix"),
        ("estimators", "std:term", "glossary.html#term-estimators"),
        ("cv splitter", "std:term", "glossary.html#term-CV-splitter"),
    ],
    "matplotlib": [
        ("matplotlib.axes.Axes", "py:class", "api/_as_gen/$.html#$"),
        ("matplotlib.axes.Axes.plot", "py:method", "api/_as_gen/$.html#$"),
        ("matplotlib.figure.Figure", "py:class", "api/_as_gen/$.html#$"),
    ],
    "pandas": [
        ("pandas.DataFrame", "py:class", "reference/api/$.html#$"),
    ],
    "dask": [
        ("dask.array.Array", "py:class", "generated/$.html#$"),
    ],
}


_PRIORITY = {"std:term": -1, "std:label": -1}
_TITLES = {"bltin-boolean-values": "Boolean Values"}


def write(project, path):
    """Write the fallback inventory of ``project`` (Sphinx inventory version 2).

    Parameters
    ----------
    project : str
        A key of :data:`PROJECTS`.
    path : pathlib.Path
        The file to write.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    lines = [
        f"{name} {role} {_PRIORITY.get(role, 1)} {uri.replace('$', name)} "
        f"{_TITLES.get(name, '-')}\n"
        for name, role, uri in OBJECTS[project]
    ]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))
    return path


def reachable(sites, timeout=3.0):
    """Which of ``sites`` answer an HTTP request for their inventory.

    The sites are probed in parallel (``HEAD <site>objects.inv``, the proxies of
    the environment honoured); any HTTP answer counts, an error status included. A
    site that has not answered after ``timeout`` seconds (plus one, for name
    resolution) counts as unreachable.

    Parameters
    ----------
    sites : list of str
        Base addresses, ending with ``/``.
    timeout : float, default=3.0
        Seconds to wait for the answers.

    Returns
    -------
    answers : dict
        ``{site: bool}``.
    """
    answers = dict.fromkeys(sites, False)

    def probe(site):
        request = urllib.request.Request(site + "objects.inv", method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        except urllib.error.HTTPError:
            pass  # the site answered
        except (OSError, ValueError):
            return
        answers[site] = True

    threads = [threading.Thread(target=probe, args=(s,), daemon=True) for s in sites]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 1.0)
    return dict(answers)


def mapping(directory, offline=False):
    """``intersphinx_mapping``: each reachable site's inventory, then the fallback.

    Parameters
    ----------
    directory : pathlib.Path
        Where the fallback inventories are written.
    offline : bool, default=False
        Do not probe the sites: every project takes its fallback only.

    Returns
    -------
    mapping : dict
        ``{project: (site, (None, fallback_path))}`` for a site that answers,
        ``{project: (site, fallback_path)}`` for one that does not.
    """
    directory = Path(directory)
    online = (
        dict.fromkeys(PROJECTS.values(), False)
        if offline
        else reachable(list(PROJECTS.values()))
    )
    result = {}
    for project, site in PROJECTS.items():
        fallback = str(write(project, directory / f"{project}.inv"))
        result[project] = (site, (None, fallback) if online[site] else fallback)
    return result
