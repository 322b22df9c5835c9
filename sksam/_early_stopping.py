"""Early stopping: the stopping time scored on a held-out split, from one fit."""

import numpy as np
from scipy import sparse
from sklearn.model_selection import train_test_split
from sklearn.utils.metaestimators import _safe_split

__all__ = ["early_stopping"]


def early_stopping(estimator, data, rho):
    """Best stopping time on a held-out split: ``(n_iter, validation_score)``.

    Fits once on a ``train_test_split`` (shuffled, seeded by ``random_state``)
    and scores the estimator's default score path (``_score_path(None)``:
    R^2 for a regressor, accuracy for a classifier) on the held-out part, weighted
    by its sample weights, after every step ``0, 1, ..., n_iter`` of that one fit.
    Ties go to fewer steps. ``rho`` is the absolute radius (that of the refit on
    all the data).
    """
    X, y, sample_weight = data.X, data.y, data.sample_weight
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
    problem = estimator._build_problem(X_train, y_train, sw_train)
    n_iter = int(estimator.n_iter)
    run = estimator._plan_run(problem, n_iter, rho=rho)
    offset = problem.y_offset[:, None]
    # y_val holds rows of the encoded targets (a classifier's indicators).
    score = estimator._score_path(None).bind(y_val, sw_val, data, encoded=True)
    start = np.zeros((val.size, y.shape[1], 1))
    scores = [score(start + offset)]
    test_map = problem.test_map(estimator._test_features(X_val, X_train))
    progress = run.progress(n_iter, "early stopping, scoring every step")
    # A diverging run (past its ConvergenceWarning) scores nan from where its
    # predictions stop being finite, and nan ranks last.
    with np.errstate(over="ignore", invalid="ignore"):
        for steps, pred in run.prediction_chunks(test_map, n_iter):
            pred += offset
            scores.append(score(pred))
            if progress is not None:
                progress.update(int(steps[-1]))
    scores = np.concatenate(scores)
    best = int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))
    return best, scores
