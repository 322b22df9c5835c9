"""Early stopping: the stopping time scored on a held-out split, from one fit."""

import numpy as np
from scipy import sparse
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import _safe_split

from ._selected import path_scores

__all__ = ["early_stopping"]


def early_stopping(estimator, X, y, sample_weight):
    """Best stopping time on a held-out split: ``(n_iter, validation_score)``.

    Fits once on a ``train_test_split`` (shuffled, seeded by ``random_state``)
    and scores R^2 on the held-out part, weighted by its sample weights, after
    every step ``0, 1, ..., n_iter`` of that one fit. Ties go to fewer steps.
    """
    n_samples = X.shape[0]
    if n_samples < 3:
        raise ValueError(
            "early_stopping needs at least 3 samples (2 held out for the "
            f"validation R^2, 1 to fit); got n_samples={n_samples}."
        )
    # The validation R^2 needs 2 samples: hold out at least 2.
    n_val = int(np.ceil(estimator.validation_fraction * n_samples))
    train, val = train_test_split(
        np.arange(n_samples),
        test_size=estimator.validation_fraction if n_val >= 2 else 2,
        random_state=estimator.random_state,
    )
    if sparse.issparse(X):
        X = X.tocsr()  # row indexing
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_val, y_val = _safe_split(estimator, X, y, val, train)
    sw_train, sw_val = None, None
    if sample_weight is not None:
        sw_train, sw_val = sample_weight[train], sample_weight[val]
    fit = estimator._scaled_fit(X_train, y_train, sw_train)
    learning_rate = estimator._resolve_learning_rate(fit.lam_max, float(estimator.rho))
    start = np.zeros((val.size, y.shape[1], 1))
    scores = [path_scores(r2_score, y_val, start + fit.y_offset[:, None], sw_val)]
    for _, pred in estimator._path_prediction_chunks(
        fit.op,
        fit.y_scaled,
        fit.factor,
        estimator._test_map(X_val),
        learning_rate,
        int(estimator.n_iter),
        estimator._batch_stream(check_random_state(estimator.random_state), sw_train),
    ):
        pred += fit.y_offset[:, None]
        scores.append(path_scores(r2_score, y_val, pred, sw_val))
    scores = np.concatenate(scores)
    best = int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))
    return best, scores
