"""bias_variance_decomposition: exact and Monte Carlo bias-variance curves."""

import textwrap
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples, assert_all_finite

from ._base import BaseSAM
from ._bias_variance_fits import exact_parts, monte_carlo_parts, split_pipeline

__all__ = ["BiasVarianceResult", "bias_variance_decomposition"]


# Fields of a result, in the order of its repr and of ``to_frame``'s columns.
_CURVES = (
    "expected_loss",
    "bias_squared",
    "variance",
    "bias_squared_plus_noise",
    "noise",
    "dof",
    "coef_risk",
    "coef_bias_squared",
    "coef_variance",
)
_NAMES = {
    "expected_loss": "expected loss",
    "bias_squared": "bias$^2$",
    "bias_squared_plus_noise": "bias$^2$ + noise",
    "variance": "variance",
    "coef_risk": "coefficient risk",
    "coef_bias_squared": "coefficient bias$^2$",
    "coef_variance": "coefficient variance",
}


def _number(value):
    """A parameter value or a figure, short: integers as such, floats to 4 digits."""
    if isinstance(value, Integral | np.integer):
        return str(int(value))
    if isinstance(value, Real | np.floating):
        return f"{float(value):.4g}"
    return repr(value)


class BiasVarianceResult(Bunch):
    """Result of :func:`bias_variance_decomposition`: a ``Bunch`` with helpers.

    ``plot`` draws the curves against the parameter or the effective degrees of
    freedom, ``to_frame`` returns them as a pandas DataFrame, and the repr is a short
    summary (the arrays are the fields, e.g. ``result.variance``).
    """

    def __repr__(self):
        method = self.get("method")
        parts = [f"method={method!r}"]
        if self.get("n_rounds") is not None:
            parts.append(f"n_rounds={self.n_rounds}")
        fields = [name for name in _CURVES if self.get(name) is not None]
        shown = ("expected_loss", "bias_squared", "variance", "dof")
        if self.get("param_range") is not None:
            values = self.param_range
            parts.append(
                f"{self.param_name} from {_number(values[0])} to "
                f"{_number(values[-1])} ({len(values)} points)"
            )
            i = self.oracle_index
            at = ", ".join(
                f"{name}={_number(self[name][i])}"
                for name in shown
                if self.get(name) is not None
            )
            parts.append(f"oracle {self.param_name}={_number(self.oracle_param)}: {at}")
        else:
            parts.append(
                ", ".join(
                    f"{name}={_number(self[name])}"
                    for name in shown
                    if self.get(name) is not None
                )
            )
        parts.append(f"fields: {', '.join(fields)}")
        lines = [
            textwrap.fill(part, width=80, subsequent_indent="        ")
            for part in parts
        ]
        return "BiasVarianceResult(" + ";\n    ".join(lines) + ")"

    def to_frame(self):
        """The curves as a pandas DataFrame, one row per parameter value.

        Returns
        -------
        frame : pandas.DataFrame
            A column for the parameter (named ``param_name``; absent without a curve)
            and one for each field the result has (``expected_loss``,
            ``bias_squared``, ``variance``, ``bias_squared_plus_noise``, ``noise``,
            ``dof``, and the ``coef_*`` fields with ``coef_true``). Without a curve
            the frame has one row.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "BiasVarianceResult.to_frame needs pandas: pip install pandas"
            ) from exc
        columns = {}
        if self.get("param_range") is not None:
            columns[self.param_name] = self.param_range
        n_rows = 1 if self.get("param_range") is None else len(self.param_range)
        for name in _CURVES:
            value = self.get(name)
            if value is not None:
                columns[name] = np.broadcast_to(np.asarray(value, dtype=float), n_rows)
        return pd.DataFrame(columns)

    def plot(self, ax=None, *, x="param", label=None, components=None, **plot_kwargs):
        """Draw bias^2, variance and expected loss against the parameter or the dof.

        The three curves share one colour (solid: expected loss, dashed: bias^2 or
        bias^2 + noise for ``"bootstrap"``, dotted: variance) and the oracle point is
        marked, so several results can be compared on one axes via ``label``. With
        ``x="dof"`` results over different parameters share the axis: SAM and GD
        over ``n_iter`` and Ridge over ``alpha``, at equal effective degrees of
        freedom.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on (a new figure when ``None``).
        x : {"param", "dof"}, default="param"
            The horizontal axis: the values of ``param_name``, or the effective
            degrees of freedom ``dof`` (the trace of the training smoother; only
            ``method="exact"`` computes it).
        label : str, default=None
            Prefix of the legend entries, e.g. ``"SAM"``.
        components : sequence of str, default=None
            Result fields to draw; by default ``("expected_loss", "bias_squared",
            "variance")`` (``bias_squared_plus_noise`` for ``"bootstrap"``).
        **plot_kwargs
            Passed to ``Axes.plot`` (e.g. ``color``, ``linewidth``).

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        if x not in ("param", "dof"):
            raise ValueError(f"x must be 'param' or 'dof'; got {x!r}.")
        if self.param_range is None:
            raise ValueError(
                "plot draws curves over param_range; call bias_variance_decomposition "
                "with param_name and param_range."
            )
        if x == "dof" and self.dof is None:
            raise ValueError(
                "x='dof' needs the effective degrees of freedom, which only "
                f"method='exact' computes; this result (method={self.method!r}) has "
                "none. Use x='param'."
            )
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(
                "BiasVarianceResult.plot needs matplotlib: pip install sksam[plot]"
            ) from exc
        if components is None:
            bias = "bias_squared" if self.bias_squared is not None else None
            components = (
                "expected_loss",
                bias or "bias_squared_plus_noise",
                "variance",
            )
        if ax is None:
            _, ax = plt.subplots()
        xs = self.param_range if x == "param" else self.dof
        styles = {"expected_loss": "-", "variance": ":"}
        kwargs = dict(plot_kwargs)
        for name in components:
            if self.get(name) is None:
                raise ValueError(f"This result has no {name!r} to plot.")
            text = _NAMES.get(name, name)
            (line,) = ax.plot(
                xs,
                self[name],
                linestyle=styles.get(name, "--"),
                label=f"{label}: {text}" if label else text,
                **kwargs,
            )
            kwargs.setdefault("color", line.get_color())
        if "expected_loss" in components:
            best = self.oracle_index
            ax.plot(xs[best], self.expected_loss[best], "o", **kwargs)
        ax.set_xlabel(
            self.param_name if x == "param" else "effective degrees of freedom"
        )
        ax.set_ylabel("squared error")
        ax.legend()
        return ax


# Checked at the call, not by a decorator: scikit-learn's would report an invalid
# parameter of the *estimator* (raised by its fit) as this function's own.
_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "predict"])],
    "X_train": ["array-like", "sparse matrix"],
    "y_train": ["array-like", None],
    "X_test": ["array-like", "sparse matrix"],
    "y_test": ["array-like", None],
    "method": [StrOptions({"exact", "simulate", "bootstrap"})],
    "f_train": ["array-like", None],
    "f_test": ["array-like", None],
    "noise_std": [Interval(Real, 0, None, closed="left"), None],
    "param_name": [str, None],
    "param_range": ["array-like", None],
    "n_rounds": [Interval(Integral, 2, None, closed="left")],
    "coef_true": ["array-like", None],
    "random_state": ["random_state"],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


def bias_variance_decomposition(
    estimator,
    X_train,
    y_train,
    X_test,
    y_test=None,
    *,
    method="exact",
    f_train=None,
    f_test=None,
    noise_std=None,
    param_name=None,
    param_range=None,
    n_rounds=200,
    coef_true=None,
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Bias^2, variance and expected squared error of an estimator at test points.

    Fixed design: the training inputs ``X_train`` are held fixed and the training
    targets are ``y = f_train + eps`` with independent noise of standard deviation
    ``noise_std``. At each test point the expected loss on a fresh label
    ``f_test + eps'`` splits into ``bias^2 + variance + noise``; the figures returned
    are averages over the test points. For early-stopped gradient descent and SAM
    on least squares these are the exact bias and variance of [1]_; the effective
    degrees of freedom are the trace of the training smoother, as in [2]_.

    Parameters
    ----------
    estimator : estimator object
        A regressor; it is cloned for every fit and stays unfitted.
    X_train : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training inputs (for ``kernel="precomputed"``: the training kernel).
    y_train : array-like of shape (n_samples,) or None
        Observed training targets; used by ``"bootstrap"`` only (pass ``None``
        otherwise).
    X_test : {array-like, sparse matrix} of shape (n_test, n_features)
        Test inputs. ``X_test = X_train`` gives the in-sample (fixed-design) risk.
    y_test : array-like of shape (n_test,), default=None
        Observed test targets; used by ``"bootstrap"`` only.
    method : {"exact", "simulate", "bootstrap"}, default="exact"
        - ``"exact"``: known truth (``f_train``, ``f_test``, ``noise_std``); exact
          for every estimator linear in ``y``: unnormalized SAM / GD
          (:class:`SAMRegressor`, :class:`SAMKernelRidge`, full batch), ``Ridge``,
          ``KernelRidge``, ``LinearRegression``, and pipelines whose steps before
          the last are fitted on ``X`` alone. SAM uses one eigendecomposition for
          the whole curve over ``n_iter``, ``rho`` or ``learning_rate``; other
          estimators are fitted on the ``n_samples + 1`` targets ``[0, I]``
          (multi-output) to read off the smoother matrix ``A`` (predictions
          ``A y + c``), and linearity is checked against a fit on ``f_train``.
          Anything else (normalized SAM, mini-batch SAM, trees) raises a
          ``ValueError`` pointing to ``"simulate"``.
        - ``"simulate"``: known truth; the noise is redrawn ``n_rounds`` times and
          a clone refitted each time. ``bias_squared`` carries the Monte Carlo
          error ``variance / n_rounds`` upwards.
        - ``"bootstrap"``: real data; the training set is resampled with
          replacement ``n_rounds`` times. Without the truth the noise cannot be
          separated from the bias: ``bias_squared`` and ``noise`` are ``None`` and
          ``bias_squared_plus_noise`` is the mean of ``(mean prediction -
          y_test)^2``, which estimates bias^2 + noise. ``variance`` is the
          variance over resampled training sets (it also reflects the randomness
          of the design, unlike the fixed-design variance).
    f_train : array-like of shape (n_samples,), default=None
        Noiseless training targets (``"exact"``, ``"simulate"``).
    f_test : array-like of shape (n_test,), default=None
        Noiseless test targets (``"exact"``, ``"simulate"``).
    noise_std : float, default=None
        Standard deviation of the noise (``"exact"``, ``"simulate"``).
    param_name : str, default=None
        A parameter of ``estimator`` to vary (``"n_iter"``, ``"rho"``, ``"alpha"``,
        ``"step__param"`` inside a pipeline); ``None`` evaluates the estimator as
        it is.
    param_range : array-like, default=None
        The values of ``param_name`` (required with it).
    n_rounds : int, default=200
        Monte Carlo rounds (``"simulate"``, ``"bootstrap"``).
    coef_true : array-like of shape (n_features,), default=None
        True weights ``w*`` of a linear model (in the feature space of the final
        step of a pipeline): also report ``E||w - w*||^2`` (the intercept is not
        included) and its split into bias and variance.
    random_state : int, RandomState instance or None, default=None
        Seeds the Monte Carlo draws.
    n_jobs : int, default=None
        Parallel jobs over Monte Carlo rounds (and over ``param_range`` for the
        exact smoother route); ``None`` is 1 unless in a ``joblib.parallel_config``.
    verbose : int, default=0
        Progress messages of the Monte Carlo rounds (joblib's verbosity).

    Returns
    -------
    result : BiasVarianceResult
        A ``Bunch`` with arrays over ``param_range`` (floats without a curve):
        ``bias_squared``, ``variance``, ``noise`` (``noise_std**2``),
        ``expected_loss`` (= bias^2 + variance + noise; for ``"bootstrap"`` the mean
        test MSE = ``bias_squared_plus_noise + variance``), ``bias_squared_plus_noise``,
        ``dof`` (trace of the training smoother, ``"exact"`` only), ``param_name``,
        ``param_range``, ``oracle_index`` / ``oracle_param`` (argmin of the expected
        loss), ``coef_bias_squared``, ``coef_variance``, ``coef_risk`` (with
        ``coef_true``), ``method``, ``n_rounds``. Its ``plot(ax=None, *,
        x="param", label=None)`` draws the curves against the parameter or, with
        ``x="dof"``, against the effective degrees of freedom (so that SAM and GD
        over ``n_iter`` and Ridge over ``alpha`` share one axis); ``to_frame()``
        returns them as a pandas DataFrame; its repr is a short summary.

    Notes
    -----
    Unweighted, single-output targets only. The smoother route of ``"exact"`` for
    non-SAM estimators holds ``n_test x n_samples`` and ``n_samples x n_samples``
    prediction matrices. ``"bootstrap"`` resamples rows (for
    ``kernel="precomputed"``, the rows and columns of the training kernel and the
    columns of the test kernel). For SAM, ``"exact"`` warns (``ConvergenceWarning``)
    for an unstable ``learning_rate`` and raises if the iterates overflow, as
    ``fit`` does. Unlike mlxtend's ``bias_variance_decomp``, the noise is never
    folded into the bias, every fit uses a clone, and curves come in one call.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam import SAMRegressor, bias_variance_decomposition
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10))
    >>> w = rng.standard_normal(10)
    >>> res = bias_variance_decomposition(
    ...     SAMRegressor(rho=0.1), X, None, X, f_train=X @ w, f_test=X @ w,
    ...     noise_std=1.0, param_name="n_iter", param_range=[0, 10, 1000])
    >>> res.bias_squared.round(4).tolist(), res.variance.round(4).tolist()
    ([4.3446, 0.0015, 0.0], [0.01, 0.1071, 0.11])
    >>> int(res.oracle_param), round(float(res.dof[-1]), 6)
    (10, 11.0)

    Several results can be drawn on one axes (needs matplotlib), e.g.
    ``ax = res.plot(x="dof", label="SAM"); ridge_res.plot(ax=ax, x="dof",
    label="Ridge")``. The repr summarises the curve:

    >>> res
    BiasVarianceResult(method='exact';
        n_iter from 0 to 1000 (3 points);
        oracle n_iter=10: expected_loss=1.109, bias_squared=0.00145, variance=0.1071,
            dof=10.85;
        fields: expected_loss, bias_squared, variance, bias_squared_plus_noise, noise,
            dof)

    References
    ----------
    .. [1] K. Behdin and R. Mazumder, "Sharpness-Aware Minimization: An Implicit
       Regularization Perspective", arXiv:2302.11836, 2023.
       https://arxiv.org/abs/2302.11836
    .. [2] T. Hastie, R. Tibshirani and J. Friedman, "The Elements of Statistical
       Learning", 2nd ed., Springer, 2009, Section 7.6 (effective number of
       parameters).
    """
    validate_parameter_constraints(
        _CONSTRAINTS,
        {name: value for name, value in locals().items() if name in _CONSTRAINTS},
        caller_name="bias_variance_decomposition",
    )
    n_train, n_test = _num_samples(X_train), _num_samples(X_test)
    if method == "bootstrap":
        if y_train is None or y_test is None:
            raise ValueError(
                "method='bootstrap' needs the observed y_train and y_test."
            )
        y_train = _vector(y_train, "y_train", n_train)
        y_test = _vector(y_test, "y_test", n_test)
    else:
        missing = [
            name
            for name, value in (("f_train", f_train), ("f_test", f_test))
            + (("noise_std", noise_std),)
            if value is None
        ]
        if missing:
            raise ValueError(
                f"method={method!r} needs the true regression function and noise "
                f"level; missing {', '.join(missing)}. Without the truth use "
                "method='bootstrap' with y_train and y_test."
            )
        f_train = _vector(f_train, "f_train", n_train)
        f_test = _vector(f_test, "f_test", n_test)
    if coef_true is not None:
        coef_true = _vector(coef_true, "coef_true", None)
    values = _check_param_range(estimator, param_name, param_range)
    # Not a dict (Bunch): dask.distributed before 2026.7 turns a dict subclass passed
    # to joblib's dask backend into a plain dict on the workers.
    data = SimpleNamespace(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        f_train=f_train,
        target=y_test if method == "bootstrap" else f_test,
        noise_std=noise_std,
        noise_var=None if noise_std is None else float(noise_std) ** 2,
        n_train=n_train,
        coef_true=coef_true,
    )
    if method == "exact":
        parts = exact_parts(estimator, data, param_name, values, n_jobs)
    else:
        parts = monte_carlo_parts(
            estimator,
            data,
            method,
            param_name,
            values,
            n_rounds,
            random_state,
            n_jobs,
            verbose,
        )
    return _make_result(parts, data, method, param_name, values, n_rounds)


def _vector(values, name, length):
    array = np.asarray(values, dtype=np.float64)
    assert_all_finite(array, input_name=name)
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        expected = "1-D" if length is None else f"of shape ({length},)"
        raise ValueError(f"{name} must be {expected}; got shape {array.shape}.")
    return array


def _check_param_range(estimator, param_name, param_range):
    if (param_name is None) != (param_range is None):
        raise ValueError("param_name and param_range must be given together.")
    if param_name is None:
        return [None]
    valid = estimator.get_params(deep=True)
    if param_name not in valid:
        raise ValueError(
            f"{param_name!r} is not a parameter of {type(estimator).__name__}; "
            f"valid parameters: {sorted(valid)}."
        )
    values = list(param_range)
    if not values:
        raise ValueError("param_range is empty.")
    _, final, prefix = split_pipeline(estimator)
    if isinstance(final, BaseSAM) and param_name == prefix + "n_iter":
        as_array = np.asarray(values)
        if as_array.dtype.kind not in "iu" or as_array.min() < 0:
            raise ValueError(
                f"{param_name} values must be non-negative integers; got {values}."
            )
    return values


# ------------------------------------------------------------------------ result
def _make_result(parts, data, method, param_name, values, n_rounds):
    bias_squared, variance, dof, coef_bias, coef_var = parts
    curve = param_name is not None
    if method == "bootstrap":
        noise, bias_plus_noise, bias_squared = None, bias_squared, None
    else:
        noise = data.noise_var
        bias_plus_noise = bias_squared + noise
    expected_loss = bias_plus_noise + variance
    coef_risk = None if coef_bias is None else coef_bias + coef_var
    best = int(np.argmin(expected_loss)) if curve else None

    def out(array):
        if array is None or curve:
            return array
        return float(array[0])

    return BiasVarianceResult(
        method=method,
        bias_squared=out(bias_squared),
        variance=out(variance),
        noise=noise,
        expected_loss=out(expected_loss),
        bias_squared_plus_noise=out(bias_plus_noise),
        dof=out(dof),
        param_name=param_name,
        param_range=np.asarray(values) if curve else None,
        oracle_index=best,
        oracle_param=values[best] if curve else None,
        coef_bias_squared=out(coef_bias),
        coef_variance=out(coef_var),
        coef_risk=out(coef_risk),
        n_rounds=None if method == "exact" else n_rounds,
    )
