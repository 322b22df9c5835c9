"""The dependency floors agree: pyproject.toml, the CI constraints and the docs.

``.ci/min-constraints.txt`` pins the lowest supported versions that the second CI
stage installs. These tests keep it from drifting away from ``pyproject.toml``'s
floors, and keep the floors stated in the README and the installation page equal to
those of ``pyproject.toml``.
"""

import os
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "min-constraints.txt"
DOCS = [ROOT / "README.md", ROOT / "docs" / "install.rst"]

pytestmark = pytest.mark.skipif(
    not (PYPROJECT.exists() and CONSTRAINTS.exists()),
    reason="needs a checkout (pyproject.toml and .ci/min-constraints.txt)",
)


def _project():
    return tomllib.loads(PYPROJECT.read_text())["project"]


def _floors():
    """{name: (requirement, floor Version)} of the runtime dependencies."""
    floors = {}
    for line in _project()["dependencies"]:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == ">=", (
            f"{line!r}: a runtime dependency is declared by its floor alone (>=)"
        )
        assert req.marker is None and not req.extras, line
        floors[canonicalize_name(req.name)] = (req, Version(specs[0].version))
    return floors


def _python_floor():
    spec = _project()["requires-python"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)", spec)
    assert match, f"requires-python {spec!r} is a floor alone (>=X.Y)"
    return match.group(1)


def _pins():
    """[(name, Version, Marker or None)] of the constraints file."""
    pins = []
    for raw in CONSTRAINTS.read_text().splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"{raw!r}: the constraints pin exact versions (==)"
        )
        name, version = canonicalize_name(req.name), Version(specs[0].version)
        pins.append((name, version, req.marker))
    return pins


def _optional_requirements():
    """The requirements of the extras on other packages (not sksam itself)."""
    for lines in _project()["optional-dependencies"].values():
        for line in lines:
            req = Requirement(line)
            if canonicalize_name(req.name) != "sksam":
                yield req


def test_every_runtime_dependency_is_pinned_at_its_floor():
    pins = _pins()
    for name, (req, floor) in _floors().items():
        pinned = [(version, marker) for pin, version, marker in pins if pin == name]
        assert len(pinned) == 1, f"{name}: pin it once in {CONSTRAINTS.name}"
        version, marker = pinned[0]
        assert marker is None, f"{name}: a runtime floor holds on every Python"
        # numpy>=1.23 is pinned to a numpy 1.23.x: the floor's release series, so
        # raising a floor without moving the pin (or the converse) fails here.
        assert version in req.specifier, f"{name}=={version} is below {req}"
        series = version.release[: len(floor.release)]
        assert series == floor.release, (
            f"{name}=={version} is not in the release series of the floor {floor}"
        )


def test_every_optional_pin_satisfies_the_extras():
    pins = _pins()
    for req in _optional_requirements():
        for name, version, _ in pins:
            if name == canonicalize_name(req.name):
                assert version in req.specifier, f"{name}=={version} violates {req}"


def test_pins_are_unique_per_python():
    # Several pins of one package are allowed only under disjoint markers.
    for python in ("3.10", "3.11", "3.12", "3.13", "3.14"):
        env = {"python_version": python, "python_full_version": f"{python}.0"}
        names = [
            name
            for name, _, marker in _pins()
            if marker is None or marker.evaluate(env)
        ]
        duplicated = {name for name in names if names.count(name) > 1}
        assert not duplicated, f"pinned twice on Python {python}: {duplicated}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_the_docs_state_the_floors(page):
    text = " ".join(page.read_text().split())  # one line: wrapping does not matter
    stated = [f"Python >= {_python_floor()}"]
    stated += [f"{req.name} >= {floor}" for req, floor in _floors().values()]
    for floor in stated:
        assert floor in text, f"{page.name} does not state {floor!r}"
    assert ".ci/min-constraints.txt" in text


@pytest.mark.skipif(
    not os.environ.get("SKSAM_EXPECT_MIN_DEPS"),
    reason="only in the lowest-versions CI stage (SKSAM_EXPECT_MIN_DEPS=1)",
)
def test_the_lowest_versions_are_the_ones_installed():
    for name, version, marker in _pins():
        if marker is None or marker.evaluate():
            assert Version(metadata.version(name)) == version, name
