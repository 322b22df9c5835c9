"""SAMRegressor: exact early-stopped SAM for linear least squares."""

from ._base import BaseSAM
from ._param_docs import fill_doc
from ._problem import linear_problem
from ._regression import SAMRegressorMixin
from ._validation import (
    as_output,
    check_fit_data,
    check_predict_data,
    takes_dask_route,
)

__all__ = ["LinearSAM", "SAMRegressor"]


class LinearSAM(BaseSAM):
    """The linear model's hooks (see ``BaseSAM``): ``coef_`` and ``intercept_``.

    Shared by ``SAMRegressor`` and ``SAMClassifier``; neither a regressor nor a
    classifier by itself.
    """

    def _validate_fit_data(self, X, y, sample_weight):
        # dask input stays lazy: its Gram is reduced over row chunks (_dask_moments.py).
        return check_fit_data(
            X,
            y,
            sample_weight,
            estimator=self,
            accept_dask=True,
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

    def _reduces_dask(self, *arrays):
        return takes_dask_route(*arrays)

    def _build_problem(self, X, y, sample_weight, overwrite_X=False):
        return linear_problem(X, y, sample_weight, self.fit_intercept, overwrite_X)

    def _validate_predict_input(self, X, method="predict"):
        # dask stays lazy; another namespace predicts there.
        return check_predict_data(self, X, attribute="coef_", method=method)

    def _store_model(self, coefficients, intercept, data):
        if data.y_ndim == 1:
            self.coef_ = as_output(data, coefficients[:, 0])
            self.intercept_ = float(intercept[0]) if self.fit_intercept else 0.0
        else:
            self.coef_ = as_output(data, coefficients.T)
            self.intercept_ = as_output(data, intercept)

    def _test_features(self, X, X_fit=None):
        return X

    def _predict(self, X):
        if self.coef_.ndim == 1:
            return X @ self.coef_ + self.intercept_
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        # torch, CuPy, ... under array_api_dispatch (not mini-batches, not the
        # held-out split of early stopping: they draw with numpy).
        tags.array_api_support = self.batch_size is None and not self.early_stopping
        return tags


@fill_doc
class SAMRegressor(SAMRegressorMixin, LinearSAM):
    """Linear least squares fitted by ``n_iter`` steps of Sharpness-Aware Minimization.

    Minimises ``L(w) = 1/(2 S) sum_i s_i (y_i - x_i . w - b)^2`` (``S = sum(s)``) from
    ``w = 0`` with the SAM update

        w <- w - learning_rate * grad L(w + rho * grad L(w))          (unnormalized)

    (``variant="normalized"`` divides the perturbation by ``||grad L(w)||``). The
    number of steps ``n_iter`` is the regularizer: few steps shrink towards zero, many
    steps approach the least-squares (minimum-norm) solution. ``rho=0`` is plain
    gradient descent. Because the loss is quadratic, the spectral solver returns the
    exact iterate after ``n_iter`` steps from one eigendecomposition, at a cost that
    does not depend on ``n_iter``. Started at zero, SAM has lower bias and higher
    variance than gradient descent at every step [1]_, so stopped early it can
    generalize better.

    Parameters
    ----------
    rho : float, default=0.1
        Radius of the SAM ascent step (``>= 0``), in units of one over an
        eigenvalue (see ``relative_rho``); ``0`` gives gradient descent.
    n_iter : int, default=100
        Number of SAM steps (``>= 0``); ``0`` gives the intercept-only model.
    %(linear_relative_rho)s
    learning_rate : "auto" or float, default="auto"
        Step size ``eta``. ``"auto"`` uses ``1 / (lam_max (1 + rho lam_max))``
        (``1 / lam_max`` for normalized SAM), where ``lam_max`` is the largest
        eigenvalue of the weighted, centred Gram matrix ``X^T diag(s) X / S``: every
        eigen-direction then contracts monotonically. Because ``"auto"`` shrinks the
        step as ``rho`` grows, compare SAM with GD at one fixed float learning rate.
        Unnormalized SAM diverges for ``eta lam_max (1 + rho lam_max) >= 2``; such a
        value gives a ``ConvergenceWarning``.
    variant : {"unnormalized", "normalized"} or SAMVariant, default="unnormalized"
        ``"normalized"`` is the SAM of Foret et al. [2]_; it does not converge to
        the least-squares solution but ends up bouncing along the top
        eigen-direction. An instance of ``sksam._core._variants.SAMVariant``
        declares another variant (the user guide, "Your own variant").
    fit_intercept : bool, default=True
        Fit an unpenalized intercept by weighted centring; the intercept is exact at
        every step (never shrunk by early stopping).
    solver : {"auto", "spectral", "iterative"}, default="auto"
        ``"spectral"``: one symmetric eigendecomposition of the smaller of the
        ``d x d`` and ``n x n`` Gram matrices, then the exact filter (normalized:
        an exact O(rank)-per-step recursion). ``"iterative"``: the explicit loop with
        products by ``X`` and ``X^T`` only (sparse-friendly; centring stays
        implicit). ``"auto"`` picks the cheaper by a cost model. Both agree to
        rounding.
    batch_size : int, default=None
        Mini-batch size for stochastic SAM; ``None`` is full-batch. Each step uses
        one batch ``B`` for both gradients, ``w <- w - eta g_B(w + rho g_B(w))``
        with the batch loss normalised by the batch's weight sum; ``n_iter``
        counts steps. Batches are consecutive slices of one random permutation
        per epoch (the last, smaller slice is kept; zero-weight samples are never
        drawn), seeded by ``random_state``. A step touches only the batch's
        rows of ``X``. Centring uses the full-data weighted means, and
        ``learning_rate="auto"`` and its stability check are the full-batch ones
        (smaller batches may need a smaller step: a ``ConvergenceWarning`` is
        emitted if the training loss ends above its start). ``batch_size >=
        n_samples`` is full-batch SAM. Requires ``solver="iterative"`` or
        ``"auto"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the mini-batch order (with ``batch_size``) and the validation split
        (with ``early_stopping``).
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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights after ``n_iter_`` steps.
    intercept_ : float or ndarray of shape (n_targets,)
        ``y_mean - x_mean . coef_`` (weighted means), or 0.
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
        The solver used (``"spectral"`` or ``"iterative"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SAMKernelRidge : The same in a reproducing kernel Hilbert space.
    sklearn.linear_model.Ridge : Regularization by a penalty instead of the stopping
        time; ``alpha ~ n_samples / (learning_rate * n_iter)`` gives a similar
        amount of shrinkage.

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
    >>> from sksam import SAMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.standard_normal(100)
    >>> reg = SAMRegressor(rho=0.1, n_iter=50).fit(X, y)
    >>> reg.coef_.shape
    (5,)
    >>> round(reg.score(X, y), 3)
    0.999
    """

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

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_iter`` SAM steps from zero.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. A ``dask.array`` chunked by rows is never gathered: dask
            reduces the weighted ``d x d`` Gram matrix over the chunks (on any
            scheduler) and the exact spectral solver runs on it here (``y`` and
            ``sample_weight`` may then be dask arrays too; ``solver="iterative"``,
            ``batch_size`` and ``early_stopping`` are not available).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; each column is fitted as if alone.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is averaged by their sum.

        Returns
        -------
        self : SAMRegressor
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight)
