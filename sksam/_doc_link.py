"""The "?" link of the estimators' HTML representation to their API page.

scikit-learn's HTML representation (``estimator._repr_html_()``, what notebooks show)
draws a "?" that links to the estimator's documentation when the estimator has
``_get_doc_link``; it builds the URL from three class attributes,
``_doc_link_module``, ``_doc_link_template`` and ``_doc_link_url_param_generator``
(``sklearn.utils._repr_html.base._HTMLDocumentationLinkMixin``). :class:`DocLinkMixin`
sets them for sksam: the link goes to the page that ``docs/api.rst`` generates for the
class, ``<root>/generated/sksam.<ClassName>.html``.

The root of the documentation, :func:`docs_url`, is, in this order:

1. the environment variable ``SKSAM_DOCS_URL`` (e.g. the address of a hosted copy of
   the documentation, or ``file:///path/to/html``), read when the link is drawn;
2. the local build of a checkout, ``docs/_build/html`` next to this package (the
   README's ``python -m sphinx ... docs docs/_build/html``), when it exists.

Otherwise there is no documentation to point to and no "?" link is drawn (the link
is the empty string, which scikit-learn's representation leaves out).
"""

import os
from pathlib import Path

__all__ = ["DOCS_URL_VARIABLE", "DocLinkMixin", "docs_url"]

#: Environment variable holding the root URL of the HTML documentation.
DOCS_URL_VARIABLE = "SKSAM_DOCS_URL"

# Where the README's documentation command writes the HTML pages of a checkout.
_LOCAL_BUILD = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"


def docs_url():
    """Root URL of the sksam HTML documentation, or ``None`` when none is known.

    Returns
    -------
    url : str or None
        ``$SKSAM_DOCS_URL`` without a trailing slash when set, else the ``file://``
        URL of the local build ``docs/_build/html`` of a checkout when it exists,
        else ``None``.
    """
    url = os.environ.get(DOCS_URL_VARIABLE, "").strip()
    if url:
        return url.rstrip("/")
    if (_LOCAL_BUILD / "index.html").is_file():
        return _LOCAL_BUILD.as_uri()
    return None


class DocLinkMixin:
    """Link an estimator's HTML representation to its page of the API reference.

    Put it first among the bases of an estimator class (before scikit-learn's
    ``BaseEstimator``, whose defaults point to scikit-learn's site). The page is
    ``{docs_url()}/generated/{estimator_module}.{estimator_name}.html``, where
    ``estimator_module`` is the public part of the class's module (``sksam`` for
    ``sksam._linear``) as scikit-learn computes it; without a known documentation
    root the link is empty and no "?" is drawn.
    """

    _doc_link_module = "sksam"
    _doc_link_url_param_generator = None

    @property
    def _doc_link_template(self):
        # An instance may override the template, as with scikit-learn's mixin.
        template = self.__dict__.get("_DocLinkMixin__template")
        if template is not None:
            return template
        root = docs_url()
        if root is None:
            return ""
        return root + "/generated/{estimator_module}.{estimator_name}.html"

    @_doc_link_template.setter
    def _doc_link_template(self, value):
        self.__dict__["_DocLinkMixin__template"] = value
