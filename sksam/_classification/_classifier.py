"""SAMClassifier and SAMKernelClassifier: early-stopped SAM on +/-1 class indicators.

As ``RidgeClassifier`` does with Ridge, a classifier fits the least-squares model on
the +/-1 indicator columns of the labels (``_labels``) and predicts by the sign or
the arg-max of the decision values. All the columns share one ``Problem``: one
decomposition fits every class.

Both classifiers are built the same way: ``SAMClassifierMixin`` (labels, decision
values, the accuracy score path) over the model hooks of the regressors
(``LinearSAM``, ``KernelSAM``), without ``RegressorMixin``.
"""

import copy

from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._kernel import KernelSAM
from .._linear import LinearSAM
from .._param_docs import fill_doc
from .._params import KERNEL_CONSTRAINTS, SAM_CONSTRAINTS
from .._validation import as_output, check_fit_data, labels_on_host, takes_dask_route
from ._labels import (
    AccuracyScorePath,
    _is_multilabel,
    binarize_labels,
    dask_binarize_labels,
    decision_labels,
)

__all__ = ["SAMClassifier", "SAMClassifierMixin", "SAMKernelClassifier"]

_CLASS_WEIGHT = {"class_weight": [dict, StrOptions({"balanced"}), None]}

#: Scorings whose value on every step of a path is one vectorised accuracy.
ACCURACY_SCORINGS = (None, "accuracy")


class SAMClassifierMixin(ClassifierMixin):
    """Labels, decision values, predictions and the score path of the classifiers.

    Goes before a model base (``LinearSAM``, ``KernelSAM``) whose hooks it wraps:
    ``_validate_fit_data`` encodes the labels as +/-1 indicators before the
    model's validation, ``_store_model`` keeps the binarizer, and
    ``_score_path`` (see ``BaseSAM``) scores the accuracy of the labels.
    """

    def _validate_fit_data(self, X, y, sample_weight):
        return self._label_data(X, y, sample_weight, super()._validate_fit_data)

    def _store_model(self, coefficients, intercept, data):
        super()._store_model(coefficients, intercept, data)
        self._store_labels(data)

    def _score_path(self, scoring):
        """The ``AccuracyScorePath`` of ``scoring`` (``None`` or ``"accuracy"``),
        else ``None``."""
        if scoring is not None and not isinstance(scoring, str):
            return None
        return AccuracyScorePath() if scoring in ACCURACY_SCORINGS else None

    def _label_data(self, X, y, sample_weight, validate):
        """``FitData`` of the indicator targets; ``validate`` checks ``X`` with them.

        The labels are encoded on the host (numpy), as scikit-learn's
        ``RidgeClassifier`` does; ``validate`` moves the indicators (and the
        weights) to the namespace and device of ``X``.
        """
        y, sample_weight = labels_on_host(X, y, sample_weight)
        Y, sample_weight, binarizer = binarize_labels(
            y, sample_weight, self.class_weight, self
        )
        data = validate(X, Y, sample_weight)
        return data._replace(y_ndim=1 if Y.shape[1] == 1 else 2, labels=binarizer)

    def _fold_fit_data(self, data, rows):
        """The rows' ``FitData`` taken from ``data`` (see ``BaseSAM``) when their
        indicators are those of ``data``: every class has a row among them (the
        labels of a split missing a class are binarized on fewer classes), and
        the class weights do not depend on the rows (``"balanced"`` does).
        """
        if self.class_weight == "balanced" or _is_multilabel(data.labels):
            return None
        fold = super()._fold_fit_data(data, rows)
        if fold is None:
            return None
        Y, n_classes = fold.y, data.labels.classes_.size
        if n_classes == 2:
            every_class = bool((Y > 0).any() and (Y < 0).any())
        else:  # one column per class (a single class: one column, all rows)
            every_class = n_classes == 1 or bool((Y > 0).any(axis=0).all())
        if not every_class:
            return None
        return fold._replace(labels=copy.deepcopy(data.labels))

    def _store_labels(self, data):
        self._label_binarizer = data.labels
        self.classes_ = data.labels.classes_

    def decision_function(self, X):
        """Decision values of the model after ``n_iter_`` steps.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples (for ``kernel="precomputed"``, the kernel between them and the
            training samples).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The fitted values of the +/-1 indicator columns: one column (returned
            as a 1-D array) for two classes, whose sign picks the class, one per
            class otherwise (the arg-max picks it), one per label for multilabel
            targets. A dask array for a dask ``X`` (computed lazily).
        """
        check_is_fitted(self)
        return self._predict(self._validate_predict_input(X, "decision_function"))

    def predict(self, X):
        """Predict class labels with the model after ``n_iter_`` steps.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples (for ``kernel="precomputed"``, the kernel between them and the
            training samples).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels (a label-indicator matrix for multilabel targets). A dask
            array for a dask ``X`` (computed lazily, chunk by chunk).
        """
        check_is_fitted(self)
        decision = self._predict(self._validate_predict_input(X, "predict"))
        return decision_labels(self._label_binarizer, decision)

    def staged_decision_function(self, X):
        """Yield the decision values after steps ``1, 2, ..., n_iter_``.

        The spectral solver evaluates the exact path in vectorised chunks from the
        decomposition made during ``fit``; the iterative solver reruns the loop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision values, as ``decision_function`` gives them.
        """
        yield from super().staged_predict(X)

    def staged_predict(self, X):
        """Yield the predicted labels after steps ``1, 2, ..., n_iter_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels, as ``predict`` gives them.
        """
        check_is_fitted(self)
        for scores in self.staged_decision_function(X):
            yield decision_labels(self._label_binarizer, scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags = None
        tags.target_tags.multi_output = False
        tags.target_tags.single_output = True
        tags.classifier_tags.multi_label = True
        return tags


@fill_doc
class SAMClassifier(SAMClassifierMixin, LinearSAM):
    """Least-squares classifier fitted by ``n_iter`` steps of SAM.

    The labels are turned into +/-1 indicator columns (one column for two classes,
    one per class otherwise, one per label for multilabel targets) and the linear
    model is fitted to them exactly as :class:`SAMRegressor` fits several targets:
    ``n_iter`` SAM steps from zero on ``L(w) = 1/(2 S) sum_i s_i (y_i - x_i . w -
    b)^2``. The class is the sign (two classes) or the arg-max (several classes)
    of the fitted indicators, as in :class:`~sklearn.linear_model.RidgeClassifier`,
    with the stopping time in the role of ``alpha``. One eigendecomposition of the
    Gram matrix fits all the classes, whatever ``n_iter``.

    Parameters
    ----------
    rho : float, default=0.1
        Radius of the SAM ascent step (``>= 0``), in units of one over an
        eigenvalue (see ``relative_rho``); ``0`` gives gradient descent.
    n_iter : int, default=100
        Number of SAM steps (``>= 0``); ``0`` gives the intercept-only model (the
        most weighted class).
    %(linear_relative_rho)s
    learning_rate : "auto" or float, default="auto"
        Step size, as in :class:`SAMRegressor` (``"auto"``: ``1 / (lam_max (1 +
        rho lam_max))``, or ``1 / lam_max`` for normalized SAM). Compare SAM with
        GD at one fixed float learning rate.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        ``"normalized"`` is the SAM of Foret et al. (2021); its perturbation is
        normalised per indicator column. A ``SAMVariant`` instance declares
        another variant.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (one per column) by weighted centring.
    solver : {"auto", "spectral", "iterative"}, default="auto"
        As in :class:`SAMRegressor`: the exact spectral filter from one
        eigendecomposition, or the explicit loop (sparse-friendly).
    batch_size : int, default=None
        Mini-batch size for stochastic SAM, as in :class:`SAMRegressor`.
    random_state : int, RandomState instance or None, default=None
        Seeds the mini-batch order and the validation split of
        ``early_stopping``.
    early_stopping : bool, default=False
        Choose the number of steps on held-out data, as in :class:`SAMRegressor`,
        but by the held-out *accuracy* (weighted by the held-out sample weights)
        after every step ``0..n_iter``; ties go to fewer steps.
    validation_fraction : float, default=0.1
        Fraction of the samples held out when ``early_stopping=True``.
    %(verbose)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``sample_weight``: ``{label:
        weight}``, or ``"balanced"`` for ``n_samples / (n_classes *
        np.bincount(y))``, as in :class:`~sklearn.linear_model.RidgeClassifier`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_classes, n_features)
        Weights of the indicator columns after ``n_iter_`` steps (1-D for two
        classes, as in :class:`~sklearn.linear_model.RidgeClassifier`).
    intercept_ : float or ndarray of shape (1,) or (n_classes,)
        ``y_mean - x_mean . coef_`` per column (weighted means), or 0.0.
    classes_ : ndarray of shape (n_classes,)
        The class labels (the labels for multilabel targets).
    n_iter_ : int
        Number of steps taken (with ``early_stopping``, the selected number).
    learning_rate_ : float
        The step size used.
    rho_ : float
        The SAM radius used, in absolute units (``rho * rho_unit_``).
    rho_unit_ : float
        What ``rho`` was multiplied by: ``1 / lam_max`` of the training data with
        ``relative_rho=True`` (see there), ``1.0`` otherwise.
    validation_score_ : ndarray of shape (n_iter + 1,) or None
        With ``early_stopping``, the held-out accuracy after ``k = 0, 1, ...,
        n_iter`` steps of the fit on the training part; ``None`` otherwise.
    solver_ : str
        The solver used (``"spectral"`` or ``"iterative"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMClassifierCV : The stopping time and ``rho`` chosen by cross-validation.
    SAMKernelClassifier : The same in a reproducing kernel Hilbert space.
    SAMRegressor : The regressor on the same problem.
    sklearn.linear_model.RidgeClassifier : Regularization by a penalty instead of
        the stopping time.

    Notes
    -----
    With ``rho=0`` and many steps the fit approaches the least-squares
    (minimum-norm) classifier, which is ``RidgeClassifier`` with a vanishing
    ``alpha``. See the user guide, "Classification".

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksam import SAMClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SAMClassifier(rho=0.1, n_iter=200).fit(X, y)
    >>> clf.classes_
    array([0, 1, 2])
    >>> clf.coef_.shape
    (3, 4)
    >>> round(clf.score(X, y), 3)
    0.867
    """

    _parameter_constraints: dict = {**SAM_CONSTRAINTS, **_CLASS_WEIGHT}

    def __init__(
        self,
        rho=0.1,
        n_iter=100,
        *,
        relative_rho=False,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        solver="auto",
        batch_size=None,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        verbose=0,
        class_weight=None,
    ):
        self.rho = rho
        self.n_iter = n_iter
        self.relative_rho = relative_rho
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.batch_size = batch_size
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.verbose = verbose
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_iter`` SAM steps from zero on the +/-1 class indicators.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. A ``dask.array`` chunked by rows is never gathered: the
            classes come from one pass over ``y`` (``dask.array.unique``), each
            chunk is encoded into the +/-1 indicators on its own and dask reduces
            the ``d x d`` Gram matrix over the chunks, as for
            :class:`SAMRegressor` (``y`` and ``sample_weight`` may then be dask
            arrays too; multilabel targets, ``solver="iterative"``,
            ``batch_size`` and ``early_stopping`` are not available).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (any hashable values), or a label-indicator matrix for
            multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (multiplied by those of ``class_weight``); the
            loss is averaged by their sum.

        Returns
        -------
        self : SAMClassifier
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight)

    def _validate_fit_data(self, X, y, sample_weight):
        if takes_dask_route(X, y, sample_weight):
            # Labels from one pass over y, encoded chunk by chunk; then the dask
            # route of LinearSAM (the Gram reduced over row chunks).
            _, Y, weights, binarizer, groups = dask_binarize_labels(
                X, y, sample_weight, self.class_weight, self
            )
            # X as given: its feature names are recorded there.
            data = LinearSAM._validate_fit_data(self, X, Y, weights)
            return data._replace(
                y_ndim=1 if Y.shape[1] == 1 else 2, labels=binarizer, row_groups=groups
            )

        # The labels are decoded on the host: numpy, sparse and array API X.
        def validate(X, Y, sample_weight):
            return check_fit_data(
                X,
                Y,
                sample_weight,
                estimator=self,
                array_api_options={
                    "early_stopping": self.early_stopping,
                    "batch_size": self.batch_size,
                },
            )

        return self._label_data(X, y, sample_weight, validate)

    def _store_model(self, coefficients, intercept, data):
        super()._store_model(coefficients, intercept, data)
        # As RidgeClassifier: one intercept per indicator column (shape (1,) for
        # two classes), 0.0 without an intercept.
        if self.fit_intercept:
            self.intercept_ = as_output(data, intercept)
        else:
            self.intercept_ = 0.0


@fill_doc
class SAMKernelClassifier(SAMClassifierMixin, KernelSAM):
    """Kernel least-squares classifier fitted by ``n_iter`` function-space SAM steps.

    :class:`SAMKernelRidge` fitted to the +/-1 indicator columns of the labels (as
    :class:`SAMClassifier` does with :class:`SAMRegressor`): the class is the sign
    (two classes) or the arg-max (several classes) of the fitted indicators. One
    eigendecomposition of the ``n x n`` kernel matrix fits all the classes,
    whatever ``n_iter``. With ``kernel="linear"`` it predicts what
    :class:`SAMClassifier` predicts.

    Parameters
    ----------
    rho : float, default=0.1
        Radius of the SAM ascent step (``>= 0``); ``0`` gives kernel gradient
        descent.
    n_iter : int, default=100
        Number of SAM steps (``>= 0``).
    %(kernel_relative_rho)s
    kernel : str or callable, default="linear"
        Kernel, as in :class:`SAMKernelRidge` (``"precomputed"``: ``X`` is the
        training kernel in ``fit``, the test-by-training kernel in ``predict``).
    gamma : float, default=None
        Parameter of the RBF, laplacian, polynomial, exponential chi2 and sigmoid
        kernels (``None``: ``1 / n_features``).
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Zero coefficient of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Extra parameters of a callable kernel.
    %(n_components)s
        Dask arrays are not accepted yet (the labels are encoded in memory).
    learning_rate : "auto" or float, default="auto"
        Step size, as in :class:`SAMKernelRidge`.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        ``"normalized"`` is the SAM of Foret et al. (2021) (RKHS norm, per column);
        a ``SAMVariant`` instance declares another variant.
    fit_intercept : bool, default=True
        Centre the kernel in feature space with the weighted means.
    solver : {"auto", "spectral", "iterative"}, default="auto"
        As in :class:`SAMKernelRidge`.
    batch_size : int, default=None
        Mini-batch size for stochastic SAM.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark draw of ``n_components``, the mini-batch order and
        the validation split of ``early_stopping``.
    early_stopping : bool, default=False
        Choose the number of steps by the held-out accuracy, as in
        :class:`SAMClassifier`.
    validation_fraction : float, default=0.1
        Fraction of the samples held out when ``early_stopping=True``.
    %(verbose)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``sample_weight``, as in
        :class:`SAMClassifier`.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Dual coefficients of the indicator columns (with ``n_components``, on the
        ``n_components`` landmarks ``X_fit_``).
    intercept_ : float or ndarray of shape (n_classes,)
        Intercept of each column.
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data (the training kernel for ``kernel="precomputed"``); with
        ``n_components``, the landmarks ``components_``.
    %(nystroem_attributes)s
    classes_ : ndarray of shape (n_classes,)
        The class labels (the labels for multilabel targets).
    n_iter_ : int
        Number of steps taken (with ``early_stopping``, the selected number).
    learning_rate_ : float
        The step size used.
    rho_ : float
        The SAM radius used, in absolute units (``rho * rho_unit_``).
    rho_unit_ : float
        What ``rho`` was multiplied by: ``1 / lam_max`` of the training data with
        ``relative_rho=True`` (see there), ``1.0`` otherwise.
    validation_score_ : ndarray of shape (n_iter + 1,) or None
        With ``early_stopping``, the held-out accuracy after ``k = 0, 1, ...,
        n_iter`` steps; ``None`` otherwise.
    solver_ : str
        The solver used (``"spectral"`` or ``"iterative"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMClassifier : The linear classifier.
    SAMKernelRidge : The regressor on the same problem.
    sklearn.linear_model.RidgeClassifier : Ridge on the same indicators.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sksam import SAMKernelClassifier
    >>> X, y = make_moons(200, noise=0.2, random_state=0)
    >>> clf = SAMKernelClassifier(kernel="rbf", gamma=2.0, n_iter=300).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.98
    >>> clf = SAMKernelClassifier(
    ...     kernel="rbf", gamma=2.0, n_iter=300, n_components=50, random_state=0
    ... ).fit(X, y)
    >>> clf.dual_coef_.shape
    (50,)
    """

    _parameter_constraints: dict = {
        **SAM_CONSTRAINTS,
        **KERNEL_CONSTRAINTS,
        **_CLASS_WEIGHT,
    }

    def __init__(
        self,
        rho=0.1,
        n_iter=100,
        *,
        relative_rho=False,
        kernel="linear",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        n_components=None,
        learning_rate="auto",
        variant="unnormalized",
        fit_intercept=True,
        solver="auto",
        batch_size=None,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        verbose=0,
        class_weight=None,
    ):
        self.rho = rho
        self.n_iter = n_iter
        self.relative_rho = relative_rho
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.variant = variant
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.batch_size = batch_size
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.verbose = verbose
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_iter`` function-space SAM steps on the +/-1 class indicators.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, or the training kernel (square) if
            ``kernel="precomputed"``.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label-indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (multiplied by those of ``class_weight``).

        Returns
        -------
        self : SAMKernelClassifier
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight)

    def _validate_fit_data(self, X, y, sample_weight):
        if self.n_components is not None and takes_dask_route(X, y, sample_weight):
            # The Nystroem route keeps dask input lazy (KernelSAM): the labels
            # from one pass over y, encoded chunk by chunk, as SAMClassifier's.
            _, Y, weights, binarizer, groups = dask_binarize_labels(
                X, y, sample_weight, self.class_weight, self
            )
            data = KernelSAM._validate_fit_data(self, X, Y, weights)
            return data._replace(
                y_ndim=1 if Y.shape[1] == 1 else 2, labels=binarizer, row_groups=groups
            )
        return super()._validate_fit_data(X, y, sample_weight)
