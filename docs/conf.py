"""Sphinx configuration for the sksam documentation.

Build (warnings are errors; this also runs every example of the gallery)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from threadpoolctl import threadpool_limits

import sksam

# The gallery's problems are small: threaded BLAS only adds contention.
threadpool_limits(limits=1)

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

project = "sksam"
author = "sksam developers"
copyright = "sksam developers"
release = sksam.__version__
version = re.sub(r"(\.dev\d*|rc\d*)$", "", release)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped inside the package and copied into _static/mathjax of the
    # built site: the math renders offline (no CDN).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
mathjax_path = "mathjax/tex-chtml.js"

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc -----------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Every public class and function of sksam must carry a runnable Examples section and
# document its parameters and return values (the build runs with -W, so a missing
# section fails it). Methods inherited from scikit-learn are not ours to check.
numpydoc_validation_checks = {"EX01", "PR01", "PR02", "PR10", "RT01", "GL08"}
numpydoc_validation_exclude = {
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_\w+_request$",
    r"\.score$",
    r"\.get_metadata_routing$",
    r"\.__init__$",
    # Methods document parameters and returns, but examples live on the class.
    r"\.(fit|predict|staged_predict|decision_function|staged_decision_function|plot)$",
}

# Types in parameter lists link to their documentation (other words stay plain text).
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "array-like": ":term:`array-like <sklearn:array-like>`",
    "sparse matrix": ":term:`sparse matrix <sklearn:sparse matrix>`",
    "estimator": ":term:`estimator <sklearn:estimators>`",
    "cross-validation generator": ":term:`cross-validation generator "
    "<sklearn:cv splitter>`",
    "ndarray": "numpy.ndarray",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "dask array": "dask.array.Array",
    "Bunch": "sklearn.utils.Bunch",
    "DataFrame": "pandas.DataFrame",
    "Axes": "matplotlib.axes.Axes",
    "matplotlib Axes": "matplotlib.axes.Axes",
}

# -- intersphinx ----------------------------------------------------------------------
# Links to the documentation of the libraries sksam builds on. Where a project's
# site answers, its inventory (objects.inv) is fetched from it, with a small
# inventory written by ``intersphinx_fallback.py`` as the fallback; where it does
# not (a machine without internet access, as in CI here), Sphinx reads only that
# fallback, so the build prints no connection error. The fallback lists the objects
# these pages link to, with the same addresses as the real inventories: the links
# are the same online and offline, and an offline build passes with -W; a name
# missing from the fallback is plain text offline. The real inventories are not
# shipped: they cannot be downloaded here and they go stale. SKSAM_DOCS_OFFLINE=1
# skips the reachability probe (offline, every project takes its fallback).
import intersphinx_fallback  # noqa: E402

intersphinx_mapping = intersphinx_fallback.mapping(
    DOCS / "_build" / "intersphinx",
    offline=os.environ.get("SKSAM_DOCS_OFFLINE") == "1",
)
intersphinx_timeout = 10

# -- sphinx-gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("sksam",),
    "backreferences_dir": "gen_modules/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
    # No repr of a block's last expression (e.g. "<matplotlib.legend.Legend ...>"
    # after ax.legend()): the examples show what they print, and their figures.
    "capture_repr": (),
}

# -- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sksam {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "auto_examples/*": []}
# Gallery figures are wide: no secondary (in-page) sidebar there either, and a wider
# article column (_static/sksam.css).
html_theme_options["secondary_sidebar_items"] = {"auto_examples/*": []}
html_static_path = ["_static"]
html_css_files = ["sksam.css"]
html_show_sourcelink = False


# -- consistency checks -------------------------------------------------------------
def _check_api_reference(app):
    """Warn (an error under -W) if a public name is missing from api.rst."""
    api_text = (DOCS / "api.rst").read_text()
    listed = set(re.findall(r"^\s{4}(\w+)\s*$", api_text, flags=re.MULTILINE))
    missing = sorted(set(sksam.__all__) - listed - {"__version__"})
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "api.rst does not list the public names %s of sksam.__all__", missing
        )


def _skip_sklearn_members(app, what, name, obj, skip, options):
    """Leave out methods inherited unchanged from scikit-learn (listed in api.rst)."""
    if what == "class" and (getattr(obj, "__module__", None) or "").startswith(
        "sklearn."
    ):
        return True
    return None


# A trailing underscore makes a docutils reference: quote fitted-attribute names used
# in shapes, e.g. "ndarray of shape (n_features_in_,)", as scikit-learn's docs do.
_SHAPE_ATTRIBUTE = re.compile(
    r"(?<=[(,] )([a-z]\w*_)(?=[,)])|(?<=\()([a-z]\w*_)(?=[,)])"
)


def _quote_shape_attributes(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        lines[i] = _SHAPE_ATTRIBUTE.sub(lambda m: f"`{m.group(0)}`", line)


def setup(app):
    app.connect("autodoc-process-docstring", _quote_shape_attributes)
    app.connect("builder-inited", _check_api_reference)
    app.connect("autodoc-skip-member", _skip_sklearn_members)
