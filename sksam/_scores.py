"""Scores of every stopping time of a path, vectorised over the steps.

R^2 and the (root) mean squared error are computed directly from the residuals of
the whole chunk of steps, with the formulas of scikit-learn's ``r2_score``,
``mean_squared_error`` and ``root_mean_squared_error`` (same operations in the same
order, so the same values to rounding); any other metric is called once on the
chunk with ``multioutput="raw_values"``.
"""

from typing import NamedTuple

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import mean_squared_error, r2_score, root_mean_squared_error

from ._array_api import array_namespace, to_numpy
from ._core._namespaces import index_array
from ._stability import squares_scale
from ._warnings import warn

__all__ = [
    "DIRECT_METRICS",
    "R2Totals",
    "mse_path",
    "path_scores",
    "r2_path",
    "r2_totals",
]


def path_scores(
    metric, y_true, pred, sample_weight=None, overwrite=False, raw=False, totals=None
):
    """``metric`` at each step of a path, averaged over targets: shape (n_steps,).

    ``pred`` has shape (n_samples, n_targets, n_steps) and ``y_true`` shape
    (n_samples, n_targets). Each value is what ``metric(y_true, pred[:, :, k],
    sample_weight=sample_weight)`` returns (uniform average over targets): R^2 and
    the (root) mean squared error directly (``r2_path``, ``mse_path``), any other
    metric (which must accept ``multioutput="raw_values"``) by one call on the
    (target, step) columns. ``overwrite``: the direct metrics may use ``pred`` as
    their work space (its values are then lost). ``raw``: the value of each
    target instead, shape (n_targets, n_steps), ``nan`` where a target's
    predictions at a step are not all finite (each column scored as if alone:
    ``metric(y_true[:, t], pred[:, t, k])``). ``totals``: R^2's ``r2_totals`` of
    these targets and weights, computed once for the chunks of a path.
    """
    # Arrays of another namespace (array_api_dispatch) are scored by the metric in
    # that namespace, on their device; only the scores come to the host.
    xp, _ = array_namespace(pred)
    if xp is np and metric in DIRECT_METRICS:
        extra = {} if totals is None or metric is not r2_score else {"totals": totals}
        return DIRECT_METRICS[metric](
            y_true, pred, sample_weight, overwrite=overwrite, raw=raw, **extra
        )
    n_samples, n_targets, n_steps = pred.shape
    if raw:
        return _raw_path_scores(xp, metric, y_true, pred, sample_weight)
    if xp is np:
        tiled = np.repeat(y_true[:, :, None], n_steps, axis=2)
    else:
        tiled = xp.broadcast_to(y_true[:, :, None], pred.shape)
    raw = metric(
        xp.reshape(tiled, (n_samples, -1)),
        xp.reshape(pred, (n_samples, -1)),
        sample_weight=sample_weight,
        multioutput="raw_values",
    )
    # A metric undefined on this fold (R^2 of one sample) returns one ``nan``.
    raw = np.asarray(to_numpy(raw), dtype=float)
    raw = np.broadcast_to(raw, (n_targets * n_steps,))
    return raw.reshape(n_targets, n_steps).mean(axis=0)


def _raw_path_scores(xp, metric, y_true, pred, sample_weight):
    """``path_scores(..., raw=True)`` by one call of ``metric`` on the finite
    (target, step) columns (scikit-learn's metrics refuse non-finite input)."""
    n_samples, n_targets, n_steps = pred.shape
    flat = xp.reshape(pred, (n_samples, n_targets * n_steps))
    finite = np.asarray(to_numpy(xp.all(xp.isfinite(flat), axis=0)))
    values = np.full(n_targets * n_steps, np.nan)
    if finite.any():
        columns = np.flatnonzero(finite)
        targets = index_array(xp, columns // n_steps, flat)
        raw = metric(
            xp.take(y_true, targets, axis=1),
            xp.take(flat, index_array(xp, columns, flat), axis=1),
            sample_weight=sample_weight,
            multioutput="raw_values",
        )
        # A metric undefined on this fold (R^2 of one sample) returns one ``nan``.
        raw = np.asarray(to_numpy(raw), dtype=float)
        values[columns] = np.broadcast_to(raw, (columns.size,))
    return values.reshape(n_targets, n_steps)


def _weights(sample_weight):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=float).reshape(-1)
    if not np.any(weights):  # as scikit-learn's metrics
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


def _squared_residuals(y_true, pred, weights, overwrite):
    """Weighted sums over samples of ``(y_true - pred)^2``: shape (n_targets, K).

    Columns with a non-finite prediction (a diverged candidate) are ``nan``; a
    finite prediction whose square overflows keeps its ``inf``, as in scikit-learn.
    ``overwrite``: the residuals are formed in ``pred`` (no new chunk-sized array:
    three times faster on a long grid).
    """
    bad_columns = None
    if overwrite:  # which columns diverged must be known before pred is lost
        with np.errstate(over="ignore", invalid="ignore"):
            bad_columns = ~np.isfinite(pred.sum(axis=0))
        if bad_columns.any():
            targets, steps = np.nonzero(bad_columns)
            finite = np.isfinite(pred[:, targets, steps]).all(axis=0)
            bad_columns[targets[finite], steps[finite]] = False
    with np.errstate(over="ignore", invalid="ignore"):
        resid = np.subtract(y_true[:, :, None], pred, out=pred if overwrite else None)
        resid *= resid
        if weights is not None:
            resid *= weights[:, None, None]
        total = resid.sum(axis=0)
    if bad_columns is not None:
        total[bad_columns] = np.nan
        return total
    bad = ~np.isfinite(total)
    if bad.any():  # rare: tell a diverged candidate from an overflow
        targets, steps = np.nonzero(bad)
        diverged = ~np.isfinite(pred[:, targets, steps]).all(axis=0)
        total[targets[diverged], steps[diverged]] = np.nan
    return total


class R2Totals(NamedTuple):
    """What R^2 takes from the targets alone: the checked weights (or ``None``),
    the power of two the targets are scaled by (1 unless their squares overflow)
    and each target's weighted total sum of squares about its mean, of the scaled
    targets (shape (n_targets, 1))."""

    weights: object
    scale: float
    denominator: np.ndarray


def r2_totals(y_true, sample_weight=None):
    """The ``R2Totals`` of targets ``y_true`` (n_samples, n_targets): computed
    once, they serve every chunk of steps of a path (``r2_path(totals=...)``)."""
    weights = _weights(sample_weight)
    # R^2 is scale-free: targets whose squares overflow (|y| near 1e154 and above)
    # are scored scaled by a power of two (exact; 1 otherwise).
    scale = squares_scale(np.max(np.abs(y_true)))
    if scale != 1.0:
        y_true = y_true * scale
    mean = np.average(y_true, axis=0, weights=weights)
    deviation = (y_true - mean) ** 2
    if weights is not None:
        deviation = weights[:, None] * deviation
    return R2Totals(weights, scale, deviation.sum(axis=0)[:, None])


def r2_path(y_true, pred, sample_weight=None, overwrite=False, raw=False, totals=None):
    """``r2_score(y_true, pred[:, :, k], sample_weight=...)`` for every ``k``.

    ``pred`` (n_samples, n_targets, n_steps), ``y_true`` (n_samples, n_targets);
    returns shape (n_steps,), the uniform average over targets. As scikit-learn
    (``force_finite=True``): a target constant on the fold scores 1.0 if predicted
    perfectly, else 0.0; fewer than two samples give ``nan`` with an
    ``UndefinedMetricWarning``. A candidate with a non-finite prediction scores
    ``nan`` (scikit-learn refuses such input). ``overwrite``: use ``pred`` as the
    work space. ``raw``: the score of each target, shape (n_targets, n_steps).
    ``totals``: the ``r2_totals`` of ``y_true`` and ``sample_weight``, if known.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1.0], [2.0], [3.0]])
    >>> pred = np.stack([y, y + 1.0], axis=2)
    >>> r2_path(y, pred).tolist()
    [1.0, -0.5]
    """
    n_samples, _, n_steps = pred.shape
    if n_samples < 2:
        warn(
            "R^2 score is not well-defined with less than two samples.",
            UndefinedMetricWarning,
        )
        return np.full((pred.shape[1], n_steps) if raw else n_steps, np.nan)
    if totals is None:
        totals = r2_totals(y_true, sample_weight)
    weights, scale, denominator = totals
    if scale != 1.0:
        y_true, pred, overwrite = y_true * scale, pred * scale, True
    numerator = _squared_residuals(y_true, pred, weights, overwrite)
    scores = np.ones_like(numerator)
    nonzero = numerator != 0
    valid = nonzero & (denominator != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores[valid] = 1 - (numerator / denominator)[valid]
    scores[nonzero & (denominator == 0)] = 0.0
    scores[np.isnan(numerator)] = np.nan
    return scores if raw else scores.mean(axis=0)


def mse_path(y_true, pred, sample_weight=None, root=False, overwrite=False, raw=False):
    """``mean_squared_error`` (``root``: ``root_mean_squared_error``) of every step.

    Shapes as in ``r2_path``; the mean over samples is weighted by
    ``sample_weight``, then (root) averaged uniformly over targets. A candidate
    with a non-finite prediction scores ``nan``. ``overwrite``, ``raw``: as in
    ``r2_path``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1.0], [2.0], [3.0]])
    >>> mse_path(y, np.stack([y, y + 2.0], axis=2)).tolist()
    [0.0, 4.0]
    """
    weights = _weights(sample_weight)
    total = _squared_residuals(y_true, pred, weights, overwrite)
    if weights is None:
        errors = total / pred.shape[0]
    else:
        errors = total / weights.sum()
    if root:
        errors = np.sqrt(errors)
    return errors if raw else errors.mean(axis=0)


def _rmse_path(y_true, pred, sample_weight=None, overwrite=False, raw=False):
    return mse_path(
        y_true, pred, sample_weight, root=True, overwrite=overwrite, raw=raw
    )


#: The metrics scored directly (the others: one call of the metric on the chunk).
DIRECT_METRICS = {
    r2_score: r2_path,
    mean_squared_error: mse_path,
    root_mean_squared_error: _rmse_path,
}
