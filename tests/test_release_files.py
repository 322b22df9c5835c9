"""Release files: license, citation metadata and changelog agree with the package."""

import re
from pathlib import Path

import sksam

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_bsd_3_clause():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, sksam developers" in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in pyproject
    assert 'license-files = ["LICENSE"]' in pyproject


def test_citation_cites_the_paper_and_this_version():
    text = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^cff-version: 1\.2\.0$", text, flags=re.MULTILINE)
    version = re.search(r"^version: (\S+)$", text, flags=re.MULTILINE).group(1)
    assert version == sksam.__version__
    preferred = text.split("preferred-citation:")[1].split("references:")[0]
    for field in ("Behdin", "Kayhan", "Mazumder", "Rahul", "2302.11836", "2023"):
        assert field in preferred
    assert "2010.01412" in text.split("references:")[1]  # Foret et al., normalized SAM


def test_changelog_has_an_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    for name in sksam.__all__:
        if name != "__version__":
            assert f"`{name}`" in text, f"{name} missing from CHANGELOG.md"


def test_readme_has_no_placeholders():
    for path in (ROOT / "README.md", ROOT / "docs" / "install.rst"):
        assert "<repository URL>" not in path.read_text()
