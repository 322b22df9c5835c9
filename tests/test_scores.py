"""The direct path scores equal scikit-learn's metrics (issue 14)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import mean_squared_error, r2_score, root_mean_squared_error

from sksam._scores import mse_path, path_scores, r2_path

METRICS = [
    (r2_score, r2_path),
    (mean_squared_error, mse_path),
    (root_mean_squared_error, lambda y, p, w: mse_path(y, p, w, root=True)),
]


def _reference(metric, y, pred, sw):
    return np.array(
        [metric(y, pred[:, :, k], sample_weight=sw) for k in range(pred.shape[2])]
    )


@pytest.mark.parametrize("seed", range(40))
def test_direct_scores_equal_sklearn_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    n, t, k = rng.integers(2, 40), rng.integers(1, 4), rng.integers(1, 7)
    scale, shift = 10 ** rng.uniform(-3, 3), rng.uniform(-1e3, 1e3)
    y = rng.standard_normal((n, t)) * scale + shift
    noise = 10 ** rng.uniform(-8, 1) * scale
    pred = y[:, :, None] + noise * rng.standard_normal((n, t, k))
    if seed % 3 == 0:
        y[:, 0] = 2.5  # a target constant on the fold
        pred[:, 0, 0] = 2.5  # predicted perfectly at one step
    sw = rng.uniform(0.0, 3.0, n) if seed % 2 else None
    for metric, direct in METRICS:
        expected = _reference(metric, y, pred, sw)
        got = direct(y, pred, sw)
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert_allclose(path_scores(metric, y, pred, sw), expected, rtol=1e-12)
        work = pred.copy()
        assert_array_equal(path_scores(metric, y, work, sw, overwrite=True), got)


def test_r2_of_a_constant_target_follows_force_finite():
    y = np.full((5, 1), 3.0)
    pred = np.stack([y, y + 1e-3], axis=2)
    assert r2_path(y, pred).tolist() == [1.0, 0.0]
    assert [r2_score(y, pred[:, :, j]) for j in range(2)] == [1.0, 0.0]
    # Multi-output: the constant target's 1.0 / 0.0 averaged with the other.
    y2 = np.column_stack([y[:, 0], np.arange(5.0)])
    pred2 = np.stack([y2, y2 + 0.5], axis=2)
    assert_allclose(r2_path(y2, pred2), _reference(r2_score, y2, pred2, None))


def test_r2_of_one_sample_is_nan_with_sklearns_warning():
    y, pred = np.array([[1.0]]), np.ones((1, 1, 3))
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(r2_path(y, pred)).all()
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(r2_score(y, pred[:, :, 0]))
    # The mean squared error is defined on one sample.
    assert mse_path(y, pred + 2.0).tolist() == [4.0, 4.0, 4.0]


def test_diverged_candidates_score_nan_and_overflow_keeps_sklearns_inf():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((6, 2))
    pred = np.repeat(y[:, :, None], 4, axis=2) + 0.1
    pred[2, 1, 1] = np.nan
    pred[0, 0, 2] = np.inf
    pred[:, 0, 3] = 1e200  # finite, but its square overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = r2_path(y, pred)
        errors = mse_path(y, pred)
    assert np.isnan(scores[1]) and np.isnan(scores[2])
    assert np.isnan(errors[1]) and np.isnan(errors[2])
    expected = _reference(r2_score, y, pred[:, :, [0, 3]], None)
    assert_allclose(scores[[0, 3]], expected)
    assert scores[3] == -np.inf
    assert errors[3] == mean_squared_error(y, pred[:, :, 3]) == np.inf
    # In place (the CV search's work space): the same values.
    weights = np.linspace(0.5, 2.0, 6)
    for direct in (r2_path, mse_path):
        expected = direct(y, pred, weights)
        work = pred.copy()
        assert_array_equal(direct(y, work, weights, overwrite=True), expected)


def test_zero_weight_sum_raises_as_sklearn():
    y, pred = np.ones((3, 1)), np.ones((3, 1, 2))
    for metric, direct in METRICS:
        with pytest.raises(ValueError, match="at least one non-zero"):
            direct(y, pred, np.zeros(3))
        with pytest.raises((ValueError, ZeroDivisionError)):
            metric(y, pred[:, :, 0], sample_weight=np.zeros(3))
