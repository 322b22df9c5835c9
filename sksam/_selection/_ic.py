"""SAMRegressorIC and SAMKernelRidgeIC: stopping time and rho by a criterion."""

import time
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from .._core._variants import get_variant
from .._doc_link import DocLinkMixin
from .._kernel import NYSTROEM_ATTRIBUTES, SAMKernelRidge
from .._linear import SAMRegressor
from .._param_docs import NYSTROEM_ATTRIBUTES_DOC, NYSTROEM_DOC
from .._params import KERNEL_CONSTRAINTS, SAM_CONSTRAINTS
from .._validation import like_input, to_numpy
from .._warnings import warn
from ._criteria import (
    criterion_values,
    discrepancy_choice,
    first_best,
    gcv_noise_variance,
    least_squares_noise_variance,
)
from ._gcv import check_target_squares, gcv_n_obs
from ._per_target import (
    PER_TARGET_IC_DOC,
    ic_target_picks,
    selects_per_target,
    set_target_selection,
)
from ._search import (
    N_ITER_AT_EDGE_DOC,
    RHO_AT_EDGE_DOC,
    SelectedModelMixin,
    grid_edge,
    resolve_grid,
    rho_edge,
)

#: Stopping times whose filter values are formed at once (``rank x chunk``).
_IC_CHUNK = 4096

__all__ = ["BaseSAMIC", "SAMKernelRidgeIC", "SAMRegressorIC"]


class BaseSAMIC(DocLinkMixin, SelectedModelMixin, BaseEstimator):
    """Shared fit of the SAM information-criterion estimators (``_ic.py``).

    Subclasses name ``_estimator_class`` and implement ``_estimate_noise_variance``.
    """

    _parameter_constraints: dict = {
        "n_iters": ["array-like", None],
        "rhos": ["array-like", None],
        "relative_rho": ["boolean"],
        "verbose": ["verbose"],
        "criterion": [StrOptions({"cp", "aic", "bic", "discrepancy"})],
        "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
        "discrepancy_tau": [Interval(Real, 0, None, closed="neither")],
        "per_target": ["boolean"],
        **{
            name: SAM_CONSTRAINTS[name]
            for name in ("learning_rate", "variant", "fit_intercept")
        },
    }

    def fit(self, X, y, sample_weight=None):
        """Evaluate the criterion on the whole grid and keep the best model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data (the square training kernel for ``kernel="precomputed"``).
            A row-chunked ``dask.array`` (``SAMRegressorIC``) is read in one pass
            that reduces its ``d x d`` Gram matrix.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (the weight rule of the user guide, "Sample weights
            in the criteria"): ``n = sum(sample_weight)`` is the number of
            samples in the criteria and in the noise estimate.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        variant = get_variant(self.variant)
        if not (variant.linear_in_y and variant.has_filter):
            raise ValueError(
                f"{type(self).__name__} needs the exact residuals and degrees of "
                f"freedom of a linear smoother, which the SAM variant {variant!r} "
                "does not have (normalized SAM is not linear in y). Use "
                "variant='unnormalized', or the cross-validated estimators."
            )
        estimator = self._make_estimator().set_params(solver="spectral")
        data = estimator._validate_fit_data(X, y, sample_weight)
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
        estimator.set_params(rho=float(rhos[0]), n_iter=int(n_iters.max()))
        runs = [
            estimator.set_params(rho=rho)._plan_run(problem, int(n_iters.max()))
            for rho in rhos
        ]
        check_target_squares(problem, f"criterion={self.criterion!r}")
        rss, dof = [], []
        for j, run in enumerate(runs):
            if self.verbose > 0:
                print(f"[{type(self).__name__}] rho {j + 1}/{len(runs)}: {run.rho:.4g}")
            rss_j, dof_j = [], []
            # In chunks of stopping times: memory does not grow with the grid.
            for start in range(0, n_iters.size, _IC_CHUNK):
                steps = n_iters[start : start + _IC_CHUNK]
                psi = problem.filter(run.learning_rate, run.rho, steps, variant)
                rss_j.append(problem.rss(run.learning_rate, run.rho, steps, psi=psi))
                dof_j.append(problem.dof(run.learning_rate, run.rho, steps, psi=psi))
            rss.append(np.concatenate(rss_j, axis=-1))
            dof.append(np.concatenate(dof_j))
        rss, dof = np.stack(rss, axis=1), np.stack(dof)
        # The one weight rule (_gcv): frequency weights, n_obs = S.
        n_obs = gcv_n_obs(problem)
        y_mean_sq = to_numpy(problem.y_sq_norm) / problem.sum_weights
        sum_weights = n_obs

        if self.noise_variance is None:
            try:
                sigma2 = self._estimate_noise_variance(problem, rss, dof, n_obs)
            except ValueError as exc:
                _raise_if_every_rho_diverges(problem, runs, variant, exc)
                raise
            # Noiseless data: keep the criteria finite (documented floor).
            floor = np.finfo(float).eps * y_mean_sq
            sigma2 = np.maximum(sigma2, np.maximum(floor, np.finfo(float).tiny))
        else:
            sigma2 = np.full(problem.n_targets, float(self.noise_variance))
        tau = float(self.discrepancy_tau)
        if selects_per_target(self, problem.n_targets):
            # Each target's own criterion and pick (_per_target).
            values = criterion_values(
                self.criterion, rss, dof, sum_weights, sigma2, tau, average=False
            )
            cp = None
            if self.criterion == "discrepancy":
                cp = criterion_values(
                    "cp", rss, dof, sum_weights, sigma2, average=False
                )
            best_rho, best_iter = ic_target_picks(self.criterion, values, cp, n_iters)
            self.criterion_ = like_input(values, data.X)
            self.dof_ = like_input(dof, data.X)
            self.noise_variance_ = like_input(sigma2, data.X)
            return set_target_selection(
                self,
                estimator,
                data,
                problem,
                grid,
                best_iter * rhos.size + best_rho,
                None,
            )
        values = criterion_values(self.criterion, rss, dof, sum_weights, sigma2, tau)
        if self.criterion == "discrepancy":
            cp = criterion_values("cp", rss, dof, sum_weights, sigma2)
            best_rho, best_iter = discrepancy_choice(values, cp, n_iters)
        else:
            best_rho, best_iter = first_best(values, n_iters)

        # The selected model, read from the same decomposition (no refit).
        n_iter = int(n_iters[best_iter])
        edge = grid_edge(
            grid,
            n_iter,
            float(rhos[best_rho]),
            problem,
            self.learning_rate,
            variant,
        )
        start = time.perf_counter()
        estimator.set_params(rho=float(rhos[best_rho]), n_iter=n_iter)
        run = runs[best_rho]
        estimator._set_fitted(data, run, run.coef(n_iter), n_iter)
        self.refit_time_ = time.perf_counter() - start

        self.n_iters_ = like_input(n_iters, data.X)
        self.rhos_ = like_input(rhos, data.X)
        self.rho_unit_ = grid.rho_unit
        self.n_iter_at_edge_ = edge
        self.rho_at_edge_ = rho_edge(grid, float(rhos[best_rho]))
        self.best_index_ = int(best_iter * rhos.size + best_rho)
        self.best_params_ = {"n_iter": n_iter, "rho": float(rhos[best_rho])}
        self.criterion_, self.dof_ = like_input(values, data.X), like_input(dof, data.X)
        self.noise_variance_ = (
            float(sigma2[0]) if data.y_ndim == 1 else like_input(sigma2, data.X)
        )
        self.rho_, self.n_iter_ = float(rhos[best_rho]), n_iter
        self.best_estimator_ = estimator
        return self._expose_selected(estimator)


_PARAMS_DOC = """
    n_iters : array-like of int, default=None
        Stopping times to evaluate (``>= 0``). ``None`` is the scale-free grid of
        the cross-validated estimators (log-spaced up to the converged path,
        derived from the spectrum; see the user guide).
    rhos : array-like of float, default=None
        SAM radii to evaluate (``0`` is gradient descent), used as given unless
        ``relative_rho``. ``None`` is ``(0, 0.1, 1, 10) / lam_max``.
    relative_rho : bool, default=False
        State ``rhos`` in units of ``1 / lam_max`` (stored in ``rho_unit_``).
    criterion : {{"cp", "aic", "bic", "discrepancy"}}, default="cp"
        The selection rule (formulas in the Notes).
    noise_variance : float, default=None
        The noise variance ``sigma^2`` used by every criterion.{noise_rule}
    discrepancy_tau : float, default=1.0
        The constant ``tau`` of the discrepancy principle (``criterion=
        "discrepancy"``): stop once the mean squared residual is at most
        ``tau * sigma^2``. ``1`` is the classical choice; larger values stop
        earlier.{per_target}
    learning_rate : "auto" or float, default="auto"
        Step size as in the base estimator; ``"auto"`` depends on ``rho``.
    variant : {{"unnormalized"}} or SAMVariant, default="unnormalized"
        A variant that is a linear smoother with an exact filter (exact degrees of
        freedom): unnormalized SAM, or a ``SAMVariant`` with ``linear_in_y`` and
        ``has_filter``; ``"normalized"`` raises a ``ValueError`` in ``fit``.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (it counts as one degree of freedom).
    verbose : int, default=0
        ``1`` prints one line per ``rho``.""".replace(
    "{per_target}", PER_TARGET_IC_DOC.replace("{", "{{").replace("}", "}}")
)

_LINEAR_NOISE_RULE = """
        ``None`` estimates it from the residual of the weighted least-squares fit
        (with fewer samples than that needs, by the GCV rule of
        :class:`SAMKernelRidgeIC`, with a ``UserWarning``),
        ``sigma^2 = RSS_LS / (n - r - fit_intercept)``, with ``r`` the rank of the
        centred design (``n_features`` unless columns are collinear), as
        :class:`~sklearn.linear_model.LassoLarsIC` does. This needs
        ``n > r + fit_intercept`` (more samples than features); otherwise ``fit``
        raises a ``ValueError`` asking for ``noise_variance``."""

_KERNEL_NOISE_RULE = """
        ``None`` estimates it for each target at the generalized cross-validation
        minimiser over the same grid (see the Notes): the least-squares residual
        of a full-rank kernel is zero, so the linear model's rule does not
        apply."""

_ATTRIBUTES_DOC = (
    """
    n_iter_ : int or ndarray of shape (n_targets,)
        Selected number of steps (one per target with ``per_target``).
    rho_ : float or ndarray of shape (n_targets,)
        Selected SAM radius (one per target with ``per_target``).
    criterion_ : ndarray of shape (n_rhos, n_iters) or (n_targets, n_rhos, n_iters)
        The criterion at every grid point (``criterion_[i, j]`` for ``rhos_[i]``
        and ``n_iters_[j]``), averaged over targets (each target's own, first
        axis, with ``per_target``); for ``"discrepancy"``,
        ``RSS / n - tau * sigma^2``. Diverged points are ``inf`` or ``nan``.
    dof_ : ndarray of shape (n_rhos, n_iters)
        Degrees of freedom ``sum_i (1 - r_i^k)`` (+1 with an intercept): the trace
        of the training smoother.
    noise_variance_ : float or ndarray of shape (n_targets,)
        The noise variance used (given or estimated).
    n_iters_ : ndarray of shape (n_iters,)
        The stopping-time grid (integers, in the order given).
    rhos_ : ndarray of shape (n_rhos,)
        The radius grid, in absolute units.
    rho_unit_ : float
        The unit of relative radii (``1.0`` for explicit absolute ``rhos``).
    best_params_ : dict or list of dict
        ``{{"n_iter": n_iter_, "rho": rho_}}``; ``rho`` is absolute (also with
        ``relative_rho``), so ``{estimator}(**best_params_)`` refits the selected
        model (``rho_ / rho_unit_`` is the relative value). With ``per_target``,
        one such dict per target.
    best_index_ : int or ndarray of shape (n_targets,)
        Index of the selected pair in the order ``n_iter`` outer, ``rho`` inner
        (each target's with ``per_target``).
"""
    + N_ITER_AT_EDGE_DOC
    + "\n"
    + RHO_AT_EDGE_DOC
    + """
    best_estimator_ : {estimator}
        The selected model, with exactly the fitted attributes of
        ``{estimator}(rho=rho_, n_iter=n_iter_, solver="spectral", ...).fit(X, y,
        sample_weight)``, computed from the decomposition made for the selection;
        ``predict`` and ``staged_predict`` delegate to it. With ``per_target``,
        the model of every target's pick: its column ``t`` is that of
        ``{estimator}(**best_params_[t], solver="spectral").fit(X, y[:, t],
        sample_weight)`` (to rounding), its ``n_iter_``, ``rho_`` and
        ``learning_rate_`` are arrays of shape (n_targets,), its
        ``staged_predict`` yields the steps ``1 .. max(n_iter_)`` with target
        ``t`` frozen after its own ``n_iter_[t]``; its parameters ``n_iter`` and
        ``rho`` are the largest selected ones and do not describe it.
    refit_time_ : float
        Seconds spent setting up the selected model on all the data (read from
        the decomposition of the selection, no refit), as ``GridSearchCV``'s
        ``refit_time_``. There is no ``cv_results_``, ``scorer_`` or
        ``n_splits_``: no splits and no scorer (``criterion_`` holds the scores).
    learning_rate_ : float or ndarray of shape (n_targets,)
        Step size of the selected model (of each target's, with ``per_target``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names."""
)

_NOTES_DOC = """
    With sample weights ``s_i`` (frequency weights: ``n = sum_i s_i`` is the number
    of samples; all ones without weights), the fitted values ``f_k`` after ``k``
    steps, the weighted residual sum of squares
    ``RSS_k = sum_i s_i (y_i - f_k(x_i))^2``, the degrees of freedom
    ``dof_k = sum_i (1 - r_i^k) + fit_intercept`` (``r_i = 1 - eta lam_i (1 + rho
    lam_i)`` over the eigenvalues ``lam_i`` of the weighted, centred Gram or kernel
    matrix divided by the weight sum) and the noise variance ``sigma^2``:

    - ``"cp"`` (Mallows' Cp, Stein's unbiased risk estimate):
      ``Cp_k = RSS_k / n + 2 sigma^2 dof_k / n``. For ``y = f + eps`` with
      independent noise of variance ``sigma^2`` (unit weights),
      ``E[Cp_k] = E ||f_k - f||^2 / n + sigma^2``: the expected mean squared
      error on fresh labels at the training inputs (in-sample risk plus noise).
      It is unbiased for a known ``sigma^2`` and for any unbiased estimate of
      it, since ``dof_k`` does not depend on ``y``.
    - ``"aic"`` (as :class:`~sklearn.linear_model.LassoLarsIC`):
      ``n log(2 pi sigma^2) + RSS_k / sigma^2 + 2 dof_k``. With ``sigma^2`` fixed
      it is ``n Cp_k / sigma^2`` plus a constant, so it selects what ``"cp"``
      selects (for one target).
    - ``"bic"``: ``n log(2 pi sigma^2) + RSS_k / sigma^2 + log(n) dof_k``.
    - ``"discrepancy"`` (Morozov's discrepancy principle, the data-driven
      stopping rule of the early-stopping literature): for each ``rho``, stop at
      the smallest ``n_iter`` of the grid with ``RSS_k / n <= tau sigma^2``
      (``tau = discrepancy_tau``): the fit is stopped as soon as its residual is
      no larger than the noise. The residual decreases with ``k`` at any stable
      step size, so this is the first crossing. ``rho_`` is then the radius
      whose stopped model has the smallest ``Cp``. If no grid point crosses, the
      largest ``n_iter`` of every ``rho`` competes instead and a
      ``ConvergenceWarning`` is emitted.

    The other criteria select the grid point with the smallest value (ties: the
    fewest steps, then the first ``rho``). With several targets each has its own
    ``sigma^2`` and the criteria are averaged over targets (the criterion of the
    stacked problem); with ``per_target=True`` each target is selected by its
    own criterion instead. Sample weights act as frequency weights (the one weight rule
    of every criterion, :ref:`sample_weight_rule`): integer weights give exactly
    the criteria of the data with row ``i`` repeated ``s_i`` times, a zero weight
    drops the row, and rescaling all weights changes ``n``, as repeating every row
    would.
{noise_notes}
    An estimated ``sigma^2`` is floored at machine epsilon times ``||y_c||^2 / n``
    (centred targets) so that noiseless data keep finite criteria.

    Cost: one eigendecomposition, the one a ``solver="spectral"`` fit makes;
    every ``(rho, n_iter)`` then costs O(rank), and the selected model is read
    from the same decomposition."""

_LINEAR_NOISE_NOTES = """
    The least-squares residual ``RSS_LS`` of the noise estimate is the ``k -> inf``
    limit of the path: the part of ``y`` outside the span of the centred design,
    read from the same decomposition.
"""

_KERNEL_NOISE_NOTES = """
    Without ``noise_variance``, each target's ``sigma^2`` comes from the grid point
    ``(rho, n_iter)`` that minimises generalized cross-validation,
    ``GCV_k = (RSS_k / n) / (1 - dof_k / n)^2`` (the criterion of
    ``SAMKernelRidgeCV(cv="gcv")``), as ``sigma^2 = RSS_k / (n - dof_k)`` there
    (Wahba's residual-variance estimate for linear smoothers), over the grid
    points with ``dof_k <= 0.9 n``: near interpolation both ``RSS_k`` and
    ``n - dof_k`` are tiny and the estimate collapses, so where GCV is smallest
    there a ``UserWarning`` says so. It depends on the grid and is an
    approximation; pass ``noise_variance`` when it is known. It needs a grid
    point with ``dof_k <= 0.9 n``, otherwise ``fit`` raises a
    ``ValueError``.
"""

_LINEAR_ATTRIBUTES_DOC = _ATTRIBUTES_DOC.format(estimator="SAMRegressor")
_KERNEL_ATTRIBUTES_DOC = _ATTRIBUTES_DOC.format(estimator="SAMKernelRidge")


class SAMRegressorIC(RegressorMixin, BaseSAMIC):
    __doc__ = f"""Linear SAM with the stopping time and rho chosen by a criterion.

    Evaluates Mallows' Cp, AIC, BIC or the discrepancy principle for
    :class:`SAMRegressor` over the grid ``rhos x n_iters`` from one
    eigendecomposition (exact residuals and degrees of freedom, no refits), like
    :class:`~sklearn.linear_model.LassoLarsIC` along the lasso path; unnormalized SAM
    is a linear smoother whose bias and variance are exact [1]_.

    Parameters
    ----------{_PARAMS_DOC.format(noise_rule=_LINEAR_NOISE_RULE)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights of the selected model.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the selected model.{_LINEAR_ATTRIBUTES_DOC}

    See Also
    --------
    SAMRegressorCV : Selection by cross-validation (or GCV).
    SAMKernelRidgeIC : The same for kernel SAM.
    sklearn.linear_model.LassoLarsIC : The lasso counterpart.

    Notes
    -----{_NOTES_DOC.format(noise_notes=_LINEAR_NOISE_NOTES)}

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMRegressorIC
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 30)) * np.geomspace(1, 0.01, 30)
    >>> y = X @ rng.standard_normal(30) + 0.5 * rng.standard_normal(100)
    >>> model = SAMRegressorIC(criterion="cp").fit(X, y)
    >>> model.n_iter_, round(model.rho_ / model.rho_unit_, 6)  # in units of 1/lam_max
    (100, 0.1)
    >>> round(model.noise_variance_, 3)  # the true value is 0.25
    0.386
    >>> model.criterion_.shape == (len(model.rhos_), len(model.n_iters_))
    True
    """

    _estimator_class = SAMRegressor
    _copied_attributes = ("coef_", "intercept_")

    def __init__(
        self,
        n_iters=None,
        rhos=None,
        *,
        relative_rho=False,
        criterion="cp",
        noise_variance=None,
        discrepancy_tau=1.0,
        per_target=False,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        verbose=0,
    ):
        self.n_iters = n_iters
        self.rhos = rhos
        self.relative_rho = relative_rho
        self.verbose = verbose
        self.criterion = criterion
        self.noise_variance = noise_variance
        self.discrepancy_tau = discrepancy_tau
        self.per_target = per_target
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept

    def _estimate_noise_variance(self, problem, rss, dof, n_obs):
        n_samples = problem.n_samples
        rank = problem.factor.lam.shape[0]
        dof_ls = rank + int(self.fit_intercept)
        if not n_obs > dof_ls:
            # No least-squares residual: the kernel estimators' GCV rule instead.
            noise_variance = gcv_noise_variance(rss, dof, n_obs, n_obs)
            intercept = " + 1 for the intercept" if self.fit_intercept else ""
            detail = (
                f"a sum of sample weights S={n_obs:g} (the number of samples, "
                f"frequency weights; n_samples={n_samples}) for {dof_ls} "
                f"least-squares degrees of freedom (rank {rank} of the centred "
                f"design{intercept})"
            )
            if noise_variance is None:
                raise ValueError(
                    "noise_variance=None: the least-squares residual needs more "
                    f"samples than degrees of freedom and no grid point has fewer "
                    f"degrees of freedom than samples; got {detail}. Pass "
                    "noise_variance (a known value or a pilot estimate)."
                )
            warn(
                "noise_variance=None: the least-squares estimate RSS / (S - dof) "
                f"needs more samples than degrees of freedom; got {detail}; the "
                "noise variance is estimated at the GCV minimiser of the grid "
                "instead (an approximation). Pass noise_variance when it is known.",
                UserWarning,
            )
            return noise_variance
        with np.errstate(invalid="ignore"):  # r^inf = 0 (array-api-strict warns)
            noise_variance = least_squares_noise_variance(
                problem.factor, problem.y_sq_norm, n_obs, dof_ls
            )
        return to_numpy(noise_variance)


class SAMKernelRidgeIC(RegressorMixin, BaseSAMIC):
    __doc__ = f"""Kernel SAM with the stopping time and rho chosen by a criterion.

    Evaluates Mallows' Cp, AIC, BIC or the discrepancy principle for
    :class:`SAMKernelRidge` over the grid ``rhos x n_iters`` from one ``n x n``
    eigendecomposition (``m x m`` with ``n_components=m``: the exact smoother of
    the Nystroem model; exact residuals and degrees of freedom, no refits;
    unnormalized SAM is a linear smoother [1]_).

    Parameters
    ----------{_PARAMS_DOC.format(noise_rule=_KERNEL_NOISE_RULE)}
    kernel : str or callable, default="linear"
        Kernel, as in :class:`SAMKernelRidge`.
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
        Seeds the landmark draw of ``n_components`` (one draw, from all the rows,
        from a copy of a ``RandomState`` instance; dask arrays are reduced in one
        pass).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Dual coefficients of the selected model.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the selected model.
    X_fit_ : {{ndarray, sparse matrix}} of shape (n_samples, n_features)
        Training data of the selected model (with ``n_components``, its
        landmarks).
    {NYSTROEM_ATTRIBUTES_DOC}{_KERNEL_ATTRIBUTES_DOC}

    See Also
    --------
    SAMKernelRidgeCV : Selection by cross-validation (or GCV).
    SAMRegressorIC : The same for linear SAM.

    Notes
    -----{_NOTES_DOC.format(noise_notes=_KERNEL_NOISE_NOTES)}

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMKernelRidgeIC
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(100)
    >>> model = SAMKernelRidgeIC(kernel="rbf", gamma=0.5).fit(X, y)
    >>> model.n_iter_, model.rho_
    (8, 0.0)
    >>> round(model.noise_variance_, 4)  # the true value is 0.09
    0.0864
    """

    _estimator_class = SAMKernelRidge
    _copied_attributes = ("dual_coef_", "intercept_", "X_fit_")
    _optional_attributes = NYSTROEM_ATTRIBUTES
    _parameter_constraints: dict = {
        **BaseSAMIC._parameter_constraints,
        **KERNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        n_iters=None,
        rhos=None,
        *,
        relative_rho=False,
        criterion="cp",
        noise_variance=None,
        discrepancy_tau=1.0,
        per_target=False,
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
        verbose=0,
    ):
        self.n_iters = n_iters
        self.rhos = rhos
        self.relative_rho = relative_rho
        self.verbose = verbose
        self.criterion = criterion
        self.noise_variance = noise_variance
        self.discrepancy_tau = discrepancy_tau
        self.per_target = per_target
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

    def _estimate_noise_variance(self, problem, rss, dof, n_obs):
        n_samples = problem.n_samples
        noise_variance = gcv_noise_variance(rss, dof, n_obs, n_obs)
        if noise_variance is None:
            raise ValueError(
                "noise_variance=None estimates the noise variance at the GCV "
                "minimiser, which needs a grid point with fewer degrees of freedom "
                f"than samples; got n_samples={n_samples} (sum of sample weights "
                f"{n_obs:g}, the number of samples) and no such point. Pass "
                "noise_variance."
            )
        return noise_variance


def _raise_if_every_rho_diverges(problem, runs, variant, cause):
    """The error of a failed noise estimate when the learning rate is unstable at
    every rho: the divergence, not the grid, is what to fix."""
    limits = [
        variant.largest_stable_learning_rate(problem.lam_max, run.rho) for run in runs
    ]
    if all(run.learning_rate >= limit for run, limit in zip(runs, limits, strict=True)):
        raise ValueError(
            "noise_variance=None: the SAM iterates diverge at every rho of the grid "
            f"(learning_rate={runs[0].learning_rate:.6g}; the largest stable one is "
            f"{max(limits):.6g}, see the ConvergenceWarning), so no grid point gives "
            "a noise estimate (their degrees of freedom leave [0, n]). Use "
            "learning_rate='auto' or a smaller learning_rate, or pass noise_variance."
        ) from cause
