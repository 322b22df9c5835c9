"""SAMRegressorCV and SAMKernelRidgeCV: stopping time and rho by cross-validation.

Every ``(n_iter, rho)`` pair of the grid is scored on each split from one
decomposition of that split's training part (``_split_scores``); the scores, the
ranking and the refit are those of ``GridSearchCV`` over the same estimator, grid,
splits and scorer.
"""

import time
from inspect import signature
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin, clone, is_classifier
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.fixes import parse_version
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples, indexable

from .._core._variants import get_variant
from .._doc_link import DocLinkMixin
from .._kernel import NYSTROEM_ATTRIBUTES, SAMKernelRidge
from .._linear import SAMRegressor
from .._param_docs import NYSTROEM_ATTRIBUTES_DOC, NYSTROEM_DOC
from .._params import KERNEL_CONSTRAINTS, SAM_CONSTRAINTS
from .._validation import Splits, like_input, takes_dask_route, to_numpy
from .._warnings import warn
from ._cv_scores import SplitGrid, SplitScores
from ._dask_scores import dask_fold_pass, dask_split_scores
from ._dof_guard import MAX_DOF_FRACTION, guard, warn_guarded
from ._gcv import (
    check_target_squares,
    gcv_n_obs,
    gcv_pick,
    gcv_scores,
    gcv_target_scores,
)
from ._multimetric import (
    MULTIMETRIC_TYPES,
    MultimetricScorer,
    MultiScoring,
    check_gcv_scoring,
    check_refit,
    multimetric_results,
    resolve_scoring,
    select_best_index,
    split_score_dicts,
)
from ._per_target import (
    PER_TARGET_CV_DOC,
    best_indices,
    check_per_target_search,
    gcv_target_pick,
    selects_per_target,
    set_target_selection,
    target_guard,
    target_results,
    warn_target_guarded,
)
from ._search import (
    N_ITER_AT_EDGE_DOC,
    RHO_AT_EDGE_DOC,
    SelectedModelMixin,
    grid_edge,
    resolve_grid,
    rho_edge,
    search_results,
)
from ._split_scores import split_scores

__all__ = ["BaseSAMCV", "SAMKernelRidgeCV", "SAMRegressorCV"]


class _SplitSetup(NamedTuple):
    """The splits of a search and how each is fitted and scored (``X``, ``y``
    made indexable)."""

    X: object
    y: object
    splits: list
    scorer: object
    scoring: object
    fit_params: dict
    score_params: dict
    min_test: object
    zero_weight: list


def _best_score(scores):
    """The best score of a split, for ``verbose`` (several metrics: each's)."""
    if isinstance(scores, dict):
        return ", ".join(f"{name} {_best_score(v)}" for name, v in scores.items())
    return f"{np.nanmax(scores, initial=-np.inf):.3g}"


def _zero_weight_folds(score_weight, tests):
    """The indices of the test folds whose scorer weights are all zero."""
    if score_weight is None or takes_dask_route(score_weight):
        return []
    weights = np.asarray(to_numpy(score_weight), dtype=float).reshape(-1)
    return [i for i, test in enumerate(tests) if not np.any(weights[test])]


class BaseSAMCV(DocLinkMixin, SelectedModelMixin, BaseEstimator):
    """Shared fit of the SAM cross-validation estimators (see ``SAMRegressorCV``).

    Neither a regressor nor a classifier: the concrete searches add
    ``RegressorMixin`` or ``ClassifierMixin``. Which scorings are scored for a
    whole path at once is the estimator's (its ``_score_path``).
    """

    _parameter_constraints: dict = {
        "n_iters": ["array-like", None],
        "rhos": ["array-like", None],
        "relative_rho": ["boolean"],
        "verbose": ["verbose"],
        "cv": ["cv_object", StrOptions({"gcv"})],
        "scoring": [
            StrOptions(set(get_scorer_names())),
            callable,
            list,
            tuple,
            set,
            dict,
            None,
        ],
        "refit": ["boolean", str, callable],
        "max_dof_fraction": [Interval(Real, 0, 1, closed="right"), None],
        "n_jobs": [Integral, None],
        "store_cv_results": ["boolean", Hidden(StrOptions({"deprecated"}))],
        **{
            name: SAM_CONSTRAINTS[name]
            for name in ("learning_rate", "variant", "fit_intercept")
        },
    }

    def fit(self, X, y, sample_weight=None, **params):
        """Score every ``(n_iter, rho)``, select the best, refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data (the square training kernel for ``kernel="precomputed"``).
            A row-chunked ``dask.array`` (linear models; ``y`` and
            ``sample_weight`` may be dask arrays too) is read in one pass that
            reduces the moments of all the rows and of every split (each fold's
            training problem is the total minus its fold), scored from the test
            moments (squared-error scorings) or, for the classifier's accuracy,
            in one more pass over the test rows; the refit reuses the total.
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
        if self.store_cv_results != "deprecated":
            warn(
                "store_cv_results is deprecated in 0.1 and will be removed in 0.2: "
                "cv_results_ is always set. Leave store_cv_results unset.",
                FutureWarning,
            )
        if isinstance(sample_weight, Real):
            # A scalar weight, as the estimators accept it; the scorers need an
            # array (one weight per sample).
            sample_weight = np.full(_num_samples(X), float(sample_weight))
        estimator = self._make_estimator()
        y = self._search_targets(y)
        data = estimator._validate_fit_data(X, y, sample_weight)
        if estimator.__sklearn_tags__().input_tags.pairwise:
            X = data.X  # splits index rows and columns of the (checked) kernel
        if selects_per_target(self, data.y.shape[1]):
            check_per_target_search(self)
        setup = folds = None
        if not isinstance(self.cv, str):
            setup = self._split_setup(estimator, X, y, sample_weight, params)
            if estimator._reduces_dask(X, y, sample_weight):
                # One pass of dask: all the rows (grid, refit) and every split.
                folds = dask_fold_pass(
                    estimator, data, setup.splits, setup.score_params, setup.scoring
                )
        if folds is not None:
            problem = folds.problem
        else:
            problem = estimator._build_problem(data.X, data.y, data.sample_weight)
        grid = resolve_grid(
            self.n_iters,
            self.rhos,
            self.relative_rho,
            problem,
            self.learning_rate,
            self.variant,
        )
        n_iters, rhos = grid.n_iters, grid.rhos
        estimator.set_params(n_iter=int(n_iters.max()), rho=float(rhos[0]))
        if isinstance(self.cv, str):
            variant = get_variant(self.variant)
            if not (variant.linear_in_y and variant.has_filter):
                raise ValueError(
                    f"cv='gcv' needs the exact smoother matrix of a variant linear "
                    f"in y; the SAM variant {variant!r} has none (normalized SAM "
                    "is not linear in y). Use variant='unnormalized' or a "
                    "cross-validation splitter."
                )
            check_gcv_scoring(self.scoring)
            if self.scoring is not None:
                raise ValueError("scoring must be None with cv='gcv'.")
            _raise_for_params(params, self, "fit")
            check_target_squares(problem, "cv='gcv'")
            n_obs = gcv_n_obs(problem)
            if self.verbose > 0:
                print(
                    f"Scoring {n_iters.size * rhos.size} candidates by GCV "
                    "(one decomposition of all the data)"
                )
            per_target = selects_per_target(self, problem.n_targets)
            score, pick = (
                (gcv_target_scores, gcv_target_pick)
                if per_target
                else (gcv_scores, gcv_pick)
            )
            scores, dof, diverged = score(
                problem, n_iters, rhos, self._gcv_plan(estimator), n_obs
            )
            pickable = pick(scores, dof, diverged, n_obs, problem.n_samples)
            if self.verbose > 1:
                for j, rho in enumerate(rhos):
                    print(
                        f"[GCV rho {j + 1}/{rhos.size}] rho={rho:.4g}; best score "
                        f"{np.nanmax(scores[:, j], initial=-np.inf):.3g}"
                    )
            results = (target_results if per_target else search_results)(
                scores[..., None], n_iters, rhos, pickable=pickable
            )
            for key in ("split0_test_score", "std_test_score"):
                del results[key]
            self.scorer_, self.n_splits_ = None, None
            self.multimetric_, guarded = False, None
        else:
            split = self._cv_scores(estimator, setup, (n_iters, rhos), data, folds)
            per_target = selects_per_target(self, problem.n_targets)
            results, guarded = self._cv_results(split, n_iters, rhos, setup, per_target)
        if per_target:  # each target its own pick (_per_target)
            best = best_indices(results)
            if guarded is not None:
                warn_target_guarded(
                    results, guarded, best, split.dof, self.max_dof_fraction
                )
            self.cv_results_ = results
            self.multimetric_ = False
            return set_target_selection(
                self,
                estimator,
                data,
                problem,
                grid,
                best,
                results["mean_test_score"][best, np.arange(best.size)],
            )
        self.n_iters_ = like_input(n_iters, data.X)
        self.rhos_ = like_input(rhos, data.X)
        self.rho_unit_ = grid.rho_unit
        self.cv_results_ = results
        self._forget_selection()
        if self.multimetric_ and self.refit is False:
            return self  # no selection, as GridSearchCV: cv_results_ only
        refit_metric = self.refit if self.multimetric_ else "score"
        best = select_best_index(self.refit, refit_metric, results)
        if guarded is not None:
            warn_guarded(results, guarded, best, split.dof, self.max_dof_fraction)
        params = results["params"][best]
        self.best_index_ = best
        self.best_params_ = dict(params)
        if not callable(self.refit):
            self.best_score_ = float(results[f"mean_test_{refit_metric}"][best])
        self.n_iter_ = params["n_iter"]
        self.rho_ = params["rho"]
        self.n_iter_at_edge_ = grid_edge(
            grid,
            params["n_iter"],
            params["rho"],
            problem,
            self.learning_rate,
            self.variant,
        )
        self.rho_at_edge_ = rho_edge(grid, params["rho"])
        if not self.refit:
            return self
        # The refit on all the data: exactly ``estimator.fit``, from the problem
        # (and decomposition, if made for the grid or GCV) built above.
        start = time.perf_counter()
        estimator.set_params(**params)
        run = estimator._plan_run(problem, params["n_iter"])
        estimator._set_fitted(data, run, run.coef(params["n_iter"]), params["n_iter"])
        self.refit_time_ = time.perf_counter() - start
        self.best_estimator_ = estimator
        return self._expose_selected(estimator)

    def _cv_results(self, split, n_iters, rhos, setup, per_target=False):
        """``(cv_results_, guarded)`` of the cross-validation scores ``split``.

        One metric, or several (``split.scores`` a dict: ``_multimetric``), in
        ``GridSearchCV``'s layout; with ``per_target``, one metric with a target
        axis (``_per_target.target_results``). Where the best mean score of the
        metric that selects (``refit=True`` or a metric's name) is at a candidate
        that nearly interpolates a training fold, the interpolation guard
        (``_dof_guard``, ``max_dof_fraction``) ranks such candidates last in that
        metric's ``rank_test_*``; ``guarded`` is then the index of that best
        candidate (per target: an array, ``-1`` for the targets it left alone),
        else ``None`` (the results are ``GridSearchCV``'s).
        """
        self.multimetric_ = multi = isinstance(split.scores, dict)
        if multi and per_target:  # a callable scoring returned a dict
            check_per_target_search(self, multimetric=True)
        if multi and not isinstance(self.scoring, MULTIMETRIC_TYPES):
            check_refit(self.refit, split.scores)  # the names of a callable's dict
        to_results = target_results if per_target else search_results

        def make_results(scores, pickable=None):
            return to_results(
                scores,
                n_iters,
                rhos,
                split.n_diverged,
                split.error,
                (split.fit_time, split.score_time),
                setup.min_test,
                pickable=pickable,
                zero_weight=setup.zero_weight,
            )

        if multi:
            results = multimetric_results(split.scores, make_results, self.refit)
        else:
            results = make_results(split.scores)
        if per_target:  # each target's pick guarded on its own column
            pickable, guarded = target_guard(
                split.dof,
                self.max_dof_fraction,
                results["mean_test_score"],
                best_indices(results),
            )
            if pickable is not None:
                ranks = make_results(split.scores, pickable)["rank_test_score"]
                results["rank_test_score"] = ranks
            return results, guarded
        if callable(self.refit) or (multi and not self.refit):
            return results, None  # no pick by rank (a callable picks)
        name = self.refit if multi else "score"
        best = int(results[f"rank_test_{name}"].argmin())
        pickable = guard(
            split.dof, self.max_dof_fraction, results[f"mean_test_{name}"], best
        )
        if pickable is None:
            return results, None
        scores = split.scores[name] if multi else split.scores
        ranks = make_results(scores, pickable)["rank_test_score"]
        results[f"rank_test_{name}"] = ranks
        return results, best

    def _search_targets(self, y):
        """The targets as the search reads them: ``y`` as given."""
        return y

    def _gcv_plan(self, estimator):
        def plan(problem, rho):
            return estimator.set_params(rho=rho)._plan_run(
                problem, int(estimator.n_iter), solver="spectral"
            )

        return plan

    #: The fitted attributes a fit sets only with a selection (``best_*``, the
    #: picks) or a refit (the model): removed before each fit sets them anew.
    _SELECTION_ATTRIBUTES = (
        "best_index_",
        "best_params_",
        "best_score_",
        "n_iter_",
        "rho_",
        "n_iter_at_edge_",
        "rho_at_edge_",
        "best_estimator_",
        "refit_time_",
        "learning_rate_",
        "n_features_in_",
        "feature_names_in_",
    )

    def _forget_selection(self):
        """Remove the selection and the refitted model of an earlier fit."""
        for name in self._SELECTION_ATTRIBUTES + self._copied_attributes:
            if name in self.__dict__:
                delattr(self, name)

    def _scoring(self):
        """``(scorer, scoring)``: the scorer called on candidates and the scoring
        the splits look up (``_multimetric.resolve_scoring``; several metrics: a
        multi-metric scorer and a ``MultiScoring``). ``scoring=None`` under
        metadata routing is R^2 requesting ``sample_weight`` (as ``RidgeCV``): the
        search owns its scorer's requests."""
        if _routing_enabled() and self.scoring is None:
            return get_scorer("r2").set_score_request(sample_weight=True), None
        return resolve_scoring(self._make_estimator(), self.scoring, self.refit)

    def _get_scorer(self):
        """The scorer of the validation folds (see ``_scoring``)."""
        return self._scoring()[0]

    def _split_setup(self, estimator, X, y, sample_weight, params):
        """The splits and how they are fitted and scored: a ``_SplitSetup``.

        Sets ``scorer_`` and ``n_splits_``; ``min_test`` is the size of the
        smallest test fold and ``zero_weight`` the indices of the test folds whose
        weights passed to the scorer are all zero.
        """
        X, y = indexable(X, y)
        if sample_weight is not None:
            params = {**params, "sample_weight": sample_weight}
        scorer, scoring = self._scoring()
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
        cv = check_cv(self.cv, y, classifier=is_classifier(estimator))
        splits = cv.split(X, y, **split_params)
        if estimator._reduces_dask(X, y, sample_weight):
            # Held compactly (the test folds), consumed one split at a time;
            # a Nystroem model draws landmarks in its training rows' order.
            nystroem = getattr(estimator, "n_components", None) is not None
            splits = Splits(_num_samples(X), splits, keep_order=nystroem)
            tests = splits.tests
        else:
            splits = list(splits)
            tests = [test for _, test in splits]
        multi = isinstance(scoring, MultiScoring)
        self.scorer_ = scoring.scorers if multi else scorer
        self.n_splits_ = len(splits)
        return _SplitSetup(
            X,
            y,
            splits,
            scorer,
            scoring,
            fit_params,
            score_params,
            min((len(test) for test in tests), default=None),
            _zero_weight_folds(score_params.get("sample_weight"), tests),
        )

    def _cv_scores(self, estimator, setup, grid, data, folds=None):
        """The ``SplitScores`` of shape (n_iters, n_rhos, n_splits) of the splits
        of ``setup`` (``_split_setup``): scores and times (several metrics: a
        dict of such scores); ``data`` is the validated ``FitData`` of all the
        rows (``split_scores``), ``folds`` the one pass of dask input
        (``dask_fold_pass``) or ``None``."""
        X, y, splits = setup.X, setup.y, setup.splits
        fit_params, score_params = setup.fit_params, setup.score_params
        scoring = setup.scoring
        multi = isinstance(scoring, MultiScoring)
        n_candidates = grid[0].size * grid[1].size
        if self.verbose > 0:
            print(
                f"Fitting {len(splits)} folds for each of {n_candidates} candidates, "
                f"totalling {len(splits) * n_candidates} fits (one decomposition "
                "per fold)"
            )
        per_target = selects_per_target(self, data.y.shape[1])
        grid = SplitGrid(*grid, setup.scorer, scoring, per_target)
        if folds is not None:
            # All folds from one pass of dask, scored from their moments (or in
            # one more pass over the test rows): _dask_scores.
            return dask_split_scores(
                clone(estimator),
                X,
                y,
                splits,
                fit_params.get("sample_weight"),
                score_params,
                grid,
                data,
                folds,
            )
        per_split = Parallel(n_jobs=self.n_jobs)(
            delayed(self._split_scores)(
                clone(estimator),
                X,
                y,
                (train, test),
                fit_params,
                score_params,
                grid,
                data,
            )
            for train, test in splits
        )
        if self.verbose > 1:
            # From the parent, in fold order: the lines of parallel folds do not
            # interleave (and reach the parent's stdout with any backend).
            for index, result in enumerate(per_split):
                seconds = result.fit_time[:, :, None].max() + result.score_time.sum()
                print(
                    f"[CV {index + 1}/{len(splits)}] END {result.fit_time.size} "
                    f"candidates; best score {_best_score(result.scores)}; "
                    f"total time {seconds:.2f}s"
                )
        errors = [result.error for result in per_split if result.error is not None]
        scores = split_score_dicts(
            [result.scores for result in per_split],
            scoring.names if multi else None,
            (grid.n_iters.size, grid.rhos.size),
        )
        if scores is None:  # one metric
            scores = np.stack([result.scores for result in per_split], axis=-1)
        dofs = [result.dof for result in per_split]
        return SplitScores(
            scores,
            sum(result.n_diverged for result in per_split),
            errors[0] if errors else None,
            np.stack([result.fit_time for result in per_split], axis=-1),
            np.stack([result.score_time for result in per_split], axis=-1),
            None if any(d is None for d in dofs) else np.stack(dofs, axis=-1),
        )

    def _split_scores(
        self, estimator, X, y, split, fit_params, score_params, grid, data
    ):
        """``split_scores`` of one split (a method: subclasses may wrap it)."""
        return split_scores(
            estimator, X, y, *split, fit_params, score_params, grid, data
        )

    def _scorer_takes_weights(self, scorer):
        """Whether ``GridSearchCV`` would pass ``sample_weight`` to ``scorer``.

        Without metadata routing, scikit-learn >= 1.7 forwards it whenever the
        scorer accepts it (and warns otherwise); 1.6 never does.
        """
        if parse_version(sklearn.__version__).release < (1, 7):
            return False
        if isinstance(scorer, MultimetricScorer):  # each metric warns
            return any(map(self._scorer_takes_weights, scorer._scorers.values()))
        if hasattr(scorer, "_accept_sample_weight"):
            accept = scorer._accept_sample_weight()
        else:
            accept = "sample_weight" in signature(scorer).parameters
        if not accept:
            warn(
                f"The scoring {scorer} does not support sample_weight, which may "
                f"lead to statistically incorrect results when fitting {self} with "
                "sample_weight.",
                UserWarning,
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
            scorer=self._get_scorer(),
            method_mapping=MethodMapping().add(caller="fit", callee="score"),
        )
        if not isinstance(self.cv, str):
            router.add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router


_SEARCH_DOC = """
    n_iters : array-like of int, default=None
        Stopping times to try (``>= 0``, in the order given). ``None`` derives them
        from the spectrum of all the training data: every integer up to 10, then 20
        log-spaced points a decade, up to the step count at which every direction
        with eigenvalue ``>= 1e-6 lam_max`` has fitted all but 0.1% of its part of
        ``y`` at the largest ``rho`` (at most ``10**6``; ``10**4`` for normalized
        SAM). The grid used is ``n_iters_``.
    rhos : array-like of float, default=None
        SAM radii to try (``0`` is gradient descent), used as given (absolute
        units) unless ``relative_rho``. ``None`` is ``(0, 0.1, 1, 10)`` in units of
        ``1 / lam_max`` of all the training data (normalized SAM: of the first
        gradient step's length ``||g_0|| / lam_max``), so the default search does
        not depend on the scale of ``X``. The grid used is ``rhos_``.
    relative_rho : bool, default=False
        State ``rhos`` in the units of ``rhos=None`` (stored in ``rho_unit_``; the
        unit of the base estimator's ``relative_rho``, from all the training data
        and shared by every fold).
    cv : int, cross-validation generator, iterable or "gcv", default=5
        Any ``cv`` accepted by :func:`sklearn.model_selection.check_cv` (an int is
        ``KFold`` without shuffling). ``"gcv"`` selects by generalized
        cross-validation instead, from one decomposition of all the data:
        ``GCV(k) = (RSS_k / S) / (1 - dof_k / S)^2`` with the weighted training
        residual sum of squares ``RSS_k = sum_i s_i (y_i - f_k(x_i))^2``,
        ``S = sum_i s_i`` and ``dof_k = sum_i (1 - r_i^k)`` (+1 with an intercept),
        the trace of the smoother. GCV is an *approximation* of the prediction
        error, not leave-one-out cross-validation (the exact leave-one-out
        shortcut of ``RidgeCV`` does not hold for early stopping); it needs
        ``variant="unnormalized"`` (normalized SAM is not linear in ``y``) and
        ``scoring=None``, and its score is ``-GCV`` (averaged over targets).
        Grid points with ``dof_k > 0.9 S`` (near interpolation, where GCV
        collapses below the noise) are not picked: they rank last, with a
        ``UserWarning`` when the GCV minimiser is among them.
    scoring : str, callable, list, tuple, set, dict or None, default=None
        One metric: a scorer name of :func:`sklearn.metrics.get_scorer_names` or
        a callable ``scorer(estimator, X, y)``; ``None`` is the estimator's
        ``score`` (R^2). Several metrics, as in ``GridSearchCV``: a list, tuple
        or set of scorer names, a dict of names to scorer names or callables, or
        a callable returning a dict of scores; ``refit`` then names the metric
        that selects, and ``cv_results_`` holds every metric's scores. Each grid
        point is scored exactly as ``GridSearchCV`` scores its refitted model: a
        scorer is called on a fitted estimator whose coefficients are set from
        the path. For ``None``, ``"r2"``, ``"explained_variance"``,
        ``"neg_mean_squared_error"``, ``"neg_root_mean_squared_error"`` and
        ``"neg_mean_absolute_error"`` (float64 data) one vectorised call of the
        same metric scores all grid points of a split; several such metrics
        share one prediction of the path. With any other metric among several,
        every metric is scored on each candidate from one prediction (the
        scorers share it, as in ``GridSearchCV``).
    refit : bool, str or callable, default=True
        As in ``GridSearchCV``: ``True`` selects the best mean score of the one
        metric and refits it on all the data; with several metrics, the name of
        the metric that selects (``True`` is then an error). A callable
        ``refit(cv_results_)`` returns the index of the selected candidate
        (``best_index_``; there is then no ``best_score_``), e.g. a rule that
        prefers fewer steps within noise (the user guide, "Multi-metric
        scoring"). ``False`` refits nothing: ``best_estimator_``, the model's
        attributes, ``predict`` and ``score`` are not available, and with
        several metrics nothing is selected (no ``best_*``, ``n_iter_`` or
        ``rho_``).
    max_dof_fraction : float in (0, 1] or None, default=0.999
        The interpolation guard, for tiny data: when the best mean score (of the
        metric that selects) is at a candidate whose degrees of freedom (the
        trace of its training smoother, +1 with an intercept) exceed
        ``max_dof_fraction`` times the samples of some training fold (its rows
        with a positive weight), that candidate interpolates its folds and on
        folds that small its score is unreliable: the pick is the best candidate
        within the bound instead, with a ``UserWarning``, and the candidates
        above it rank last in that metric's ``rank_test_*``. Otherwise (the usual
        case) the results and the pick are ``GridSearchCV``'s. The default
        passes over interpolants only (all but 0.1% of the samples: the
        tolerance of the default grid's converged end); a smaller fraction
        passes over near-interpolants too. ``None`` turns the guard off
        (``GridSearchCV``'s pick always). Not applied with normalized SAM (no
        smoother), a callable ``refit`` (it picks) or ``cv="gcv"`` (its own
        guard, at 0.9 of the sum of the weights). See the user guide, "Tiny
        data: the interpolation guard".
    n_jobs : int, default=None
        Number of jobs over the splits (:class:`sklearn.utils.parallel.Parallel`;
        ``None`` is 1 unless in a ``joblib.parallel_config`` context).
    store_cv_results : bool, default="deprecated"
        Deprecated in 0.1, removed in 0.2: ``cv_results_`` is always set (as in
        ``GridSearchCV``); setting it has no effect but a ``FutureWarning``.{per_target}
    verbose : int, default=0
        ``1`` prints the number of folds and candidates, ``2`` one line per fold
        (printed in fold order once the folds are scored, also with ``n_jobs``).
        With ``cv="gcv"``: ``1`` prints the number of candidates, ``2`` one line
        per radius.
    learning_rate : "auto" or float, default="auto"
        Step size as in the base estimator. ``"auto"`` depends on ``rho`` and on
        the top eigenvalue of each training part, exactly as in the models that
        ``GridSearchCV`` would fit.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        Normalized SAM runs its exact recursion once per ``rho`` and split; a
        variant without an exact filter runs its loop once per ``rho`` and split.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.""".replace("{per_target}", PER_TARGET_CV_DOC)

_RESULTS_DOC = (
    """
    n_iter_ : int or ndarray of shape (n_targets,)
        Selected number of steps (one per target with ``per_target``). With
        several metrics and ``refit=False``, nothing is selected: ``n_iter_``,
        ``rho_``, ``best_params_``, ``best_index_``, ``best_score_`` and the edge
        flags are absent, as ``GridSearchCV``'s ``best_*``.
    best_params_ : dict or list of dict
        ``{{"n_iter": n_iter_, "rho": rho_}}``, as in ``GridSearchCV``; ``rho`` is
        absolute (also with ``relative_rho``), so ``{estimator}(**best_params_)``
        refits the selected model (``rho_ / rho_unit_`` is the relative value).
        With ``per_target``, one such dict per target:
        ``{estimator}(**best_params_[t])`` fitted on ``y[:, t]`` is target
        ``t``'s model.
    best_index_ : int or ndarray of shape (n_targets,)
        Index of the selected candidate in ``cv_results_``: the first of rank 1
        of the ``refit`` metric, or what a callable ``refit`` returned (of each
        target's, a row of its columns, with ``per_target``).
    n_iters_ : ndarray of shape (n_iters,)
        The stopping-time grid used.
    rhos_ : ndarray of shape (n_rhos,)
        The radius grid used, in absolute units.
    rho_unit_ : float
        The unit of relative radii (``1.0`` for explicit absolute ``rhos``).
"""
    + N_ITER_AT_EDGE_DOC
    + "\n"
    + RHO_AT_EDGE_DOC
    + """
    rho_ : float or ndarray of shape (n_targets,)
        Selected SAM radius (one per target with ``per_target``).
    best_score_ : float or ndarray of shape (n_targets,)
        Mean validation score of the selected pair (``-GCV`` for ``cv="gcv"``;
        with several metrics, of the ``refit`` metric); with ``per_target``, of
        each target's pair on its own column. Absent with a callable ``refit``,
        as in ``GridSearchCV``.
    best_estimator_ : {estimator}
        The model with ``n_iter_`` and ``rho_`` refitted on all the data (with the
        sample weights); ``predict`` and ``staged_predict`` use it. Absent with
        ``refit=False`` (as are ``refit_time_``, ``learning_rate_``,
        ``n_features_in_`` and the model's attributes). With
        ``per_target``, the model of every target's refit: its column ``t`` is
        ``{estimator}(**best_params_[t]).fit(X, y[:, t])`` (to rounding), its
        ``n_iter_``, ``rho_`` and ``learning_rate_`` are arrays of shape
        (n_targets,), and its ``staged_predict`` yields the steps ``1 ..
        max(n_iter_)`` with target ``t`` frozen after its own ``n_iter_[t]``
        (the last stage is ``predict``). Its parameters ``n_iter`` and ``rho``
        are the largest selected ones and do not describe it: refitting it (or
        a clone) fits one pair for all targets.
    learning_rate_ : float or ndarray of shape (n_targets,)
        Step size of the refitted model (of each target's, with
        ``per_target``).
    cv_results_ : dict of ndarray
        The keys of ``GridSearchCV.cv_results_``
        (``mean_fit_time``, ``std_fit_time``, ``mean_score_time``,
        ``std_score_time``, ``params``, ``param_n_iter``, ``param_rho``,
        ``split{{k}}_test_score``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``; with several metrics ``_<name>`` replaces
        ``_score``: ``mean_test_<name>``, ``rank_test_<name>``, ...). A
        candidate's fit time is its fold's validation,
        problem and decomposition time (shared by all candidates) plus its share of
        its ``rho``'s path; its score time its share of the vectorised scoring (or
        its own scorer call).
        one entry per candidate in the order of
        ``ParameterGrid({{"n_iter": n_iters, "rho": rhos}})`` (``n_iter`` outer,
        ``rho`` inner), so ``pandas.DataFrame(cv_results_)`` works. For
        ``cv="gcv"`` there are no split scores and no ``std_test_score``.
        With ``per_target`` (and several targets), ``split{{k}}_test_score``,
        ``mean_test_score``, ``std_test_score`` and ``rank_test_score`` have
        shape (n_candidates, n_targets): column ``t`` is the ``cv_results_`` of
        the search on ``y[:, t]`` (ranked per target); the parameters and the
        times keep shape (n_candidates,) (split the score columns out before
        ``pandas.DataFrame``). They hold ``n_candidates x n_targets x (n_splits +
        3)`` numbers, the one part of the memory that grows with the grid times
        the targets. ``cv_results_`` is always set, with or without
        ``per_target``; the deprecated ``store_cv_results`` changes nothing.
    scorer_ : callable, dict or None
        The scorer of the validation folds (as ``GridSearchCV.scorer_``): a dict
        name -> scorer for several metrics; ``None`` for ``cv="gcv"``, whose
        score is ``-GCV``.
    multimetric_ : bool
        Whether several metrics were scored (as ``GridSearchCV.multimetric_``).
    n_splits_ : int or None
        Number of cross-validation splits; ``None`` for ``cv="gcv"``.
    refit_time_ : float
        Seconds spent refitting the selected pair on all the data (from the
        decomposition already made, when the grid made one); absent with
        ``refit=False``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names."""
)

_NOTES_DOC = """
    Each split costs one decomposition of its training part; every candidate is
    then read off the exact path (as in :func:`sam_path`). The selected pair, every
    split score and every mean score equal those of ``GridSearchCV({estimator}(...),
    {{"n_iter": n_iters, "rho": rhos}}, cv=cv, scoring=scoring, refit=refit)``
    (to rounding; with several metrics, every metric's) unless the
    interpolation guard moved the pick (``max_dof_fraction``: only when the best
    mean score interpolates a training fold, with a warning),
    including ties: ranks use ``method="min"`` and the first best candidate in the
    grid order wins, i.e. the one with the fewest steps among ``n_iters`` given in
    increasing order, then the first such ``rho``. ``sample_weight`` weights every
    training fit, and the validation scores exactly when ``GridSearchCV`` weights
    them (see ``fit``). Failed (diverged) candidates score ``nan`` and rank last,
    as with ``error_score=np.nan``."""


_LINEAR_RESULTS_DOC = _RESULTS_DOC.format(estimator="SAMRegressor")
_KERNEL_RESULTS_DOC = _RESULTS_DOC.format(estimator="SAMKernelRidge")


class SAMRegressorCV(RegressorMixin, BaseSAMCV):
    __doc__ = f"""Linear SAM with the stopping time and rho chosen by cross-validation.

    Cross-validates :class:`SAMRegressor` over the grid ``n_iters x rhos`` at
    about the cost of one fit per split, then refits the best pair on all data (the
    stopping time is the regularizer of early-stopped SAM [1]_).

    Parameters
    ----------{_SEARCH_DOC}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights of the refitted model.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the refitted model.{_LINEAR_RESULTS_DOC}

    See Also
    --------
    SAMRegressor : The estimator with a fixed stopping time.
    sam_path : Coefficients along the path.
    sklearn.linear_model.RidgeCV : Cross-validated ridge regression.

    Notes
    -----{_NOTES_DOC.format(estimator="SAMRegressor")}

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20))
    >>> y = X @ rng.standard_normal(20) + rng.standard_normal(200)
    >>> model = SAMRegressorCV(n_iters=[1, 3, 10, 30, 100], rhos=(0.0, 1.0)).fit(X, y)
    >>> model.n_iter_, model.rho_
    (30, 1.0)
    >>> round(model.best_score_, 3)
    0.93

    Each target its own stopping time (a second, noisier target stops at once):

    >>> Y = np.column_stack([y, X[:, 0] + 5 * rng.standard_normal(200)])
    >>> model = SAMRegressorCV(
    ...     n_iters=[1, 3, 10, 30, 100], rhos=(0.0, 1.0), per_target=True
    ... ).fit(X, Y)
    >>> model.n_iter_.tolist(), model.cv_results_["mean_test_score"].shape
    ([30, 1], (10, 2))
    """

    _estimator_class = SAMRegressor
    _copied_attributes = ("coef_", "intercept_")
    _parameter_constraints: dict = {
        **BaseSAMCV._parameter_constraints,
        "per_target": ["boolean"],
    }

    def __init__(
        self,
        n_iters=None,
        rhos=None,
        *,
        relative_rho=False,
        cv=5,
        scoring=None,
        refit=True,
        max_dof_fraction=MAX_DOF_FRACTION,
        n_jobs=None,
        store_cv_results="deprecated",
        per_target=False,
        verbose=0,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
    ):
        self.n_iters = n_iters
        self.rhos = rhos
        self.relative_rho = relative_rho
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.max_dof_fraction = max_dof_fraction
        self.n_jobs = n_jobs
        self.store_cv_results = store_cv_results
        self.per_target = per_target
        self.verbose = verbose
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept


class SAMKernelRidgeCV(RegressorMixin, BaseSAMCV):
    __doc__ = f"""Kernel SAM with the stopping time and rho chosen by cross-validation.

    Cross-validates :class:`SAMKernelRidge` over the grid ``n_iters x rhos`` with
    one ``n x n`` eigendecomposition per split (``m x m`` with ``n_components=m``,
    Nystroem SAM), then refits the best pair on all data (the stopping time is the
    regularizer of early-stopped SAM [1]_).

    Parameters
    ----------{_SEARCH_DOC}
    kernel : str or callable, default="linear"
        Kernel, as in :class:`SAMKernelRidge` (``"precomputed"``: ``X`` is the
        kernel matrix; splits take its rows and training columns).
    gamma : float, default=None
        Kernel parameter, as in :class:`SAMKernelRidge`.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Zero coefficient of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Extra parameters of a callable kernel.
    {NYSTROEM_DOC}
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark draw of ``n_components``: each split draws its own
        landmarks from its training rows and the refit from all the rows, as the
        estimators that ``GridSearchCV`` fits would (an int seeds every draw
        alike; a ``RandomState`` instance is copied for each draw, as
        ``GridSearchCV``'s clones copy it, and is not advanced); ``cv="gcv"``
        draws once, from all the rows. On dask arrays one pass gathers the
        landmarks of every draw and a second one reduces every split's moments,
        each in its own features, and the refit's.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Dual coefficients of the refitted model.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the refitted model.
    X_fit_ : {{ndarray, sparse matrix}} of shape (n_samples, n_features)
        Training data of the refitted model (with ``n_components``, its
        landmarks).
    {NYSTROEM_ATTRIBUTES_DOC}{_KERNEL_RESULTS_DOC}

    See Also
    --------
    SAMKernelRidge : The estimator with a fixed stopping time.
    sam_kernel_path : Dual coefficients along the path.

    Notes
    -----{_NOTES_DOC.format(estimator="SAMKernelRidge")}

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMKernelRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(100)
    >>> # the default radii, given explicitly: a pick at the top is flagged only
    >>> model = SAMKernelRidgeCV(
    ...     kernel="rbf", gamma=0.5, rhos=[0, 0.1, 1, 10], relative_rho=True
    ... ).fit(X, y)
    >>> model.n_iter_, round(model.rho_ / model.rho_unit_, 6)  # in units of 1/lam_max
    (70795, 10.0)
    >>> model.rho_at_edge_
    'upper'
    >>> round(model.score(X, y), 3)
    0.982
    """

    _estimator_class = SAMKernelRidge
    _copied_attributes = ("dual_coef_", "intercept_", "X_fit_")
    _optional_attributes = NYSTROEM_ATTRIBUTES
    _parameter_constraints: dict = {
        **BaseSAMCV._parameter_constraints,
        **KERNEL_CONSTRAINTS,
        "per_target": ["boolean"],
    }

    def __init__(
        self,
        n_iters=None,
        rhos=None,
        *,
        relative_rho=False,
        cv=5,
        scoring=None,
        refit=True,
        max_dof_fraction=MAX_DOF_FRACTION,
        n_jobs=None,
        store_cv_results="deprecated",
        per_target=False,
        verbose=0,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        kernel="linear",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        n_components=None,
        random_state=None,
    ):
        self.n_iters = n_iters
        self.rhos = rhos
        self.relative_rho = relative_rho
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.max_dof_fraction = max_dof_fraction
        self.n_jobs = n_jobs
        self.store_cv_results = store_cv_results
        self.per_target = per_target
        self.verbose = verbose
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.random_state = random_state
