"""Cross-validated search over ``(n_iter, rho)`` for the SAM estimators.

The machinery of ``SAMRegressorCV`` and ``SAMKernelRidgeCV`` (``_selection.py``).
Every ``(n_iter, rho)`` pair of the grid is scored on each split from one
eigendecomposition of that split's training data: ``rho`` and ``n_iter`` only change
the spectral filter (DESIGN.md section 1), so a split costs about one fit, where
``GridSearchCV`` refits every candidate. The scores, the ranking and the refit are
those of ``GridSearchCV`` over the same estimator, grid, splits and scorer.
"""

import warnings
from inspect import signature
from numbers import Integral

import numpy as np
import sklearn
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    check_scoring,
    explained_variance_score,
    get_scorer_names,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.fixes import parse_version
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, indexable

from ._base import BaseSAM
from ._core._spectral import coef_path, dof_path, rss_path
from ._dask import dask_gcv_inputs, dask_split_scores, reduces_dask
from ._path import check_n_iters
from ._selected import SelectedModelMixin, path_scores

__all__ = ["DEFAULT_N_ITERS", "BaseSAMCV"]

#: Default stopping-time grid: the 50 distinct integers from 1 to 1000 that round
#: ``np.geomspace(1, 1000, 61)`` (every step up to 10, then about 12% apart).
DEFAULT_N_ITERS = np.unique(np.rint(np.geomspace(1, 1000, 61)).astype(np.int64))

# Scorers whose value on every grid point of a split is computed by one vectorised
# call of the same metric (identical to calling the scorer on each fitted model).
_VECTORISED_SCORERS = {
    None: (r2_score, 1.0),  # the estimator's ``score``
    "r2": (r2_score, 1.0),
    "explained_variance": (explained_variance_score, 1.0),
    "neg_mean_squared_error": (mean_squared_error, -1.0),
    "neg_root_mean_squared_error": (root_mean_squared_error, -1.0),
    "neg_mean_absolute_error": (mean_absolute_error, -1.0),
}


def _check_rhos(rhos):
    values = np.asarray(rhos, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"rhos must be a non-empty 1-D array; got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"rhos must be finite and non-negative; got {values!r}.")
    return values


def _score_point(scorer, estimator, X_test, y_test, score_params):
    """The scorer on one fitted grid point; ``nan`` (and a warning) if it fails."""
    try:
        return float(scorer(estimator, X_test, y_test, **score_params))
    except Exception as exc:  # as GridSearchCV with error_score=np.nan
        warnings.warn(
            f"Scoring failed; the score of n_iter={estimator.n_iter}, "
            f"rho={estimator.rho} on this split is set to nan. Details: {exc!r}",
            UserWarning,
            stacklevel=2,
        )
        return np.nan


def _split_scores(estimator, X, y, train, test, fit_params, score_params, grid):
    """Scores of every grid point on one split, from one decomposition.

    ``grid = (n_iters, rhos, scorer, vectorised)``; returns shape (n_iters, n_rhos).
    The models are those ``estimator.set_params(n_iter=k, rho=r).fit`` on the training
    part would give; non-finite (diverged) ones score ``nan``, as failed fits do in
    ``GridSearchCV``.
    """
    n_iters, rhos, scorer, vectorised = grid
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    fit_params = _check_method_params(X, params=fit_params, indices=train)
    score_params = _check_method_params(X, params=score_params, indices=test)
    X_train, y_fit, sw = estimator._validate_fit_data(
        X_train, y_train, fit_params.get("sample_weight")
    )
    fit = estimator._scaled_fit(X_train, y_fit, sw, solver="spectral")
    score_weight = score_params.get("sample_weight")
    if set(score_params) - {"sample_weight"} or X_train.dtype != np.float64:
        vectorised = None
    if vectorised is not None:
        test_map = estimator._test_map(estimator._validate_predict_input(X_test))
        y_true = np.asarray(y_test, dtype=float).reshape(len(test), -1)
    scores = np.full((n_iters.size, rhos.size), np.nan)
    for j, rho in enumerate(rhos):
        estimator.set_params(rho=rho)
        learning_rate = estimator._resolve_learning_rate(fit.lam_max, rho)
        with np.errstate(over="ignore", invalid="ignore"):
            coefs = coef_path(
                fit.factor, learning_rate, rho, n_iters, estimator.variant
            )
        finite = np.flatnonzero(np.isfinite(coefs).all(axis=(0, 1)))
        if vectorised is not None:
            metric, sign = vectorised
            with np.errstate(over="ignore", invalid="ignore"):
                flat = coefs[:, :, finite].reshape(coefs.shape[0], -1)
                pred = test_map(flat).reshape(len(test), y_true.shape[1], -1)
                pred += fit.y_offset[:, None]
            ok = np.isfinite(pred).all(axis=(0, 1))
            values = path_scores(metric, y_true, pred[:, :, ok], score_weight)
            scores[finite[ok], j] = sign * values
            continue
        estimator.learning_rate_, estimator.solver_ = learning_rate, "spectral"
        estimator._y_offset, estimator.validation_score_ = fit.y_offset, None
        estimator._path_state = (fit.op, fit.y_scaled, fit.factor)
        for i in finite:
            estimator._store_solution(
                coefs[:, :, i], X_train, fit.sw, fit.sqrt_sw, fit.y_offset
            )
            estimator.n_iter = estimator.n_iter_ = int(n_iters[i])
            scores[i, j] = _score_point(scorer, estimator, X_test, y_test, score_params)
    return scores


def _gcv_scores(estimator, X, y, sample_weight, n_iters, rhos):
    """Minus the generalized cross-validation criterion, shape (n_iters, n_rhos).

    ``GCV_k = (RSS_k / S) / (1 - dof_k / S)^2`` with the weighted training residual
    sum of squares and ``dof_k = trace`` of the smoother (+1 with an intercept),
    averaged over targets; ``dof_k >= S`` gives ``GCV = inf``.
    """
    if reduces_dask(estimator, X, y, sample_weight):
        fit, total, y_sq_norm = dask_gcv_inputs(estimator, X, y, sample_weight)
    else:
        X, y, sw = estimator._validate_fit_data(X, y, sample_weight)
        fit = estimator._scaled_fit(X, y, sw, solver="spectral")
        total = float(fit.sw.sum())
        y_sq_norm = np.sum(fit.y_scaled**2, axis=0)
    scores = np.empty((n_iters.size, rhos.size))
    for j, rho in enumerate(rhos):
        learning_rate = estimator._resolve_learning_rate(fit.lam_max, rho)
        with np.errstate(over="ignore", invalid="ignore"):
            rss = rss_path(
                fit.factor,
                learning_rate,
                rho,
                n_iters,
                y_sq_norm=y_sq_norm,
                sum_weights=total,
            )
            dof = dof_path(fit.factor, learning_rate, rho, n_iters)
            dof = dof + float(estimator.fit_intercept)
            gcv = (rss / total) / (1.0 - dof / total) ** 2
        scores[:, j] = -np.where(dof < total, gcv, np.inf).mean(axis=0)
    return scores


def _search_results(split_scores, n_iters, rhos):
    """``cv_results_`` in the layout and candidate order of ``GridSearchCV``.

    ``split_scores`` has shape (n_iters, n_rhos, n_splits). Candidates run over
    ``ParameterGrid({"n_iter": n_iters, "rho": rhos})``: ``n_iter`` outer, ``rho``
    inner, each in the order given.
    """
    n_candidates = n_iters.size * rhos.size
    scores = split_scores.reshape(n_candidates, -1)
    params = [{"n_iter": int(k), "rho": float(r)} for k in n_iters for r in rhos]
    results = {
        "param_n_iter": np.ma.MaskedArray(np.repeat(n_iters, rhos.size), mask=False),
        "param_rho": np.ma.MaskedArray(np.tile(rhos, n_iters.size), mask=False),
        "params": params,
    }
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    means = np.average(scores, axis=1)
    results["mean_test_score"] = means
    results["std_test_score"] = np.sqrt(
        np.average((scores - means[:, None]) ** 2, axis=1)
    )
    if np.isnan(means).all():
        raise ValueError(
            "Every (n_iter, rho) candidate failed (non-finite coefficients or "
            "scores); use learning_rate='auto' or a smaller learning_rate."
        )
    if not np.all(np.isfinite(means)):
        warnings.warn(
            f"One or more of the test scores are non-finite: {means}",
            UserWarning,
            stacklevel=3,
        )
    # GridSearchCV ranks nan means below the worst finite one.
    ranked = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
    return results


class BaseSAMCV(SelectedModelMixin, BaseEstimator):
    """Shared fit of the SAM cross-validation estimators (see ``SAMRegressorCV``)."""

    _parameter_constraints: dict = {
        "n_iters": ["array-like", None],
        "rhos": ["array-like"],
        "cv": ["cv_object", StrOptions({"gcv"})],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "store_cv_results": ["boolean"],
        **{
            name: BaseSAM._parameter_constraints[name]
            for name in ("learning_rate", "variant", "fit_intercept")
        },
    }

    def fit(self, X, y, sample_weight=None, **params):
        """Score every ``(n_iter, rho)``, select the best, refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (the square training kernel for ``kernel="precomputed"``).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training loss, passed (restricted to the training part)
            to every fit, and to the final refit. The validation scores use the
            validation part's weights exactly when ``GridSearchCV`` would: without
            metadata routing, scikit-learn >= 1.7 passes them to any scorer that
            accepts ``sample_weight`` (``scoring=None``, the built-in scorers, a
            callable with that argument; otherwise a ``UserWarning``) and 1.6 to
            none; with routing enabled, to a scorer that requests them.
            ``cv="gcv"`` always uses the weights.
        **params : dict
            ``groups`` for group splitters (as in ``GridSearchCV.fit``); with
            metadata routing enabled, any metadata requested by the splitter or
            the scorer.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        n_iters = DEFAULT_N_ITERS if self.n_iters is None else self.n_iters
        n_iters, rhos = check_n_iters(n_iters), _check_rhos(self.rhos)
        estimator = self._make_estimator().set_params(
            n_iter=int(n_iters.max()), rho=float(rhos[0])
        )
        if estimator.__sklearn_tags__().input_tags.pairwise:
            # Splits index rows and columns of the kernel: check it is one first.
            X, y = clone(estimator)._validate_fit_input(X, y)
        if isinstance(self.cv, str):
            if self.variant == "normalized":
                raise ValueError(
                    "cv='gcv' needs the smoother matrix of unnormalized SAM; "
                    "normalized SAM is not linear in y. Use variant='unnormalized' "
                    "or a cross-validation splitter."
                )
            if self.scoring is not None:
                raise ValueError("scoring must be None with cv='gcv'.")
            _raise_for_params(params, self, "fit")
            split_scores = _gcv_scores(
                clone(estimator), X, y, sample_weight, n_iters, rhos
            )[:, :, None]
        else:
            split_scores = self._cv_scores(
                estimator, X, y, sample_weight, params, (n_iters, rhos)
            )
        results = _search_results(split_scores, n_iters, rhos)
        if isinstance(self.cv, str):
            for key in ("split0_test_score", "std_test_score"):
                del results[key]
        best = int(results["rank_test_score"].argmin())
        self.n_iter_ = results["params"][best]["n_iter"]
        self.rho_ = results["params"][best]["rho"]
        self.best_score_ = float(results["mean_test_score"][best])
        if self.store_cv_results:
            self.cv_results_ = results
        self.best_estimator_ = estimator.set_params(n_iter=self.n_iter_, rho=self.rho_)
        self.best_estimator_.fit(X, y, sample_weight=sample_weight)
        return self._expose_selected(self.best_estimator_)

    def _cv_scores(self, estimator, X, y, sample_weight, params, grid):
        """Split scores of shape (n_iters, n_rhos, n_splits)."""
        X, y = indexable(X, y)
        if sample_weight is not None:
            params = {**params, "sample_weight": sample_weight}
        scorer = check_scoring(estimator, scoring=self.scoring)
        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            extra = set(params) - {"groups", "sample_weight"}
            _raise_for_params({key: params[key] for key in extra}, self, "fit")
            split_params, score_params = {"groups": params.get("groups")}, {}
            if sample_weight is not None and self._scorer_takes_weights(scorer):
                score_params = {"sample_weight": sample_weight}
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        cv = check_cv(self.cv, y, classifier=False)
        vectorised = (
            _VECTORISED_SCORERS.get(self.scoring)
            if (self.scoring is None or isinstance(self.scoring, str))
            else None
        )
        grid = (*grid, scorer, vectorised)
        if reduces_dask(estimator, X, y, sample_weight):
            # All folds in one pass of dask, scored from their moments (_dask.py).
            splits = cv.split(X, y, **split_params)
            return dask_split_scores(
                estimator, X, y, splits, sample_weight, score_params, grid
            )
        scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_split_scores)(
                clone(estimator), X, y, train, test, fit_params, score_params, grid
            )
            for train, test in cv.split(X, y, **split_params)
        )
        return np.stack(scores, axis=-1)

    def _scorer_takes_weights(self, scorer):
        """Whether ``GridSearchCV`` would pass ``sample_weight`` to ``scorer``.

        Without metadata routing, scikit-learn >= 1.7 forwards it whenever the
        scorer accepts it (and warns otherwise); 1.6 never does.
        """
        if parse_version(sklearn.__version__).release < (1, 7):
            return False
        if hasattr(scorer, "_accept_sample_weight"):
            accept = scorer._accept_sample_weight()
        else:
            accept = "sample_weight" in signature(scorer).parameters
        if not accept:
            warnings.warn(
                f"The scoring {scorer} does not support sample_weight, which may "
                f"lead to statistically incorrect results when fitting {self} with "
                "sample_weight.",
                UserWarning,
                stacklevel=4,
            )
        return accept

    def get_metadata_routing(self):
        """Metadata routing of this object (sample weights, splitter, scorer).

        Returns
        -------
        routing : MetadataRouter
            The routing information.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        router.add(
            scorer=check_scoring(self._make_estimator(), scoring=self.scoring),
            method_mapping=MethodMapping().add(caller="fit", callee="score"),
        )
        if not isinstance(self.cv, str):
            router.add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router
