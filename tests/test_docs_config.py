"""The documentation builds offline: silent intersphinx fallback, local MathJax, no
stray output in the gallery (the build itself runs in CI with -W)."""

import ast
import importlib.util
import socket
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _fallback_module():
    path = DOCS / "intersphinx_fallback.py"
    spec = importlib.util.spec_from_file_location("intersphinx_fallback", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _conf_assignments():
    """The literal top-level assignments of docs/conf.py, without running it."""
    tree = ast.parse((DOCS / "conf.py").read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def test_offline_mapping_uses_only_the_fallback_inventories(tmp_path):
    fallback = _fallback_module()
    mapping = fallback.mapping(tmp_path, offline=True)
    assert set(mapping) == set(fallback.PROJECTS)
    for project, (site, location) in mapping.items():
        assert site == fallback.PROJECTS[project]
        # A plain path, not (None, path): Sphinx never tries the site.
        assert isinstance(location, str) and Path(location).is_file()


def test_unreachable_site_is_detected_quickly():
    fallback = _fallback_module()
    with socket.socket() as sock:  # a local port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    site = f"http://127.0.0.1:{port}/"
    tic = time.perf_counter()
    assert fallback.reachable([site], timeout=2.0) == {site: False}
    assert time.perf_counter() - tic < 3.5


def test_math_is_served_from_the_build_and_the_gallery_shows_no_reprs():
    conf = _conf_assignments()
    assert "sphinx-mathjax-offline" in conf["extensions"]
    assert conf["mathjax_path"] == "mathjax/tex-chtml.js"  # relative: _static/
    # No "<matplotlib.legend.Legend ...>" after a block ending in ax.legend().
    assert conf["sphinx_gallery_conf"]["capture_repr"] == ()
