"""SAMKernelRidge: early-stopped SAM in a reproducing kernel Hilbert space."""

from sklearn.utils.validation import _num_features

from ._base import BaseSAM
from ._core._namespaces import astype
from ._kernel_matrix import (
    check_square_kernel,
    kernel_origin,
    kernel_params,
    kernel_precision,
    shifted_intercept_term,
    test_kernel,
)
from ._nystroem import draw_state, nystroem_problem, split_feature_maps
from ._param_docs import fill_doc
from ._params import KERNEL_CONSTRAINTS, SAM_CONSTRAINTS
from ._problem import kernel_data_problem
from ._regression import SAMRegressorMixin
from ._validation import (
    check_fit_data,
    check_predict_data,
    like_input,
    takes_dask_route,
)

__all__ = ["KernelSAM", "SAMKernelRidge"]


#: The fitted attributes of the Nystroem model (``n_components`` set).
NYSTROEM_ATTRIBUTES = (
    "components_",
    "component_indices_",
    "normalization_",
    "feature_coef_",
)


class KernelSAM(BaseSAM):
    """The kernel model's hooks (see ``BaseSAM``): ``dual_coef_``, ``intercept_``
    and ``X_fit_``.

    Shared by ``SAMKernelRidge`` and ``SAMKernelClassifier``; neither a regressor
    nor a classifier by itself. With ``n_components`` the problem is the linear one
    on the Nystroem features (``_nystroem``), and the model keeps the landmarks
    (``X_fit_ = components_``) and its dual coefficients on them.
    """

    _parameter_constraints: dict = {**SAM_CONSTRAINTS, **KERNEL_CONSTRAINTS}

    #: Whether every landmark draw starts from a copy of a ``RandomState``
    #: instance (``_nystroem.draw_state``): set on the estimators a search makes
    #: (its ``best_estimator_`` keeps it), whose splits and refit then draw as
    #: ``GridSearchCV``'s clones would; a plain ``fit`` draws from the instance
    #: itself, as scikit-learn's estimators do.
    _landmarks_from_copies = False

    def _kernel_params(self):
        return kernel_params(
            self.kernel, self.gamma, self.degree, self.coef0, self.kernel_params
        )

    def _validate_fit_data(self, X, y, sample_weight):
        nystroem = self.n_components is not None
        data = check_fit_data(
            X,
            y,
            sample_weight,
            estimator=self,
            accept_sparse=("csr", "csc"),
            # dask input stays lazy on the Nystroem route only: its features are
            # formed per row chunk and reduced to their m x m moments.
            accept_dask=nystroem,
            dask_options={
                "early_stopping": self.early_stopping,
                "batch_size": self.batch_size,
                "solver": self.solver,
            },
            array_api_options={
                "early_stopping": self.early_stopping,
                "batch_size": self.batch_size,
            },
        )
        if nystroem and self.kernel == "precomputed" and takes_dask_route(data.X):
            raise ValueError(
                "kernel='precomputed' is not supported for dask arrays; pass the "
                "rows themselves and the kernel's name (or a callable kernel)."
            )
        check_square_kernel(self.kernel, data.X)
        return data

    def _reduces_dask(self, *arrays):
        """Dask input takes the one-pass route on the Nystroem model only (the
        exact kernel needs the rows in memory)."""
        return self.n_components is not None and takes_dask_route(*arrays)

    def _split_feature_maps(self, data, splits):
        """The Nystroem maps of all the rows and of each split's training rows
        (``_nystroem.split_feature_maps``: each split draws its landmarks from its
        own training rows, as the in-memory search does); ``None`` for the exact
        kernel."""
        if self.n_components is None:
            return None
        return split_feature_maps(
            data.X,
            data.sample_weight,
            splits,
            self.kernel,
            self._kernel_params(),
            self.n_components,
            self.random_state,
            kernel_precision(data.X, self.kernel),
            from_copies=self._landmarks_from_copies,
        )

    def _fold_fit_data(self, data, rows):
        if self.kernel == "precomputed":  # a split takes rows and columns
            return None
        return super()._fold_fit_data(data, rows)

    def _origin(self, X_fit):
        return kernel_origin(X_fit, self.kernel, self.fit_intercept)

    def _build_problem(self, X, y, sample_weight, overwrite_X=False):
        if self.n_components is not None:
            return nystroem_problem(
                X,
                y,
                sample_weight,
                self.fit_intercept,
                self.kernel,
                self._kernel_params(),
                self.n_components,
                draw_state(self.random_state, self._landmarks_from_copies),
                kernel_precision(X, self.kernel),
            )
        return kernel_data_problem(
            X, y, sample_weight, self.fit_intercept, self.kernel, self._kernel_params()
        )

    def _validate_predict_input(self, X, method="predict"):
        try:
            return check_predict_data(
                self,
                X,
                attribute="dual_coef_",
                method=method,
                accept_sparse=("csr", "csc"),
            )
        except ValueError as exc:
            hint = self._test_kernel_shape_hint(X)
            if hint is None:
                raise
            raise ValueError(f"{exc} {hint}") from exc

    def _test_kernel_shape_hint(self, X):
        """Why a precomputed test kernel has the wrong shape (None if it has not).

        ``validate_data`` speaks of "features", which for a kernel are columns.
        """
        if self.kernel != "precomputed":
            return None
        try:
            n_columns = _num_features(X)
        except TypeError:
            return None  # not 2-D: validate_data's message says so
        n_train = self.n_features_in_  # the training kernel's columns
        if n_columns == n_train:
            return None
        return (
            "With kernel='precomputed', X must be the kernel between the test and "
            "the training samples, of shape (n_samples_test, n_samples_train) with "
            f"n_samples_train={n_train}; got {n_columns} columns."
        )

    def _store_model(self, coefficients, intercept, data):
        # The kernel's inputs may be shifted (``kernel_origin``): predictions use
        # the shifted kernel and its intercept; ``intercept_`` is that of the
        # documented model ``k(x, X_fit_) @ dual_coef_ + intercept_``.
        # In a tuple: a private array, not a fitted attribute of the input's
        # namespace.
        # With n_components the coefficients are on the landmarks, and the
        # landmarks (X_fit_) are set by ``_set_fitted``.
        nystroem = self.n_components is not None
        self._input_origin = (None if nystroem else self._origin(data.X),)
        self._shifted_intercept = intercept
        if self._input_origin[0] is not None:
            intercept = intercept - shifted_intercept_term(
                data.X, self._input_origin[0], self.kernel, coefficients
            )
        if not nystroem:
            self.X_fit_ = data.X
        if data.y_ndim == 1:
            self.dual_coef_ = coefficients[:, 0]
            self.intercept_ = float(intercept[0])
            self._shifted_intercept = float(self._shifted_intercept[0])
        else:
            self.dual_coef_ = coefficients
            self.intercept_ = intercept

    def _set_fitted(self, data, run, coef, n_iter, validation_score=None, rho_unit=1.0):
        super()._set_fitted(data, run, coef, n_iter, validation_score, rho_unit)
        # The Nystroem map is the problem's (its landmarks were drawn for it).
        feature_map = getattr(run.problem.output, "feature_map", None)
        self._feature_map = feature_map
        for name in NYSTROEM_ATTRIBUTES:
            self.__dict__.pop(name, None)  # of an earlier fit
        if feature_map is not None:
            self.X_fit_ = self.components_ = feature_map.landmarks
            self.component_indices_ = like_input(feature_map.indices, data.X)
            self.normalization_ = feature_map.normalization
            self.feature_coef_ = coef[:, 0] if data.y_ndim == 1 else coef
        return self

    def _test_features(self, X, X_fit=None):
        nystroem = (
            getattr(self, "_feature_map", None) is not None
            if X_fit is None
            else self.n_components is not None
        )
        if nystroem:
            return X  # the problem's output forms the features (``_nystroem``)
        if X_fit is None:
            X_fit, origin = self.X_fit_, self._input_origin[0]
        else:
            origin = self._origin(X_fit)
        return test_kernel(X, X_fit, self.kernel, self._kernel_params(), origin)

    def _predict(self, X):
        if self._feature_map is not None:
            dual = self.dual_coef_
            one_target = dual.ndim == 1
            if one_target:
                dual = self._run.problem.xp.reshape(dual, (-1, 1))
            pred = self._feature_map.apply(X, dual) + self._shifted_intercept
            if one_target:
                pred = pred[:, 0]
        else:
            pred = self._test_features(X) @ self.dual_coef_ + self._shifted_intercept
        return astype(self._run.problem.xp, pred, self._output_dtype)  # as staged

    def _prediction_dtype(self, X):
        return self._output_dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.target_tags.multi_output = True
        # torch, CuPy, ... under array_api_dispatch (not mini-batches, not the
        # held-out split of early stopping: they draw with numpy).
        tags.array_api_support = self.batch_size is None and not self.early_stopping
        return tags


@fill_doc
class SAMKernelRidge(SAMRegressorMixin, KernelSAM):
    """Kernel regression fitted by ``n_iter`` steps of function-space SAM.

    The model is ``f(x) = sum_j dual_coef_j k(x_j, x) + intercept_``. Starting from
    ``f = 0``, each step takes the SAM update with the RKHS (functional) gradient of
    the weighted squared loss ``1/(2S) sum_i s_i (y_i - f(x_i))^2``; in dual
    coefficients (unnormalized)

        alpha <- alpha - eta (I + rho diag(s) K / S) diag(s) (K alpha - y) / S.

    ``rho=0`` is kernel gradient descent (Landweber iteration) and SAM has lower bias
    and higher variance than it at every step [1]_; ``n_iter`` plays the
    role of ``KernelRidge``'s ``alpha``. The spectral solver gives the exact iterate
    from one eigendecomposition of the ``n x n`` kernel matrix, for any ``n_iter``.
    With ``kernel="linear"`` it predicts exactly what :class:`SAMRegressor` predicts.

    Parameters
    ----------
    rho : float, default=0.1
        Radius of the SAM ascent step (``>= 0``), in units of one over an
        eigenvalue (see ``relative_rho``); ``0`` gives kernel gradient descent.
    n_iter : int, default=100
        Number of SAM steps (``>= 0``); ``0`` gives the intercept-only model.
    %(kernel_relative_rho)s
    kernel : str or callable, default="linear"
        Any kernel name accepted by :func:`sklearn.metrics.pairwise.pairwise_kernels`,
        a callable ``kernel(x, y, **kernel_params)``, or ``"precomputed"`` (then
        ``X`` is the kernel matrix, square and symmetric in ``fit`` and of shape
        ``(n_samples_test, n_samples_train)`` in ``predict``). SAM converges for a
        positive semi-definite kernel; along the negative eigen-directions of an
        indefinite one (``"sigmoid"``, for example) the iterates grow geometrically,
        and ``fit`` warns (``ConvergenceWarning``): the spectral solver names the
        negative eigenvalues, the iterative one sees the training loss rise.
    gamma : float, default=None
        Parameter of the RBF, laplacian, polynomial, exponential chi2 and sigmoid
        kernels (``None`` is ``1 / n_features`` as in scikit-learn).
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Zero coefficient of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Extra parameters of a callable kernel.
    %(n_components)s
    learning_rate : "auto" or float, default="auto"
        Step size; ``"auto"`` is ``1 / (mu_max (1 + rho mu_max))`` (``1 / mu_max``
        for normalized SAM), ``mu_max`` the largest eigenvalue of the weighted,
        centred kernel ``D^1/2 K_c D^1/2 / S``.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        ``"normalized"`` divides the ascent step by the RKHS norm of the gradient
        (the SAM of Foret et al. [2]_); a ``SAMVariant`` instance declares another
        variant (the user guide, "Your own variant").
    fit_intercept : bool, default=True
        Fit an unpenalized intercept by weighted centring of the kernel in feature
        space (exact at every step).
    solver : {"auto", "spectral", "iterative"}, default="auto"
        ``"spectral"``: one ``eigh`` of the ``n x n`` kernel, then the exact filter;
        ``"iterative"``: one kernel matrix-vector product per gradient; ``"auto"``
        picks the cheaper by a cost model.
    batch_size : int, default=None
        Mini-batch size for stochastic SAM; ``None`` is full-batch. Each step uses
        one batch ``B`` for both gradients, ``w <- w - eta g_B(w + rho g_B(w))``
        with the batch loss normalised by the batch's weight sum; ``n_iter``
        counts steps. Batches are consecutive slices of one random permutation
        per epoch (the last, smaller slice is kept; zero-weight samples are never
        drawn), seeded by ``random_state``. A step touches only the batch's
        rows of the kernel matrix. Centring uses the full-data weighted means, and
        ``learning_rate="auto"`` and its stability check are the full-batch ones
        (smaller batches may need a smaller step: a ``ConvergenceWarning`` is
        emitted if the training loss ends above its start). ``batch_size >=
        n_samples`` is full-batch SAM. Requires ``solver="iterative"`` or
        ``"auto"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark draw (with ``n_components``), the mini-batch order
        (with ``batch_size``) and the validation split (with ``early_stopping``).
    early_stopping : bool, default=False
        Choose the number of steps on held-out data: ``fit`` holds out
        ``validation_fraction`` of the samples (a shuffled ``train_test_split``
        seeded by ``random_state``), fits on the rest, scores R^2 on the held-out
        part (weighted by its ``sample_weight``) after every step ``0..n_iter`` of
        that one fit (one decomposition, or one pass of the loop), and sets
        ``n_iter_`` to the best step (ties go to fewer steps). The model is then
        refitted on *all* the data with ``n_iter_`` steps. ``n_iter`` is the
        largest number of steps considered.
    validation_fraction : float, default=0.1
        Fraction of the samples held out when ``early_stopping=True`` (in (0, 1);
        the held-out part needs at least 2 samples).
    %(verbose)s

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Dual coefficients of the fitted function (with the centring folded in);
        with ``n_components``, of shape (n_components,) or (n_components,
        n_targets), on the landmarks ``X_fit_``.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the fitted function (0 without ``fit_intercept``). It comes
        from feature-space centring: the weighted mean training prediction is the
        weighted mean of ``y``, but ``intercept_`` itself is not; it is what an RBF
        model predicts far from the data, and it changes with ``n_iter`` (see the
        user guide, "Update rules and conventions").
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data (the training kernel if ``kernel="precomputed"``); with
        ``n_components``, the landmarks ``components_``.
    %(nystroem_attributes)s
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
        With ``early_stopping``, the held-out R^2 after ``k = 0, 1, ..., n_iter``
        steps (index ``k``; step 0 is the intercept-only model) of the fit on the
        training part; ``None`` otherwise.
    solver_ : str
        The solver used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMRegressor : Linear SAM (the same model for ``kernel="linear"``).
    sklearn.kernel_ridge.KernelRidge : Regularization by a penalty ``alpha``.
    sklearn.kernel_approximation.Nystroem : ``make_pipeline(Nystroem(kernel,
        gamma=..., n_components=m, random_state=r), SAMRegressor())`` fits what
        ``n_components=m, random_state=r`` fits (unit weights), in memory only,
        and its CV and IC searches know nothing of the kernel.

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.
    .. [2] P. Foret, A. Kleiner, H. Mobahi and B. Neyshabur, "Sharpness-Aware
       Minimization for Efficiently Improving Generalization", ICLR 2021,
       arXiv:2010.01412.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMKernelRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(80, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(80)
    >>> model = SAMKernelRidge(rho=0.1, n_iter=200, kernel="rbf", gamma=0.5).fit(X, y)
    >>> model.dual_coef_.shape
    (80,)
    >>> bool(model.score(X, y) > 0.9)
    True

    Nystroem SAM on 30 landmarks (the exact model of the kernel ``K_nm K_mm^+
    K_mn``, at a cost linear in the number of samples):

    >>> nystroem = dict(n_components=30, random_state=0)
    >>> model = SAMKernelRidge(
    ...     rho=0.1, n_iter=200, kernel="rbf", gamma=0.5, **nystroem
    ... ).fit(X, y)
    >>> model.dual_coef_.shape, model.components_.shape
    ((30,), (30, 1))
    >>> bool(model.score(X, y) > 0.9)
    True
    """

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

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_iter`` function-space SAM steps from ``f = 0``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, or the training kernel (square) if
            ``kernel="precomputed"``.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; each column is fitted as if alone.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is averaged by their sum.

        Returns
        -------
        self : SAMKernelRidge
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight)
