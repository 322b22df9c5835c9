"""Plain loops of the SAM update rules: the reference of every closed form.

Written from the conventions of the user guide ("Update rules and conventions"), with
nothing shared with sksam: the loss ``1/(2S) sum_i s_i (y_i - f(x_i))^2`` divided by
``S = sum(s)``, weighted centring for the intercept, ``w_0 = 0``, the SAM step

    w <- w - eta * g(w + rho_k * g(w)),    rho_k = rho  or  rho / ||g(w)||,

(the RKHS norm for kernels), each target column fitted as if alone, and for
mini-batch SAM the same batch (and its weight sum) for both gradients.

Also the other conventions the loops are fed with, written from the user guide and
the docstrings: the ``"auto"`` learning rate (``auto_learning_rate``), the mini-batch
draw (``shuffled_epochs``), the classifiers' +/-1 indicator targets and class weights
(``class_targets``) and the kernels (``kernel_matrix``).
"""

import numpy as np

__all__ = [
    "auto_learning_rate",
    "class_targets",
    "kernel_matrix",
    "kernel_sam",
    "kernel_sam_model",
    "linear_sam",
    "shuffled_epochs",
    "weighted_centring",
]


def weighted_centring(X, y, sample_weight=None, fit_intercept=True, dtype=np.float64):
    """``(X_c, Y_c, s, x_mean, y_mean)``, ``Y`` 2-D (no centring without intercept)."""
    X = np.asarray(X, dtype=dtype)
    Y = np.asarray(y, dtype=dtype).reshape(X.shape[0], -1)
    s = np.ones(X.shape[0], dtype=dtype)
    if sample_weight is not None:
        s = np.asarray(sample_weight, dtype=dtype)
    if fit_intercept:
        x_mean, y_mean = s @ X / s.sum(), s @ Y / s.sum()
    else:
        x_mean = np.zeros(X.shape[1], dtype=dtype)
        y_mean = np.zeros(Y.shape[1], dtype=dtype)
    return X - x_mean, Y - y_mean, s, x_mean, y_mean


def _radius(rho, variant, norm):
    """``rho`` or ``rho / ||g||`` per column (0 where the gradient vanishes)."""
    if variant != "normalized":
        return np.full_like(norm, rho)
    return np.where(norm > 0, rho / np.where(norm > 0, norm, 1), 0)


def linear_sam(
    X,
    y,
    eta,
    rho,
    steps,
    *,
    variant="unnormalized",
    fit_intercept=True,
    sample_weight=None,
    batches=None,
    dtype=np.float64,
):
    """SAM on a linear model, step by step.

    Parameters
    ----------
    steps : sequence of int
        Step counts at which to record the iterate (0 is the start).
    batches : sequence of index arrays, default=None
        Mini-batch SAM: the rows of each step (at least ``max(steps)`` of them);
        None is full-batch SAM.
    dtype : numpy floating type
        Arithmetic of the loop (``np.longdouble`` for an extended-precision one).

    Returns
    -------
    coefs : ndarray of shape (len(steps), n_features, n_targets)
    intercepts : ndarray of shape (len(steps), n_targets)
    grad_norms : ndarray of shape (max(steps) + 1, n_targets)
        ``||g(w_k)||`` (full batch; batch gradient for mini-batches) for every
        ``k = 0..max(steps)``.
    """
    Xc, Yc, s, x_mean, y_mean = weighted_centring(
        X, y, sample_weight, fit_intercept, dtype
    )
    eta, rho = dtype(eta), dtype(rho)
    steps = list(steps)
    n_steps = max(steps)

    def grad(W, rows):
        Xb, Yb, sb = Xc[rows], Yc[rows], s[rows]
        return Xb.T @ (sb[:, None] * (Xb @ W - Yb)) / sb.sum()

    W = np.zeros((Xc.shape[1], Yc.shape[1]), dtype=dtype)
    coefs, norms = {}, []
    for k in range(n_steps + 1):
        coefs[k] = W.copy()
        rows = slice(None) if batches is None or k == n_steps else batches[k]
        G = grad(W, rows)
        norm = np.sqrt(np.sum(G * G, axis=0))
        norms.append(norm)
        if k < n_steps:
            W = W - eta * grad(W + _radius(rho, variant, norm) * G, rows)
    out = np.array([coefs[k] for k in steps], dtype=np.float64)
    intercepts = y_mean.astype(np.float64) - np.einsum(
        "d,kdt->kt", x_mean.astype(np.float64), out
    )
    return out, intercepts, np.array(norms, dtype=np.float64)


def kernel_sam(
    K,
    y,
    eta,
    rho,
    steps,
    *,
    K_eval,
    variant="unnormalized",
    fit_intercept=True,
    sample_weight=None,
    batches=None,
):
    """Function-space SAM on a kernel, step by step, in dual coefficients.

    The kernel is centred in feature space with the weighted means; the RKHS
    gradient of the (batch) loss is ``gamma = diag(s)(K_c alpha - y_c) / S`` on the
    (batch) rows, and the step is
    ``alpha <- alpha - eta * gamma(alpha + rho_k gamma(alpha))``.

    Returns
    -------
    preds : ndarray of shape (len(steps), n_eval, n_targets)
        Predictions on the rows of ``K_eval`` (kernel with the training points).
    radii : ndarray of shape (max(steps), n_targets)
        ``rho_k`` of each step.
    """
    n = K.shape[0]
    Y = np.asarray(y, dtype=float).reshape(n, -1)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    S = s.sum()
    if fit_intercept:
        col = K @ s / S
        grand = s @ col / S
        Kc = K - col[None, :] - col[:, None] + grand
        Kt = K_eval - (K_eval @ s / S)[:, None] - col[None, :] + grand
        y_mean = s @ Y / S
    else:
        Kc, Kt, y_mean = K, K_eval, np.zeros(Y.shape[1])
    Yc = Y - y_mean
    steps = list(steps)
    n_steps = max(steps)
    preds = np.zeros((len(steps), K_eval.shape[0], Y.shape[1]))
    radii = np.zeros((n_steps, Y.shape[1]))
    for j in range(Y.shape[1]):
        alpha = np.zeros(n)
        for k in range(n_steps + 1):
            if k in steps:
                preds[steps.index(k), :, j] = Kt @ alpha + y_mean[j]
            if k == n_steps:
                break
            rows = np.arange(n) if batches is None else np.asarray(batches[k])
            sb = s[rows]

            def gamma(a, rows=rows, sb=sb, j=j):
                return sb * (Kc[rows] @ a - Yc[rows, j]) / sb.sum()

            g = gamma(alpha)
            norm = np.sqrt(max(g @ Kc[np.ix_(rows, rows)] @ g, 0.0))
            radius = _radius(rho, variant, np.array([norm]))[0]
            radii[k, j] = radius
            perturbed = alpha.copy()
            perturbed[rows] += radius * g
            alpha[rows] -= eta * gamma(perturbed)
    return preds, radii


def shuffled_epochs(seed, n, batch_size, n_steps, sample_weight=None):
    """The rows of ``n_steps`` mini-batch steps, as documented for ``random_state``.

    One ``RandomState(seed).permutation`` of the samples with a positive weight per
    epoch, cut into consecutive slices of ``batch_size`` (the last, smaller, slice
    kept); the next epoch draws a new permutation.
    """
    rng = np.random.RandomState(seed)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    active = np.flatnonzero(s > 0)
    batches = []
    while len(batches) < n_steps:
        perm = active[rng.permutation(active.size)]
        for start in range(0, active.size, batch_size):
            batches.append(perm[start : start + batch_size])
    return batches[:n_steps]


def class_targets(y, sample_weight=None, class_weight=None):
    """``(classes, Y, s)``: the regression problem a least-squares classifier fits.

    ``classes`` are the sorted distinct labels; ``Y`` holds the +/-1 indicators:
    one column (+1 for the second class) for two classes, one column per class
    otherwise; ``s`` is ``sample_weight`` (ones if None) times the weight of each
    row's class: ``class_weight[label]`` (1 for a label it leaves out), or for
    ``"balanced"`` ``n_samples / (n_classes * count of the class)``.
    """
    y = np.asarray(y)
    classes = np.array(sorted(set(y.tolist())))
    code = np.array([np.flatnonzero(classes == label)[0] for label in y])
    if classes.size == 2:
        Y = np.where(code == 1, 1.0, -1.0)[:, None]
    else:
        Y = -np.ones((y.size, classes.size))
        Y[np.arange(y.size), code] = 1.0
    s = np.ones(y.size) if sample_weight is None else np.array(sample_weight, float)
    if class_weight == "balanced":
        counts = np.array([np.sum(code == c) for c in range(classes.size)])
        s = s * (y.size / (classes.size * counts))[code]
    elif class_weight is not None:
        s = s * np.array([class_weight.get(label, 1.0) for label in y.tolist()])
    return classes, Y, s


def kernel_matrix(A, B, kernel, gamma, degree=3, coef0=1.0):
    """``k(a_i, b_j)`` of the kernels of scikit-learn's ``pairwise_kernels``:
    ``"rbf"`` ``exp(-gamma ||a - b||^2)``, ``"laplacian"`` ``exp(-gamma ||a - b||_1)``,
    ``"poly"`` ``(gamma a.b + coef0)^degree``, ``"sigmoid"`` ``tanh(gamma a.b +
    coef0)``, ``"linear"`` ``a.b``."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    diff = A[:, None, :] - B[None, :, :]
    if kernel == "rbf":
        return np.exp(-gamma * np.sum(diff**2, axis=2))
    if kernel == "laplacian":
        return np.exp(-gamma * np.sum(np.abs(diff), axis=2))
    if kernel == "poly":
        return (gamma * A @ B.T + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * A @ B.T + coef0)
    if kernel == "linear":
        return A @ B.T
    raise ValueError(kernel)


def kernel_sam_model(K, y, eta, rho, n_iter, *, K_test, **options):
    """``(dual_coef, intercept, test_pred)`` of ``kernel_sam`` after ``n_iter`` steps.

    The model in the documented form ``f(x) = k(x, X) @ dual_coef + intercept``
    (shapes (n, t), (t,), (n_test, t)), read off the loop's own predictions: a point
    whose kernel row is the unit vector ``e_i`` has ``f = dual_coef_i + intercept``,
    one whose kernel row is zero has ``f = intercept`` (whatever the centring).
    ``options``: those of ``kernel_sam``.
    """
    n, m = K.shape[0], K_test.shape[0]
    K_eval = np.vstack([K_test, np.eye(n), np.zeros((1, n))])
    preds, _ = kernel_sam(K, y, eta, rho, [n_iter], K_eval=K_eval, **options)
    intercept = preds[0, -1]
    return preds[0, m:-1] - intercept, intercept, preds[0, :m]


def auto_learning_rate(K, rho, variant="unnormalized", fit_intercept=True, s=None):
    """``learning_rate="auto"``: ``1 / (lam_max (1 + rho lam_max))``, ``1 / lam_max``
    for normalized SAM, with ``lam_max`` the top eigenvalue of the weighted kernel
    ``diag(sqrt(s)) K_c diag(sqrt(s)) / S`` (``K_c`` centred in feature space with
    the weighted means when ``fit_intercept``; ``K = X X^T`` for a linear model,
    whose Gram matrix has the same top eigenvalue)."""
    s = np.ones(K.shape[0]) if s is None else np.asarray(s, dtype=float)
    S = s.sum()
    if fit_intercept:
        col = K @ s / S
        K = K - col[None, :] - col[:, None] + s @ col / S
    root = np.sqrt(s)
    top = np.linalg.eigvalsh(root[:, None] * K * root[None, :] / S)[-1]
    return 1.0 / top if variant == "normalized" else 1.0 / (top * (1.0 + rho * top))
