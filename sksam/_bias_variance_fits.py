"""The fits behind ``bias_variance_decomposition``.

- SAM (unnormalized, full batch): one eigendecomposition for a whole curve over
  ``n_iter``, ``rho`` or ``learning_rate``, asked of the estimator through its
  ``_linear_smoother`` hook; the risks are sums over the spectrum (``_smoother``).
- Any other estimator linear in ``y``: its smoother matrix, read off one multi-output
  fit on the targets ``[0, I]`` and checked against a fit on ``f_train``.
- Monte Carlo (``"simulate"``, ``"bootstrap"``): refitted clones, in parallel over
  rounds; a SAM ``n_iter`` curve comes from one fit per round via ``staged_predict``.

Each route returns ``(bias_squared, variance, dof, coef_bias_squared,
coef_variance)``, arrays over the parameter values (``None`` where undefined).
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state, get_tags, resample
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples

from ._base import BaseSAM
from ._core._smoother import (
    RunningMoments,
    noise_gain,
    smoother_risk,
    spectral_coef_risk,
    spectral_risk,
)
from ._linear_smoother import NOT_LINEAR_HINT

__all__ = ["exact_parts", "monte_carlo_parts", "split_pipeline"]

# SAM parameters that change the spectral filter only, not the decomposition.
_FILTER_PARAMS = ("n_iter", "rho", "learning_rate")
_SIMULATE_HINT = NOT_LINEAR_HINT


def split_pipeline(estimator):
    """``(steps before the last or None, last step, parameter prefix of the last)``."""
    if isinstance(estimator, Pipeline):
        name, final = estimator.steps[-1]
        return estimator[:-1], final, name + "__"
    return None, estimator, ""


def _transform(pre, X_train, X_test, y=None):
    """Fit the steps before the last (on ``X_train`` alone if ``y`` is None)."""
    if pre is None:
        return X_train, X_test
    try:
        pre = clone(pre).fit(X_train, y)
    except (TypeError, ValueError) as exc:
        if y is not None:
            raise
        raise ValueError(
            "method='exact' needs the pipeline steps before the final estimator to "
            f"be fitted on X alone (not looking at y). {_SIMULATE_HINT}"
        ) from exc
    return pre.transform(X_train), pre.transform(X_test)


# ------------------------------------------------------------------------- exact
def exact_parts(estimator, data, param_name, values, n_jobs):
    pre, final, prefix = split_pipeline(estimator)
    local = None if param_name is None else param_name.removeprefix(prefix)
    if isinstance(final, BaseSAM) and (
        param_name is None
        or (param_name.startswith(prefix) and local in _FILTER_PARAMS)
    ):
        return _sam_exact(pre, final, local, values, data)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_exact_point)(_with_param(estimator, param_name, value), data)
        for value in values
    )
    return [
        None if p[0] is None else np.concatenate(p) for p in zip(*parts, strict=True)
    ]


def _with_param(estimator, param_name, value):
    estimator = clone(estimator)
    if param_name is not None:
        estimator.set_params(**{param_name: value})
    return estimator


def _exact_point(estimator, data):
    pre, final, _ = split_pipeline(estimator)
    if isinstance(final, BaseSAM):
        return _sam_exact(pre, final, None, [None], data)
    return _smoother_exact(estimator, data)


def _sam_exact(pre, final, local, values, data):
    """The whole curve from one eigendecomposition (see ``_smoother``)."""
    for problem, reason in (
        (
            final.batch_size is not None,
            "full-batch SAM (batch_size=None): mini-batch SAM is random",
        ),
        (
            final.early_stopping,
            "early_stopping=False: a stopping time picked on a validation split "
            "depends on y",
        ),
    ):
        if problem:
            raise ValueError(
                f"method='exact' needs {reason}, not a fixed linear smoother. "
                + _SIMULATE_HINT
            )
    X_train, X_test = _transform(pre, data.X_train, data.X_test)
    # The estimator as a linear smoother on the training data (one decomposition,
    # as fit makes it); its filter gives every point of the curve.
    smoother = clone(final)._linear_smoother(X_train, data.f_train, X_test)
    psi = smoother.filters(local, values)
    test = smoother.test_points(data.target)
    gain = noise_gain(smoother.lam, smoother.basis, float(data.n_train), smoother.rkhs)
    n_mean = data.n_train if smoother.fit_intercept else None
    bias_squared, variance, dof = spectral_risk(
        psi, smoother.proj, smoother.lam, gain, test, data.noise_var, n_mean
    )
    coef_parts = (None, None)
    if data.coef_true is not None:
        if smoother.rkhs:
            raise ValueError(
                "coef_true needs a linear model with coef_; SAMKernelRidge has dual "
                "coefficients only."
            )
        _check_coef_length(data.coef_true, smoother.basis.shape[0])
        coef_parts = spectral_coef_risk(
            psi, smoother.proj, gain, smoother.basis, data.coef_true, data.noise_var
        )
    return bias_squared, variance, dof, *coef_parts


def _smoother_exact(estimator, data):
    """Smoother matrix of any estimator linear in y, from fits on ``[0, I]``."""
    n = data.n_train
    targets = np.hstack([np.zeros((n, 1)), np.eye(n)])
    want_coef = data.coef_true is not None
    test_pred, train_pred, coefs = _fit_columns(estimator, data, targets, want_coef)
    smoother = test_pred[:, 1:] - test_pred[:, :1]
    train_smoother = train_pred[:, 1:] - train_pred[:, :1]
    single = clone(estimator).fit(data.X_train, data.f_train)
    mean_pred = single.predict(data.X_test)
    for got, expected in (
        (mean_pred, smoother @ data.f_train + test_pred[:, 0]),
        (
            single.predict(data.X_train),
            train_smoother @ data.f_train + train_pred[:, 0],
        ),
    ):
        scale = max(np.abs(got).max(initial=0), np.abs(data.f_train).max(), 1e-300)
        if np.abs(np.ravel(got) - expected).max(initial=0) > 1e-6 * scale:
            raise ValueError(
                f"{type(estimator).__name__} is not a deterministic estimator linear "
                "in y (its fit on f_train differs from the smoother read off fits on "
                f"unit vectors), so method='exact' does not apply. {_SIMULATE_HINT}"
            )
    bias_squared, variance = smoother_risk(
        np.ravel(mean_pred), smoother, data.target, data.noise_var
    )
    coef_bias = coef_var = None
    if want_coef:
        mean_coef = _coef(single)[:, 0]
        _check_coef_length(data.coef_true, mean_coef.size)
        coef_bias = np.sum((mean_coef - data.coef_true) ** 2)
        coef_var = data.noise_var * np.sum((coefs[:, 1:] - coefs[:, :1]) ** 2)
    return (
        np.array([bias_squared]),
        np.array([variance]),
        np.array([np.trace(train_smoother)]),
        None if coef_bias is None else np.array([coef_bias]),
        None if coef_var is None else np.array([coef_var]),
    )


def _fit_columns(estimator, data, targets, want_coef):
    """Predictions (test, train) and coefficients of fits on each target column."""
    if get_tags(estimator).target_tags.multi_output:
        fits = [clone(estimator).fit(data.X_train, targets)]
    else:
        fits = [clone(estimator).fit(data.X_train, col) for col in targets.T]

    def stack(outputs):
        return np.hstack([np.reshape(out, (out.shape[0], -1)) for out in outputs])

    test_pred = stack([fit.predict(data.X_test) for fit in fits])
    train_pred = stack([fit.predict(data.X_train) for fit in fits])
    coefs = stack([_coef(fit) for fit in fits]) if want_coef else None
    return test_pred, train_pred, coefs


def _coef(fitted):
    """Coefficients of the final step, shape (n_features, n_targets)."""
    final = fitted[-1] if isinstance(fitted, Pipeline) else fitted
    if not hasattr(final, "coef_"):
        raise ValueError(
            f"coef_true needs a final estimator with coef_; {type(final).__name__} "
            "has none."
        )
    return np.atleast_2d(np.asarray(final.coef_, dtype=np.float64)).T


def _check_coef_length(coef_true, n_features):
    if coef_true.size != n_features:
        raise ValueError(
            f"coef_true has {coef_true.size} entries; the model has {n_features} "
            "coefficients."
        )


# ------------------------------------------------------------------- Monte Carlo
def monte_carlo_parts(
    estimator, data, method, param_name, values, n_rounds, random_state, n_jobs, verbose
):
    seeds = check_random_state(random_state).randint(
        np.iinfo(np.int32).max, size=n_rounds
    )
    rounds = Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator")(
        delayed(_one_round)(estimator, data, method, seed, param_name, values)
        for seed in seeds
    )
    predictions, coefficients = RunningMoments(), RunningMoments()
    for pred, coef in rounds:
        predictions.update(pred)
        if coef is not None:
            coefficients.update(coef)
    bias_squared = np.mean((predictions.mean - data.target[:, None]) ** 2, axis=0)
    variance = np.mean(predictions.variance, axis=0)
    coef_bias = coef_var = None
    if data.coef_true is not None:
        _check_coef_length(data.coef_true, coefficients.mean.shape[0])
        coef_bias = np.sum((coefficients.mean - data.coef_true[:, None]) ** 2, axis=0)
        coef_var = np.sum(coefficients.variance, axis=0)
    return bias_squared, variance, None, coef_bias, coef_var


def _one_round(estimator, data, method, seed, param_name, values):
    """Predictions (n_test, n_values) and coefficients of one redrawn training set."""
    rng = np.random.RandomState(seed)
    if method == "simulate":
        X = data.X_train
        y = data.f_train + data.noise_std * rng.standard_normal(data.n_train)
    else:
        X, y, X_test = _bootstrap_sample(estimator, data, rng)
    if method == "simulate":
        X_test = data.X_test
    want_coef = data.coef_true is not None
    pre, final, prefix = split_pipeline(estimator)
    if isinstance(final, BaseSAM) and param_name == prefix + "n_iter":
        return _staged_curve(pre, final, X, y, X_test, values, want_coef)
    preds, coefs = [], []
    for value in values:
        fitted = _with_param(estimator, param_name, value).fit(X, y)
        preds.append(fitted.predict(X_test))
        if want_coef:
            coefs.append(_coef(fitted)[:, 0])
    return np.column_stack(preds), np.column_stack(coefs) if want_coef else None


def _bootstrap_sample(estimator, data, rng):
    """A training set drawn with replacement, and the test inputs that go with it.

    A precomputed kernel is resampled in its rows and columns (and the test
    kernel in its columns): the resampled training samples are its samples.
    """
    rows = resample(np.arange(data.n_train), random_state=rng)
    y = data.y_train[rows]
    if not get_tags(estimator).input_tags.pairwise:
        return _safe_indexing(data.X_train, rows), y, data.X_test
    X = _safe_indexing(_safe_indexing(data.X_train, rows), rows, axis=1)
    return X, y, _safe_indexing(data.X_test, rows, axis=1)


def _staged_curve(pre, final, X, y, X_test, steps, want_coef):
    """A SAM n_iter curve from one fit and ``staged_predict`` (any solver/variant)."""
    X, X_test = _transform(pre, X, X_test, y)
    steps = np.asarray(steps, dtype=np.int64)
    sam = clone(final).set_params(n_iter=int(steps.max())).fit(X, y)

    columns = {}
    for column, step in enumerate(steps.tolist()):
        columns.setdefault(step, []).append(column)

    def curve(X_eval):
        # Step 0 is the intercept-only model; staged_predict yields steps 1, 2, ...
        start = float(sam._initial_offset()[0])
        out = np.full((_num_samples(X_eval), steps.size), start)
        for step, pred in enumerate(sam.staged_predict(X_eval), start=1):
            if step in columns:
                out[:, columns[step]] = pred[:, None]
        return out

    preds = curve(X_test)
    if not want_coef:
        return preds, None
    # A linear model's coefficients are its predictions at the unit vectors minus
    # its prediction at 0.
    probe = np.vstack([np.eye(sam.n_features_in_), np.zeros(sam.n_features_in_)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        at_probe = curve(probe)
    return preds, at_probe[:-1] - at_probe[-1]
