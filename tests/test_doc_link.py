"""The "?" documentation link of the HTML representation (sksam._doc_link)."""

import re
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import estimator_html_repr

import sksam
from sksam import _doc_link
from sksam._doc_link import DOCS_URL_VARIABLE, DocLinkMixin, docs_url

ROOT = Path(__file__).resolve().parents[1]


class DummyRegressor(DocLinkMixin, RegressorMixin, BaseEstimator):
    """A tiny estimator with the mixin, as if defined in a private sksam module."""

    __module__ = "sksam._dummy"

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        return self


class ForeignRegressor(DocLinkMixin, BaseEstimator):
    """Defined outside sksam: no link into sksam's documentation."""

    __module__ = "otherpackage._models"


def _links(html):
    """The targets of the "?" links of an HTML representation."""
    return re.findall(r'<a class="sk-estimator-doc-link[^>]*href="([^"]*)"', html)


@pytest.fixture
def no_local_build(monkeypatch, tmp_path):
    monkeypatch.setattr(_doc_link, "_LOCAL_BUILD", tmp_path / "no_build_here")
    monkeypatch.delenv(DOCS_URL_VARIABLE, raising=False)


def test_link_from_the_environment_variable(monkeypatch, no_local_build):
    monkeypatch.setenv(DOCS_URL_VARIABLE, "https://docs.example.org/sksam/")
    url = "https://docs.example.org/sksam/generated/sksam.DummyRegressor.html"
    assert docs_url() == "https://docs.example.org/sksam"
    assert DummyRegressor()._get_doc_link() == url
    links = _links(estimator_html_repr(DummyRegressor()))
    assert links == [url]
    assert ForeignRegressor()._get_doc_link() == ""


def test_link_to_the_local_build_of_a_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv(DOCS_URL_VARIABLE, raising=False)
    build = tmp_path / "docs" / "_build" / "html"
    build.mkdir(parents=True)
    (build / "index.html").write_text("<html></html>")
    monkeypatch.setattr(_doc_link, "_LOCAL_BUILD", build)
    expected = build.as_uri() + "/generated/sksam.DummyRegressor.html"
    assert DummyRegressor()._get_doc_link() == expected


def test_no_link_without_documentation(no_local_build):
    assert docs_url() is None
    assert DummyRegressor()._get_doc_link() == ""
    # No dead "?" link, and never one to scikit-learn's pages.
    assert _links(estimator_html_repr(DummyRegressor())) == []


def test_instance_override(no_local_build):
    est = DummyRegressor()
    est._doc_link_template = "https://example.org/{estimator_name}.html"
    assert est._get_doc_link() == "https://example.org/DummyRegressor.html"
    assert DummyRegressor()._get_doc_link() == ""  # the class is unchanged


def test_template_matches_the_api_reference_pages():
    # The pages are written by autosummary into generated/, named after the public
    # module (sksam) and the class, for every estimator of the API reference.
    api = (ROOT / "docs" / "api.rst").read_text()
    assert ".. currentmodule:: sksam" in api
    blocks = re.findall(r":toctree: generated/\n(?:\s+:.*\n)*\n((?: {4}\w+\n)+)", api)
    listed = {name.strip() for block in blocks for name in block.split()}
    estimators = {
        name
        for name in sksam.__all__
        if isinstance(getattr(sksam, name), type)
        and issubclass(getattr(sksam, name), BaseEstimator)
    }
    assert estimators and estimators <= listed
    template = DocLinkMixin._doc_link_template.fget(DummyRegressor())
    assert template == "" or template.endswith(
        "/generated/{estimator_module}.{estimator_name}.html"
    )


def test_public_estimators_link_to_their_page(monkeypatch, no_local_build):
    # The mixin is first among the bases of BaseSAM, BaseSAMCV and BaseSAMIC: every
    # public estimator links to its own API page, and its parameters are unchanged.
    import numpy as np

    monkeypatch.setenv(DOCS_URL_VARIABLE, "https://docs.example.org")
    X = np.arange(24.0).reshape(12, 2)
    for name in ("SAMRegressor", "SAMKernelRidge", "SAMRegressorCV", "SAMRegressorIC"):
        cls = getattr(sksam, name)
        assert cls.__mro__[1] is DocLinkMixin or DocLinkMixin in cls.__mro__
        est = cls()
        assert "rho" in est.get_params() or "rhos" in est.get_params()
        if name.endswith("CV"):
            est.set_params(cv=3, n_iters=[1, 2])
        est.fit(X, X[:, 0] + np.sin(X[:, 1]))
        assert _links(estimator_html_repr(est)) == [
            f"https://docs.example.org/generated/sksam.{name}.html"
        ]
