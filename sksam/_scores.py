"""Scores of every stopping time of a path in one metric call."""

import numpy as np

from ._array_api import namespace_of, to_numpy

__all__ = ["path_scores"]


def path_scores(metric, y_true, pred, sample_weight=None):
    """``metric`` at each step of a path, averaged over targets: shape (n_steps,).

    ``pred`` has shape (n_samples, n_targets, n_steps) and ``y_true`` shape
    (n_samples, n_targets). One call of the scikit-learn ``metric`` (which must accept
    ``multioutput="raw_values"``) scores every (target, step) column, so each value
    is exactly what ``metric(y_true, pred[:, :, k])`` returns (uniform average).
    """
    n_samples, n_targets, n_steps = pred.shape
    # Arrays of another namespace (array_api_dispatch) are scored in it, on their
    # device; only the scores come to the host.
    xp = namespace_of(pred)[0] or np
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
