"""Scores of every stopping time of a path in one metric call."""

import numpy as np

__all__ = ["path_scores"]


def path_scores(metric, y_true, pred, sample_weight=None):
    """``metric`` at each step of a path, averaged over targets: shape (n_steps,).

    ``pred`` has shape (n_samples, n_targets, n_steps) and ``y_true`` shape
    (n_samples, n_targets). One call of the scikit-learn ``metric`` (which must accept
    ``multioutput="raw_values"``) scores every (target, step) column, so each value
    is exactly what ``metric(y_true, pred[:, :, k])`` returns (uniform average).
    """
    n_samples, n_targets, n_steps = pred.shape
    tiled = np.repeat(y_true[:, :, None], n_steps, axis=2)
    raw = metric(
        tiled.reshape(n_samples, -1),
        pred.reshape(n_samples, -1),
        sample_weight=sample_weight,
        multioutput="raw_values",
    )
    # A metric undefined on this fold (R^2 of one sample) returns one ``nan``.
    raw = np.broadcast_to(np.asarray(raw, dtype=float), (n_targets * n_steps,))
    return raw.reshape(n_targets, n_steps).mean(axis=0)
