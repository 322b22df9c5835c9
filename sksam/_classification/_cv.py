"""SAMClassifierCV: the stopping time and rho of SAMClassifier by cross-validation.

The search of ``SAMRegressorCV`` (``_cv``) on the classifier: one decomposition per
split scores every ``(n_iter, rho)`` for all the classes; accuracy is read off the
decision values of the whole path in one vectorised pass (the classifier's
``_score_path``, ``_labels.AccuracyScorePath``).
"""

import numpy as np
from sklearn.base import ClassifierMixin

from .._kernel import NYSTROEM_ATTRIBUTES
from .._params import KERNEL_CONSTRAINTS
from .._selection._cv import BaseSAMCV
from .._selection._dof_guard import MAX_DOF_FRACTION
from .._validation import check_same_namespace, takes_dask_route
from ._classifier import _CLASS_WEIGHT, SAMClassifier, SAMKernelClassifier

__all__ = ["SAMClassifierCV", "SAMKernelClassifierCV"]


class SAMClassifierCV(ClassifierMixin, BaseSAMCV):
    """Least-squares SAM classifier with the stopping time and rho chosen by CV.

    Cross-validates :class:`SAMClassifier` over the grid ``n_iters x rhos`` at
    about the cost of one fit per split (one eigendecomposition for all the
    classes and grid points), then refits the best pair on all the data. Folds are
    stratified and the score is the accuracy by default, as in
    :class:`~sklearn.model_selection.GridSearchCV` over a classifier.

    Parameters
    ----------
    n_iters : array-like of int, default=None
        Stopping times to try (``>= 0``, in the order given). ``None`` derives them
        from the spectrum of all the training data, as :class:`SAMRegressorCV`
        does; the grid used is ``n_iters_``.
    rhos : array-like of float, default=None
        SAM radii to try (``0`` is gradient descent). ``None`` is ``(0, 0.1, 1,
        10)`` in units of ``1 / lam_max`` of all the training data, as in
        :class:`SAMRegressorCV`; the grid used is ``rhos_``.
    relative_rho : bool, default=False
        State ``rhos`` in the units of ``rhos=None`` (stored in ``rho_unit_``).
    cv : int, cross-validation generator, iterable or "gcv", default=5
        Any ``cv`` accepted by :func:`sklearn.model_selection.check_cv` with
        ``classifier=True``: an int is ``StratifiedKFold`` (without shuffling) for
        binary and multiclass labels, ``KFold`` otherwise. ``"gcv"`` selects by
        generalized cross-validation of the squared error on the +/-1 indicators
        instead, from one decomposition of all the data (an approximation, see
        :class:`SAMRegressorCV`; ``best_score_`` is then ``-GCV``).
    scoring : str, callable, list, tuple, set, dict or None, default=None
        A scorer name of :func:`sklearn.metrics.get_scorer_names` or a callable
        ``scorer(estimator, X, y)``; ``None`` is the estimator's ``score``
        (accuracy). Several metrics as in ``GridSearchCV`` (a list, tuple or set
        of scorer names, a dict of names to scorers, or a callable returning a
        dict; see :class:`SAMRegressorCV`), with ``refit`` naming the one that
        selects. Each grid point is scored exactly as ``GridSearchCV`` scores
        its refitted model. For ``None`` and ``"accuracy"`` (float64 data) the
        accuracy of every grid point of a split comes from one vectorised pass
        over the decision values; other scorers are called on a fitted estimator
        whose coefficients are set from the path.
    refit : bool, str or callable, default=True
        As in ``GridSearchCV`` and :class:`SAMRegressorCV`: ``True`` (one
        metric), the name of the metric that selects, a callable of
        ``cv_results_`` returning ``best_index_``, or ``False`` (no refit; no
        ``predict``).
    max_dof_fraction : float in (0, 1] or None, default=0.999
        The interpolation guard, as in :class:`SAMRegressorCV`: a best mean
        score at a candidate whose degrees of freedom exceed this fraction of a
        training fold's samples is passed over for the best candidate within
        the bound (with a warning); ``None``: ``GridSearchCV``'s pick always.
    n_jobs : int, default=None
        Number of jobs over the splits.
    store_cv_results : bool, default="deprecated"
        Deprecated in 0.1, removed in 0.2: ``cv_results_`` is always set.
    verbose : int, default=0
        Progress messages, as in :class:`SAMRegressorCV`.
    learning_rate : "auto" or float, default="auto"
        Step size as in :class:`SAMClassifier` (``"auto"`` is resolved on each
        training part, as in the models ``GridSearchCV`` would fit).
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        Normalized SAM runs its exact recursion once per ``rho`` and split; a
        variant without an exact filter runs its loop once per ``rho`` and split.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept per indicator column.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as in :class:`SAMClassifier` (computed on each
        training part, as in the models ``GridSearchCV`` would fit).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_classes, n_features)
        Weights of the refitted model.
    intercept_ : float or ndarray of shape (1,) or (n_classes,)
        Intercept of the refitted model.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_iter_ : int
        Selected number of steps.
    rho_ : float
        Selected SAM radius.
    best_score_ : float
        Mean validation score of the selected pair (of the ``refit`` metric;
        absent with a callable ``refit``).
    best_params_ : dict
        ``{"n_iter": n_iter_, "rho": rho_}``, as in ``GridSearchCV`` (``rho``
        absolute, also with ``relative_rho``). With several metrics and
        ``refit=False`` nothing is selected: ``best_*``, ``n_iter_`` and
        ``rho_`` are absent.
    best_index_ : int
        Index of the selected pair in the order ``n_iter`` outer, ``rho`` inner.
    n_iters_ : ndarray of shape (n_n_iters,)
        The stopping-time grid used (the default one when ``n_iters=None``).
    rhos_ : ndarray of shape (n_rhos,)
        The radius grid used, in absolute units.
    rho_unit_ : float
        The unit of relative radii (``1.0`` for explicit absolute ``rhos``).
    n_iter_at_edge_ : {"lower", "upper"} or None
        Whether ``n_iter_`` is at an end of the grid that does not bound the path,
        and when that warns: as in :class:`SAMRegressorCV`.
    rho_at_edge_ : {"lower", "upper"} or None
        Whether ``rho_`` is at an end of the radius grid, and when that warns: as
        in :class:`SAMRegressorCV`.
    best_estimator_ : SAMClassifier
        The model with ``n_iter_`` and ``rho_`` refitted on all the data (absent
        with ``refit=False``, as are the model's attributes).
    learning_rate_ : float
        Step size of the refitted model.
    cv_results_ : dict of ndarray
        The keys of ``GridSearchCV.cv_results_`` for the candidates of
        ``ParameterGrid({"n_iter": n_iters, "rho": rhos})`` (see
        :class:`SAMRegressorCV`; ``_<name>`` for ``_score`` with several
        metrics).
    scorer_ : callable, dict or None
        The scorer of the validation folds (a dict for several metrics);
        ``None`` for ``cv="gcv"``.
    multimetric_ : bool
        Whether several metrics were scored.
    n_splits_ : int or None
        Number of cross-validation splits; ``None`` for ``cv="gcv"``.
    refit_time_ : float
        Seconds spent refitting the selected pair on all the data (absent with
        ``refit=False``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMClassifier : The classifier with a fixed stopping time.
    SAMRegressorCV : The same search for regression.
    sklearn.linear_model.RidgeClassifierCV : Ridge classification with ``alpha``
        chosen by (leave-one-out) cross-validation.

    Notes
    -----
    The selected pair, every split score and every mean score equal those of
    ``GridSearchCV(SAMClassifier(...), {"n_iter": n_iters, "rho": rhos}, cv=cv,
    scoring=scoring, refit=refit)``, ties included (the first best candidate in
    the grid order wins: the fewest steps among ``n_iters`` given in increasing
    order), unless the interpolation guard moved the pick (``max_dof_fraction``,
    with a warning). The
    accuracy of a grid point is exact unless two classes' decision values tie to
    rounding. ``sample_weight`` weights every training fit, and the validation
    scores exactly when ``GridSearchCV`` weights them (see ``fit``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sksam import SAMClassifierCV
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = SAMClassifierCV(n_iters=[10, 30, 100, 300], rhos=(0.0, 1.0)).fit(X, y)
    >>> clf.n_iter_, clf.rho_
    (100, 0.0)
    >>> round(clf.best_score_, 3)
    0.897
    """

    _estimator_class = SAMClassifier
    _copied_attributes = ("coef_", "intercept_", "classes_")
    _parameter_constraints: dict = {**BaseSAMCV._parameter_constraints, **_CLASS_WEIGHT}

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
        verbose=0,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        class_weight=None,
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
        self.verbose = verbose
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight

    def _search_targets(self, y):
        # Dask labels are small (one per row) and read by the splitter's class
        # check, stratified splits and the passes over X: one pass brings them here.
        return np.asarray(y) if takes_dask_route(y) else y

    def decision_function(self, X):
        """Decision values of the model refitted at ``(n_iter_, rho_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision values (see :meth:`SAMClassifier.decision_function`).
        """
        model = self._refitted("decision_function")
        check_same_namespace(X, self, self._copied_attributes[0], "decision_function")
        return model.decision_function(X)

    def staged_decision_function(self, X):
        """Yield the decision values of the selected model after steps ``1..n_iter_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision values.
        """
        model = self._refitted("staged_decision_function")
        yield from model.staged_decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = self._make_estimator().__sklearn_tags__()
        tags.regressor_tags = None
        tags.target_tags = estimator_tags.target_tags
        tags.classifier_tags = estimator_tags.classifier_tags
        return tags


class SAMKernelClassifierCV(SAMClassifierCV):
    """Kernel least-squares SAM classifier with the stopping time and rho by CV.

    :class:`SAMClassifierCV` over :class:`SAMKernelClassifier`: one ``n x n``
    eigendecomposition per split scores every ``(n_iter, rho)`` for all the
    classes, then the best pair is refitted on all the data. The picks,
    ``best_score_`` and the scores of ``cv_results_`` equal those of
    ``GridSearchCV(SAMKernelClassifier(...), {"n_iter": n_iters, "rho": rhos},
    cv=cv, scoring=scoring, refit=refit)`` (stratified folds and accuracy by
    default), unless the interpolation guard moved the pick
    (``max_dof_fraction``, with a warning).

    Parameters
    ----------
    n_iters : array-like of int, default=None
        Stopping times to try, as in :class:`SAMClassifierCV`.
    rhos : array-like of float, default=None
        SAM radii to try, as in :class:`SAMClassifierCV` (``None``: ``(0, 0.1,
        1, 10)`` in units of ``1 / lam_max`` of the training kernel).
    relative_rho : bool, default=False
        State ``rhos`` in the units of ``rhos=None`` (stored in ``rho_unit_``).
    cv : int, cross-validation generator, iterable or "gcv", default=5
        As in :class:`SAMClassifierCV` (``kernel="precomputed"``: splits take the
        kernel's rows and training columns).
    scoring : str, callable, list, tuple, set, dict or None, default=None
        As in :class:`SAMClassifierCV` (``None``: accuracy; several metrics as
        in ``GridSearchCV``).
    refit : bool, str or callable, default=True
        As in ``GridSearchCV`` and :class:`SAMRegressorCV`.
    max_dof_fraction : float in (0, 1] or None, default=0.999
        The interpolation guard, as in :class:`SAMRegressorCV`.
    n_jobs : int, default=None
        Number of jobs over the splits.
    store_cv_results : bool, default="deprecated"
        Deprecated in 0.1, removed in 0.2: ``cv_results_`` is always set.
    verbose : int, default=0
        Progress messages, as in :class:`SAMRegressorCV`.
    learning_rate : "auto" or float, default="auto"
        Step size as in :class:`SAMKernelClassifier`.
    variant : {"unnormalized", "normalized"}, default="unnormalized"
        SAM variant.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept per indicator column.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as in :class:`SAMKernelClassifier`.
    kernel : str or callable, default="linear"
        Kernel, as in :class:`SAMKernelClassifier`.
    gamma : float, default=None
        Kernel parameter, as in :class:`SAMKernelClassifier`.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Zero coefficient of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Extra parameters of a callable kernel.
    n_components : int, default=None
        Nystroem SAM on ``m`` landmarks, as in :class:`SAMKernelClassifier`
        (``None``: the exact kernel model).
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark draw of ``n_components``: each split draws its own
        landmarks from its training rows and the refit from all the rows, as
        the estimators that ``GridSearchCV`` fits would (a ``RandomState``
        instance is copied for each draw, as ``GridSearchCV``'s clones copy it,
        and is not advanced). On dask arrays: one
        pass gathers the landmarks, one reduces every split's moments (each in
        its own features) and one scores the test rows.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Dual coefficients of the refitted model.
    intercept_ : float or ndarray of shape (1,) or (n_classes,)
        Intercept of the refitted model.
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data of the refitted model (with ``n_components``, its
        landmarks).
    components_, component_indices_, normalization_, feature_coef_
        With ``n_components``: those of ``best_estimator_`` (see
        :class:`SAMKernelClassifier`).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_iter_ : int
        Selected number of steps.
    rho_ : float
        Selected SAM radius.
    best_score_ : float
        Mean validation score of the selected pair.
    best_params_ : dict
        ``{"n_iter": n_iter_, "rho": rho_}``, as in ``GridSearchCV``.
    best_index_ : int
        Index of the selected pair in ``cv_results_``.
    n_iters_ : ndarray of shape (n_n_iters,)
        The stopping-time grid used.
    rhos_ : ndarray of shape (n_rhos,)
        The radius grid used, in absolute units.
    rho_unit_ : float
        The unit of relative radii (``1.0`` for explicit absolute ``rhos``).
    n_iter_at_edge_, rho_at_edge_ : {"lower", "upper"} or None
        As in :class:`SAMRegressorCV`.
    best_estimator_ : SAMKernelClassifier
        The model with ``n_iter_`` and ``rho_`` refitted on all the data (absent
        with ``refit=False``, as are the model's attributes).
    learning_rate_ : float
        Step size of the refitted model.
    cv_results_ : dict of ndarray
        The keys of ``GridSearchCV.cv_results_`` (see :class:`SAMRegressorCV`;
        ``_<name>`` for ``_score`` with several metrics).
    scorer_ : callable, dict or None
        The scorer of the validation folds (a dict for several metrics);
        ``None`` for ``cv="gcv"``.
    multimetric_ : bool
        Whether several metrics were scored.
    n_splits_ : int or None
        Number of cross-validation splits; ``None`` for ``cv="gcv"``.
    refit_time_ : float
        Seconds spent refitting the selected pair on all the data (absent with
        ``refit=False``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMKernelClassifier : The classifier with a fixed stopping time.
    SAMClassifierCV : The same search for the linear classifier.
    SAMKernelRidgeCV : The same search for kernel regression.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksam import SAMKernelClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SAMKernelClassifierCV([1, 10, 100, 1000], [0.0, 1.0], kernel="rbf")
    >>> clf = clf.fit(X, y)
    >>> clf.n_iter_, clf.rho_
    (100, 1.0)
    """

    _estimator_class = SAMKernelClassifier
    _copied_attributes = ("dual_coef_", "intercept_", "X_fit_", "classes_")
    _optional_attributes = NYSTROEM_ATTRIBUTES
    _parameter_constraints: dict = {
        **SAMClassifierCV._parameter_constraints,
        **KERNEL_CONSTRAINTS,
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
        verbose=0,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        class_weight=None,
        kernel="linear",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        n_components=None,
        random_state=None,
    ):
        super().__init__(
            n_iters,
            rhos,
            relative_rho=relative_rho,
            cv=cv,
            scoring=scoring,
            refit=refit,
            max_dof_fraction=max_dof_fraction,
            n_jobs=n_jobs,
            store_cv_results=store_cv_results,
            verbose=verbose,
            learning_rate=learning_rate,
            variant=variant,
            fit_intercept=fit_intercept,
            class_weight=class_weight,
        )
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.random_state = random_state
