"""``verbose``: bounded progress on the routes whose cost grows with ``n_iter``."""

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sksam import (
    SAMClassifier,
    SAMKernelClassifier,
    SAMKernelRidge,
    SAMRegressor,
    SAMRegressorCV,
)

PROGRESS = re.compile(
    r"^\[(\w+)\] ([\w ,-]+): (\d+)/(\d+) steps \((\d+)%\), "
    r"elapsed [\d.]+ (s|min|h), remaining ~[\d.]+ (s|min|h)$"
)


def _data(n=80, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


def _progress_lines(out):
    lines = out.splitlines()
    matches = [PROGRESS.match(line) for line in lines]
    return lines, [m for m in matches if m]


ROUTES = [
    ("iterative solver", dict(solver="iterative"), 1),
    ("mini-batch loop", dict(batch_size=16, learning_rate=0.02), 1),
    # Two targets: the recursion advances every target at each step.
    ("normalized recursion", dict(variant="normalized"), 2),
]


@pytest.mark.parametrize("estimator", [SAMRegressor, SAMKernelRidge])
@pytest.mark.parametrize("route, params, n_targets", ROUTES)
def test_long_routes_report_ten_times(capsys, estimator, route, params, n_targets):
    X, y = _data()
    Y = np.column_stack([y, -y]) if n_targets == 2 else y
    n_iter = 5000
    quiet = estimator(n_iter=n_iter, random_state=0, **params).fit(X, Y)
    assert capsys.readouterr().out == ""
    loud = estimator(n_iter=n_iter, random_state=0, verbose=1, **params).fit(X, Y)
    lines, progress = _progress_lines(capsys.readouterr().out)
    assert len(lines) == len(progress) == 10
    total = n_iter
    done = [int(m.group(3)) for m in progress]
    assert done == [total * k // 10 for k in range(1, 11)]
    for m in progress:
        assert m.group(1) == estimator.__name__ and m.group(2) == route
        assert int(m.group(4)) == total
    assert progress[-1].group(5) == "100"
    # The same model, bit for bit.
    assert_array_equal(loud.predict(X), quiet.predict(X))


def test_progress_stays_bounded_for_many_steps(capsys):
    X, y = _data(n=20, d=3)
    SAMRegressor(n_iter=200_003, solver="iterative", verbose=2).fit(X, y)
    lines, progress = _progress_lines(capsys.readouterr().out)
    assert len(lines) == len(progress) == 10
    assert progress[-1].group(3) == progress[-1].group(4) == "200003"


def test_spectral_filter_prints_one_line(capsys):
    X, y = _data()
    SAMRegressor(n_iter=10**6, solver="spectral").fit(X, y)
    assert capsys.readouterr().out == ""
    SAMRegressor(n_iter=10**6, solver="spectral", verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "[SAMRegressor] spectral solver: n_iter=1000000 from one decomposition"
    )


def test_early_stopping_reports_its_scoring_then_the_refit(capsys):
    X, y = _data(n=120)
    model = SAMRegressor(
        n_iter=20_000, early_stopping=True, random_state=0, verbose=1
    ).fit(X, y)
    lines, progress = _progress_lines(capsys.readouterr().out)
    assert 1 <= len(progress) <= 10
    assert {m.group(2) for m in progress} == {"early stopping, scoring every step"}
    assert progress[-1].group(3) == progress[-1].group(4) == "20000"
    assert lines[-1].startswith(
        f"[SAMRegressor] spectral solver: n_iter={model.n_iter_} "
    )
    assert len(lines) == len(progress) + 1


@pytest.mark.parametrize("classifier", [SAMClassifier, SAMKernelClassifier])
def test_classifiers_take_verbose(capsys, classifier):
    X, y = _data()
    labels = (y > 0).astype(int)
    classifier(n_iter=300, solver="iterative", verbose=1).fit(X, labels)
    lines, progress = _progress_lines(capsys.readouterr().out)
    assert len(lines) == len(progress) == 10
    assert progress[0].group(1) == classifier.__name__


def test_search_estimators_keep_their_inner_models_quiet(capsys):
    X, y = _data()
    model = SAMRegressorCV(n_iters=[1, 10, 100], rhos=[0.0, 0.5], cv=3).fit(X, y)
    assert capsys.readouterr().out == ""
    assert model.best_estimator_.verbose == 0
    SAMRegressorCV(n_iters=[1, 10, 100], rhos=[0.0, 0.5], cv=3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.startswith("Fitting 3 folds for each of 6 candidates")
    assert "spectral solver" not in out and "steps (" not in out
