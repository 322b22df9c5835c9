"""The script behind the user-guide page "When does SAM help?" runs (quick mode)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_when_sam_helps.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("bench_when_sam_helps", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # about 15 s
def test_every_part_runs_and_prints_its_table(study, capsys):
    study.main(["--quick"])
    out = capsys.readouterr().out
    for part in ("synthetic", "regression", "classification", "kernels"):
        assert f"== {part} (" in out
    for column in ("SAM/GD k=10", "SAM - GD", "LogisticCV - SAM", "SAM - KernelRidge"):
        assert column in out
    # The paper's ordering at one shared step, exact, in every case of the study.
    assert "in sample in 16 of 16 cases, out of sample in 16 of 16." in out
    for column in ("SAM/GD-own k=10", "SAM gain"):
        assert column in out


def test_rst_table_is_a_simple_table(study):
    table = study.rst_table(["a", "long header"], [[1, 2.5], ["xyz", ""]])
    lines = table.split("\n")
    assert lines[0] == lines[2] == lines[-1] == "===  ==========="
    assert lines[1] == "a    long header"
    assert lines[3] == "1    2.5"
    assert study.mean_se([1.0, 2.0, 3.0], 2) == "2.00 +- 0.58"
