"""What the selection estimators share: grids, results, the selected model."""

import numpy as np
from scipy.stats import rankdata
from sklearn.utils.validation import check_is_fitted

from .._core._variants import SpectralVariant, get_variant
from .._path import check_n_iters
from .._stability import squares_scale
from .._validation import check_same_namespace, to_numpy
from .._warnings import warn

__all__ = [
    "DEFAULT_RELATIVE_RHOS",
    "SearchGrid",
    "converged_steps",
    "grid_edge",
    "rho_edge",
    "resolve_grid",
    "SelectedModelMixin",
    "candidate_ranks",
    "check_rhos",
    "raise_all_failed",
    "score_table",
    "search_results",
]

#: Default SAM radii in units of ``rho_unit`` (``1 / lam_max`` for unnormalized SAM).
DEFAULT_RELATIVE_RHOS = (0.0, 0.1, 1.0, 10.0)

#: The default stopping-time grid runs until every eigen-direction with an eigenvalue
#: at least ``EIGEN_FLOOR * lam_max`` has fitted all but ``CONVERGED`` of its part
#: of ``y``, with at most ``MAX_STEPS`` (``MAX_STEPS_NORMALIZED`` for a route whose
#: cost grows with the steps: normalized SAM's recursion, the loop of a variant
#: without a filter) and ``STEPS_PER_DECADE`` points a decade.
EIGEN_FLOOR = 1e-6
CONVERGED = 1e-3
MAX_STEPS = 10**6
MAX_STEPS_NORMALIZED = 10**4
STEPS_PER_DECADE = 20


def check_rhos(rhos):
    """Validated SAM radii: a non-empty 1-D float array of finite values >= 0."""
    values = np.asarray(rhos, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"rhos must be a non-empty 1-D array; got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"rhos must be finite and non-negative; got {values!r}.")
    return values


class SearchGrid:
    """The grids of a search in absolute units, and how they were obtained."""

    def __init__(
        self, n_iters, rhos, rho_unit, default_n_iters, capped=False, default_rhos=False
    ):
        self.n_iters = n_iters
        self.rhos = rhos
        self.rho_unit = rho_unit
        self.default_n_iters = default_n_iters
        self.capped = capped
        self.default_rhos = default_rhos


#: The ``n_iter_at_edge_`` entry of the searches' docstrings (a ``str.format``
#: template fragment: braces doubled), the rule of ``grid_edge``.
N_ITER_AT_EDGE_DOC = """    n_iter_at_edge_ : {{"lower", "upper"}} or None
        Whether ``n_iter_`` is at an end of the grid that does not bound the path:
        ``"lower"`` when it is the smallest positive point of the grid, ``"upper"``
        when it is the largest and the path has not converged there (every
        direction with eigenvalue ``>= 1e-6 lam_max`` keeps at least 0.1% of its
        residual). A ``UserWarning`` says when the edge truncated the search: an
        ``"upper"`` pick (an explicit grid too short, or a capped default grid), or
        a ``"lower"`` pick above one step. One step (the default grid's start) is
        the first step of the path and is not warned about; the end of the
        uncapped default grid is the converged path and is not an edge."""


#: The ``rho_at_edge_`` entry of the searches' docstrings (a ``str.format``
#: template fragment: braces doubled), the rule of ``rho_edge``.
RHO_AT_EDGE_DOC = """    rho_at_edge_ : {{"lower", "upper"}} or None
        Whether ``rho_`` is at an end of the radius grid (of two radii or more):
        ``"upper"`` when it is the largest radius, ``"lower"`` when it is the
        smallest and positive (``rho=0``, gradient descent, bounds the radii from
        below and is not an edge). Larger (or smaller) radii may score better;
        on the default grid (``rhos=None``) ``"upper"`` is its largest radius,
        ``10 / lam_max``, and a ``UserWarning`` says so (an explicit grid's ends
        are the user's choice: flag only). Beyond ``10 / lam_max`` unnormalized
        SAM's filter changes only in the directions with eigenvalues below a tenth
        of ``lam_max``, and the scores usually little."""


def rho_edge(grid, rho):
    """``"lower"``, ``"upper"`` or ``None``: whether the selected radius is at an
    end of the grid (``RHO_AT_EDGE_DOC``); warns at the top of the default grid."""
    rhos = grid.rhos
    if rhos.size < 2:
        return None
    if rho == rhos.max():
        if grid.default_rhos:
            top = max(DEFAULT_RELATIVE_RHOS)
            warn(
                f"The selected rho={rho:.6g} is the largest radius of the default "
                f"grid ({top:g} / lam_max): larger radii may score better, although "
                "beyond it the scores usually change little. Give rhos extending "
                f"further, e.g. rhos=[0, 1, {top:g}, {10 * top:g}, {100 * top:g}] "
                "with relative_rho=True.",
                UserWarning,
            )
        return "upper"
    if rho == rhos.min() and rho > 0:
        return "lower"
    return None


def converged_steps(problem, learning_rate, rho, variant):
    """Steps after which every direction with eigenvalue ``>= EIGEN_FLOOR * lam_max``
    keeps less than ``CONVERGED`` of its residual (``1.0`` for a constant design;
    normalized SAM: the gradient-descent count). Not capped."""
    lam_max = float(problem.lam_max)
    if not lam_max > 0.0:
        return 1.0
    lam = to_numpy(problem.factor.lam)  # the rank's eigenvalues, on the host
    lam_min = float(np.min(lam[lam >= EIGEN_FLOOR * lam_max], initial=lam_max))
    variant = get_variant(variant)
    if not isinstance(variant, SpectralVariant):  # the gradient-descent count
        variant, rho = get_variant("unnormalized"), 0.0
    eta = problem.step_size(learning_rate, rho, variant)
    contraction = eta * variant.effective_eigenvalues(lam_min, rho)
    if 0.0 < contraction < 1.0:
        return max(1.0, float(np.log(CONVERGED) / np.log1p(-contraction)))
    return 1.0


def default_n_iters(problem, learning_rate, rhos, variant):
    """Log-spaced stopping times from 1 to the converged path (see ``resolve_grid``).

    Returns ``(n_iters, capped)``.
    """
    variant = get_variant(variant)
    # Routes whose cost grows with the steps (a recursion, or the loop of a
    # variant without a filter) get the shorter cap.
    grows = not variant.has_filter or any(map(variant.grows_with_steps, rhos))
    cap = MAX_STEPS_NORMALIZED if grows else MAX_STEPS
    spectral = isinstance(variant, SpectralVariant)
    needed = max(
        converged_steps(problem, learning_rate, rho, variant)
        for rho in (rhos if spectral else (0.0,))
    )
    last = int(min(np.ceil(needed), cap))
    n_points = int(np.ceil(np.log10(max(last, 10)) * STEPS_PER_DECADE)) + 1
    grid = np.rint(np.geomspace(1, max(last, 1), n_points)).astype(np.int64)
    grid = np.unique(np.concatenate([np.arange(1, min(last, 10) + 1), grid]))
    return grid, needed > cap


def resolve_grid(n_iters, rhos, relative_rho, problem, learning_rate, variant):
    """The absolute ``(n_iters, rhos)`` of a search on the data of ``problem``.

    Explicit grids are used as given (``rhos`` times ``rho_unit`` with
    ``relative_rho``). ``rhos=None`` is ``DEFAULT_RELATIVE_RHOS`` times ``rho_unit``.
    ``n_iters=None`` is a log grid (every integer up to 10, then
    ``STEPS_PER_DECADE`` points a decade) from 1 to the number of steps after which
    the slowest direction with eigenvalue ``>= EIGEN_FLOOR * lam_max`` keeps less
    than ``CONVERGED`` of its residual, for the largest ``rho`` of the grid (at most
    ``MAX_STEPS``; ``MAX_STEPS_NORMALIZED`` for normalized SAM, for which it is the
    gradient-descent count). Every rule depends on ratios of eigenvalues only, so
    the grids scale with the data and the candidate scores do not.
    """
    unit = 1.0
    default_rhos = rhos is None
    if rhos is None or relative_rho:
        unit = problem.rho_unit(variant)
    rhos = DEFAULT_RELATIVE_RHOS if rhos is None else rhos
    rhos = check_rhos(rhos) * unit
    if n_iters is not None:
        return SearchGrid(
            check_n_iters(n_iters), rhos, unit, False, default_rhos=default_rhos
        )
    grid, capped = default_n_iters(problem, learning_rate, rhos, variant)
    return SearchGrid(grid, rhos, unit, True, capped, default_rhos=default_rhos)


def grid_edge(grid, n_iter, rho, problem, learning_rate, variant):
    """``"lower"``, ``"upper"`` or ``None``: whether the selected stopping time is at
    an end of the grid that does not bound the path; warns when that end truncated
    the search.

    - Lower end: ``"lower"`` for a selected ``n_iter > 0`` that is the smallest of
      the grid. At one step (the default grid's start) that is the first step of
      the path, which no grid of step counts can refine: no warning (give
      ``n_iters`` including 0, or a smaller float ``learning_rate``). Above one step
      (an explicit grid) the grid cut off shorter runs: a ``UserWarning``.
    - Upper end: the largest point of the grid counts as an edge only if the path
      has not converged there at the selected ``rho`` (``converged_steps``: every
      direction with eigenvalue ``>= EIGEN_FLOOR * lam_max`` keeps less than
      ``CONVERGED`` of its residual). The uncapped default grid reaches that point
      by construction, so picking its end means "converged": no flag, no warning.
      A capped default grid or an explicit grid that stops short gives ``"upper"``
      and a ``UserWarning``.
    """
    n_iters = grid.n_iters
    if n_iters.size < 2 or n_iter <= 0:
        return None
    if n_iter == n_iters.min():
        if n_iter > 1:
            warn(
                f"The selected n_iter={n_iter} is the smallest of the grid n_iters: "
                "fewer steps may score better. Give n_iters starting at 0 or 1.",
                UserWarning,
            )
        return "lower"
    if n_iter != n_iters.max():
        return None
    needed = converged_steps(problem, learning_rate, rho, variant)
    if n_iter >= needed:
        return None
    where = "default grid, capped" if grid.default_n_iters else "grid n_iters"
    warn(
        f"The selected n_iter={n_iter} is the largest of the {where} before the "
        f"path converged (about {int(np.ceil(needed))} steps): longer runs may "
        "score better. Give a longer n_iters.",
        UserWarning,
    )
    return "upper"


def raise_all_failed(n_diverged, scoring_error, min_test_size=None, zero_weight=()):
    """The error when no ``(n_iter, rho)`` candidate has a score, naming why.

    ``zero_weight``: the indices of the test folds whose sample weights (passed to
    the scorer) are all zero, where no weighted score is defined.
    """
    if len(zero_weight):
        folds = ", ".join(map(str, zero_weight[:5])) + (
            ", ..." if len(zero_weight) > 5 else ""
        )
        plural = "s" if len(zero_weight) > 1 else ""
        raise ValueError(
            f"Every (n_iter, rho) candidate failed: the sample weights of test "
            f"fold{plural} {folds} (of the splitter's folds, from 0) are all zero, so "
            "the weighted score is undefined there and every candidate's mean "
            "score is nan (as in GridSearchCV). Use splits whose test folds hold "
            "a positive weight, e.g. drop the zero-weight samples before the search."
        )
    if min_test_size is not None and min_test_size < 2 and scoring_error is None:
        raise ValueError(
            "Every (n_iter, rho) candidate failed: some test folds have a single "
            "sample, on which the scorer (R^2 or explained variance) is undefined "
            "(nan). Use a scorer defined on one sample, e.g. "
            "scoring='neg_mean_squared_error', or larger test folds."
        )
    if scoring_error is not None:
        raise ValueError(
            "Every (n_iter, rho) candidate failed: the scorer raised an error on "
            f"each fitted model. First error: {scoring_error!r}"
        ) from scoring_error
    if n_diverged:
        raise ValueError(
            "Every (n_iter, rho) candidate failed: the SAM iterates diverged "
            f"(non-finite coefficients or predictions at {n_diverged} grid points). "
            "Use learning_rate='auto' or a smaller learning_rate."
        )
    raise ValueError(
        "Every (n_iter, rho) candidate failed: no split gave a finite score (for "
        "example, test folds too small for the scorer)."
    )


def search_results(
    split_scores,
    n_iters,
    rhos,
    n_diverged=0,
    scoring_error=None,
    timings=None,
    min_test_size=None,
    pickable=None,
    zero_weight=(),
):
    """``cv_results_`` in the layout and candidate order of ``GridSearchCV``.

    ``split_scores`` has shape (n_iters, n_rhos, n_splits). Candidates run over
    ``ParameterGrid({"n_iter": n_iters, "rho": rhos})``: ``n_iter`` outer, ``rho``
    inner, each in the order given. ``n_diverged`` (grid points whose coefficients
    were not finite) and ``scoring_error`` (the first exception of the scorer) name
    the cause when every candidate failed. ``timings = (fit, score)``, each of
    shape (n_iters, n_rhos, n_splits) in seconds, gives the timing keys.
    ``pickable`` (boolean, shape (n_iters, n_rhos); ``cv="gcv"``'s guard near
    interpolation, ``_gcv.gcv_pick``, which warns about its non-finite scores
    itself) ranks the other candidates last.
    ``zero_weight``: see ``raise_all_failed``.
    """
    n_candidates = n_iters.size * rhos.size
    results = score_table(split_scores, n_iters, rhos, timings)
    means = results["mean_test_score"]
    if np.isnan(means).all():
        raise_all_failed(n_diverged, scoring_error, min_test_size, zero_weight)
    if pickable is None:
        if not np.all(np.isfinite(means)):
            warn(f"One or more of the test scores are non-finite: {means}", UserWarning)
        pickable = np.ones(n_candidates, dtype=bool)
    results["rank_test_score"] = candidate_ranks(
        means, np.asarray(pickable).reshape(n_candidates)
    )
    return results


def score_table(split_scores, n_iters, rhos, timings=None):
    """The keys of ``cv_results_`` computed from the split scores and timings.

    ``split_scores`` of shape (n_iters, n_rhos, *targets, n_splits) (``targets``:
    none, or the target axis of a per-target search); ``split{k}_test_score``,
    ``mean_test_score`` and ``std_test_score`` get shape (n_candidates,
    *targets), the parameters and timing keys (n_candidates,).
    """
    n_candidates = n_iters.size * rhos.size
    scores = split_scores.reshape((n_candidates,) + split_scores.shape[2:])
    results = {}
    if timings is not None:
        for name, seconds in zip(("fit", "score"), timings, strict=True):
            seconds = seconds.reshape(n_candidates, -1)
            results[f"mean_{name}_time"] = seconds.mean(axis=1)
            results[f"std_{name}_time"] = seconds.std(axis=1)
    results |= {
        "param_n_iter": np.ma.MaskedArray(np.repeat(n_iters, rhos.size), mask=False),
        "param_rho": np.ma.MaskedArray(np.tile(rhos, n_iters.size), mask=False),
        "params": [{"n_iter": int(k), "rho": float(r)} for k in n_iters for r in rhos],
    }
    for split in range(scores.shape[-1]):
        results[f"split{split}_test_score"] = scores[..., split]
    means = np.average(scores, axis=-1)
    results["mean_test_score"] = means
    with np.errstate(invalid="ignore"):  # inf - inf: nan, as GridSearchCV
        deviation = scores - means[..., None]
    # scaled by a power of two where the squares would overflow (exact)
    scale = squares_scale(
        np.max(np.abs(deviation), initial=0.0, where=np.isfinite(deviation))
    )
    with np.errstate(invalid="ignore"):  # in place: the scores' size, once
        deviation *= scale
        deviation *= deviation
        results["std_test_score"] = np.sqrt(np.average(deviation, axis=-1)) / scale
    return results


def candidate_ranks(means, pickable):
    """``rank_test_score`` of mean scores (n_candidates, *targets), each column
    ranked alone: ``GridSearchCV``'s ranks ("min"; ``nan`` below the worst finite
    mean) among the ``pickable`` candidates, the others after them."""
    ranked = np.where(np.isnan(means), np.nanmin(means, axis=0) - 1, means)
    first = rankdata(np.where(pickable, -ranked, np.inf), method="min", axis=0)
    last = rankdata(np.where(pickable, np.inf, -ranked), method="min", axis=0)
    ranks = np.where(pickable, first, last + pickable.sum(axis=0))
    return ranks.astype(np.int32)


#: The settings a search hands to the estimator it selects for. Not its own
#: ``verbose`` (progress of the search) nor ``relative_rho`` (the grid's unit).
ESTIMATOR_PARAMS = (
    "kernel",
    "gamma",
    "degree",
    "coef0",
    "kernel_params",
    "n_components",
    "random_state",
    "learning_rate",
    "variant",
    "fit_intercept",
    "class_weight",
)


class SelectedModelMixin:
    """Prediction of the selection estimators through their ``best_estimator_``.

    Shared by the cross-validation (``_cv``) and information-criterion (``_ic``)
    estimators; subclasses name the estimator they select for
    (``_estimator_class``) and add ``RegressorMixin`` or ``ClassifierMixin``.
    """

    #: The estimator class the search selects ``(n_iter, rho)`` for.
    _estimator_class: type
    #: Fitted attributes copied from the selected model where it has them (those
    #: of the Nystroem kernel model, say).
    _optional_attributes: tuple = ()

    def _make_estimator(self):
        """An unfitted ``_estimator_class`` with the search's estimator settings
        (those of ``ESTIMATOR_PARAMS`` the search has)."""
        params = self.get_params(deep=False)
        estimator = self._estimator_class(
            **{name: params[name] for name in ESTIMATOR_PARAMS if name in params}
        )
        if hasattr(estimator, "_landmarks_from_copies"):  # a kernel estimator
            # Every landmark draw (each split's, the refit's) from a copy of a
            # RandomState instance, as the clones GridSearchCV fits draw.
            estimator._landmarks_from_copies = True
        return estimator

    def _expose_selected(self, estimator):
        """Copy the selected model's fitted attributes; returns ``self``."""
        for name in self._copied_attributes + ("learning_rate_", "n_features_in_"):
            setattr(self, name, getattr(estimator, name))
        for name in self._optional_attributes:
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))
            else:  # of an earlier fit
                self.__dict__.pop(name, None)
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        elif hasattr(self, "feature_names_in_"):  # refitted without column names
            del self.feature_names_in_
        return self

    def _refitted(self, method):
        """The refitted model (``best_estimator_``) that ``method`` uses; an
        ``AttributeError`` naming the cause after a fit with ``refit=False``
        (as ``GridSearchCV``'s)."""
        check_is_fitted(self)
        if "best_estimator_" not in self.__dict__:
            name = type(self).__name__
            raise AttributeError(
                f"This {name} instance was fitted with refit=False: it holds no "
                f"model refitted on all the data, so {method} (and predict, score "
                "and the other prediction methods) is not available. Fit "
                f"{self._estimator_class.__name__}(**best_params_) yourself, or "
                "fit the search with refit=True (with multi-metric scoring: "
                "refit=<the name of a metric>)."
            )
        return self.best_estimator_

    def predict(self, X):
        """Predict with the model refitted at the selected ``(n_iter_, rho_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (the test kernel for ``kernel="precomputed"``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        model = self._refitted("predict")
        check_same_namespace(X, self, self._copied_attributes[0], "predict")
        return model.predict(X)

    def staged_predict(self, X):
        """Yield the predictions of the selected model after steps ``1..n_iter_``.

        With per-target picks (``per_target=True`` on the regression searches),
        the steps ``1 .. max(n_iter_)``: target ``t``'s predictions after
        ``min(step, n_iter_[t])`` steps at its own ``rho_[t]`` (frozen after its
        own stopping time), so the last stage is ``predict``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        yield from self._refitted("staged_predict").staged_predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = self._make_estimator().__sklearn_tags__()
        tags.input_tags = estimator_tags.input_tags
        tags.target_tags.multi_output = True
        # The search runs in the namespace of its estimator (array_api_dispatch).
        tags.array_api_support = estimator_tags.array_api_support
        return tags
