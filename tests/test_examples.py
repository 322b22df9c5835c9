"""Every gallery example and every Python snippet of the documentation runs.

The examples run in-process with the Agg backend in a temporary working directory
(the documentation build runs them again through sphinx-gallery). Code blocks of the
README and of the documentation pages run in order, one namespace per page, so that the
snippets users copy stay correct.
"""

import re
import runpy
import textwrap
from pathlib import Path

import matplotlib
import pytest
from threadpoolctl import threadpool_limits

matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402

import sksam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.rst"))
PAGES = [
    p for p in PAGES if not {"_build", "auto_examples", "generated"} & set(p.parts)
]


def _python_blocks(path):
    """The Python code blocks of a reStructuredText or Markdown page, in order."""
    text = path.read_text()
    if path.suffix == ".md":
        return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    blocks = re.findall(r"\.\. code-block:: python\n\n((?: {4}.*\n|\n)+)", text)
    return [textwrap.dedent(block) for block in blocks]


@pytest.fixture
def figures(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    plt.close("all")
    # The examples are small: threaded BLAS only adds contention (and a lot of it on
    # a busy machine).
    with threadpool_limits(limits=1):
        yield
    plt.close("all")


def test_examples_found():
    assert len(EXAMPLES) >= 5
    assert (ROOT / "examples" / "README.txt").exists()


@pytest.mark.slow  # a subprocess or the gallery
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_draws(path, figures):
    runpy.run_path(str(path), run_name="__main__")
    assert plt.get_fignums(), f"{path.name} produced no figure"
    lines = path.read_text().split("\n")
    assert lines[0] == '"""', "sphinx-gallery needs a docstring with a title"
    over, title, under = lines[1:4]
    assert over == under and set(over) == {"="} and len(over) >= len(title), (
        "the title's over- and underline must be at least as long as the title"
    )


@pytest.mark.slow  # a subprocess or the gallery
@pytest.mark.parametrize(
    "path", [p for p in PAGES if _python_blocks(p)], ids=lambda p: p.stem
)
def test_documentation_snippets_run(path, figures, capsys):
    namespace = {"__name__": "__main__"}
    for block in _python_blocks(path):
        exec(compile(block, str(path), "exec"), namespace)


def test_readme_quickstart_shows_what_it_prints(figures, capsys):
    """The README's quickstart prints exactly the lines its comments show."""
    block = next(b for b in _python_blocks(ROOT / "README.md") if "SAMRegressorCV" in b)
    exec(compile(block, "README.md", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out.rstrip("\n").split("\n")
    shown = [line[2:] for line in block.split("\n") if line.startswith("# ")]
    assert len(printed) == 5
    for line in printed:
        assert line in shown, f"the README does not show the printed line {line!r}"


def test_when_sam_helps_page_shows_what_its_snippet_prints(figures, capsys):
    """The page "When does SAM help?" prints what it says its code prints."""
    page = ROOT / "docs" / "user_guide" / "when_sam_helps.rst"
    namespace = {"__name__": "__main__"}
    for block in _python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)
    printed = capsys.readouterr().out.rstrip("\n").split("\n")
    text = page.read_text()
    shown = text.split("This prints::\n\n", 1)[1].split("\n\n", 1)[0]
    assert printed == [line[4:] for line in shown.split("\n")]


def test_api_reference_lists_every_public_name():
    api = (ROOT / "docs" / "api.rst").read_text()
    listed = set(re.findall(r"^ {4}(\w+)\s*$", api, flags=re.MULTILINE))
    assert set(sksam.__all__) - {"__version__"} <= listed
