"""Explicit SAM loops on the scaled least-squares problem (any array namespace).

The operator ``op`` (a ``RowOperator`` of ``_operators``) supplies ``apply``
(coefficients to scaled fitted values), ``adjoint`` (scaled residuals to the gradient
direction), the weight sum ``S`` and the gradient norm (Euclidean, or the RKHS norm
for a kernel). One step of SAM is

    g  = grad(c),    c <- c - eta * grad(c + rho_k * g),

with ``rho_k = rho`` (unnormalized) or ``rho / ||g||`` per target column (normalized);
the variant (``_variants``) gives the image ``A p`` of its perturbation ``p``.
Because the loss is quadratic, ``grad(c + p) = grad(c) + A^T A p / S`` is formed from
``A p``, so a step costs two products with ``A`` and ``A^T`` more than a
gradient-descent step, and ``rho = 0`` skips them: it *is* gradient descent. The
full-batch loop runs in the namespace of the operator (numpy, torch, ...).

Stochastic (mini-batch) SAM runs the same step on the rows ``B`` of the scaled problem
(``op.rows(B)``), with the batch loss normalised by the batch's weight sum; batches are
drawn in shuffled epochs without replacement (``shuffled_batches``); it is numpy's.
"""

from collections import deque

import numpy as np

from ._namespaces import zeros
from ._variants import get_variant

__all__ = [
    "sam_batch_iterates",
    "sam_iterates",
    "sam_loop",
    "shuffled_batches",
    "stochastic_sam_iterates",
    "stochastic_sam_loop",
]


def sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant):
    """Yield ``(step, coef)`` after each of ``n_iter`` full-batch SAM steps from zero.

    In the namespace of the operator (``op.xp``).

    Parameters
    ----------
    op : ScaledDesign or ScaledKernel
    y_scaled : array of shape (n_samples, n_targets)
    learning_rate, rho : float
    n_iter : int
    variant : str or SAMVariant
        Its ``ascent`` gives the image of the perturbation (``_variants``).
    """
    S, variant = op.sum_weights, get_variant(variant)
    coef = zeros(op.xp, (op.n_params, y_scaled.shape[1]), y_scaled)
    for step in range(1, n_iter + 1):
        resid = op.apply(coef) - y_scaled
        grad = op.adjoint(resid) / S
        if rho > 0.0:
            # grad(c + p) = grad(c) + A^T A p / S: no n-vector work beyond gradient
            # descent's, only the products of the ascent. The perturbation p is
            # formed before the products: it has the units of the coefficients,
            # while A^T A g scales like c^4 under (c X, c y) and leaves the float64
            # range first.
            grad = grad + op.adjoint(variant.ascent(op, grad, rho)) / S
        coef = coef - learning_rate * grad
        yield step, coef


def sam_loop(op, y_scaled, learning_rate, rho, n_iter, variant, progress=None):
    """Coefficients after ``n_iter`` full-batch SAM steps (see ``sam_iterates``).

    ``progress``: a ``_progress.Progress`` told of the steps done (``None``: none).
    """
    iterates = sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant)
    if progress is not None:
        iterates = progress.iterate(iterates)
    last = deque(iterates, maxlen=1)
    return (
        last[0][1] if last else zeros(op.xp, (op.n_params, y_scaled.shape[1]), y_scaled)
    )


def shuffled_batches(rng, n_samples, batch_size, n_iter, sample_weight=None):
    """Yield ``(rows, batch_weight_sum)`` for ``n_iter`` mini-batch steps.

    Batches are drawn in shuffled epochs without replacement: each epoch takes
    ``rng.permutation`` of the samples with positive weight and cuts it into
    consecutive slices of ``batch_size`` (the last one, possibly smaller, is kept);
    the next epoch draws a new permutation. Samples with zero weight never enter a
    batch, so every batch has a positive weight sum and a zero weight is the same as
    removing the sample.

    Parameters
    ----------
    rng : numpy.random.RandomState or numpy.random.Generator
        Source of the permutations (one ``rng.permutation`` call per epoch).
    n_samples, batch_size, n_iter : int
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights (``None``: unit weights).

    Yields
    ------
    rows : ndarray of shape (batch_size,) or smaller
        Sample indices of the batch (a view of the epoch's permutation).
    batch_weight_sum : float
        ``sum(sample_weight[rows])`` (the batch size for unit weights).

    Examples
    --------
    >>> import numpy as np
    >>> batches = shuffled_batches(np.random.RandomState(0), 5, 2, 4)
    >>> [(rows.tolist(), float(total)) for rows, total in batches]
    [([2, 0], 2.0), ([1, 3], 2.0), ([4], 1.0), ([0, 2], 2.0)]
    """
    active = None
    if sample_weight is not None and not np.all(sample_weight > 0):
        active = np.flatnonzero(sample_weight > 0)
        n_samples = active.size
    starts = np.arange(0, n_samples, batch_size)
    if sample_weight is None:
        sizes = np.minimum(batch_size, n_samples - starts).astype(float)
    step = 0
    while step < n_iter:
        perm = rng.permutation(n_samples)
        if active is not None:
            perm = active[perm]
        if sample_weight is not None:
            sizes = np.add.reduceat(sample_weight[perm], starts)
        for start, total in zip(starts.tolist(), sizes.tolist(), strict=True):
            if step == n_iter:
                return
            step += 1
            yield perm[start : start + batch_size], total


def sam_batch_iterates(op, y_scaled, learning_rate, rho, variant, batches):
    """Yield ``(step, coef)`` after each mini-batch SAM step, one per batch, from zero.

    Each step uses the batch loss ``||A_B c - y_B||^2 / (2 S_B)`` (rows ``B`` of the
    scaled problem, ``S_B`` the batch's weight sum) for both gradients (the
    "Stochastic SAM"):

        g = grad_B(c),    c <- c - eta * grad_B(c + rho_k * g).

    Only the batch rows of the operator are touched (``op.rows``): for the kernel,
    ``K_s[B, :] @ c`` and ``K_s[B, B] @ g``, and the gradient is supported on ``B``.

    Parameters
    ----------
    op : ScaledDesign or ScaledKernel
    y_scaled : ndarray of shape (n_samples, n_targets)
    learning_rate, rho : float
    variant : str or SAMVariant
    batches : iterable of (ndarray of int, float)
        ``(rows, batch_weight_sum)`` per step, e.g. from ``shuffled_batches``.

    Yields
    ------
    step : int
    coef : ndarray of shape (n_params, n_targets)
        Updated in place by the next step: copy it to keep it.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledDesign
    >>> op = ScaledDesign(np.eye(2), None, None, 2.0)
    >>> y = np.array([[2.0], [4.0]])
    >>> batches = [(np.array([0]), 1.0), (np.array([1]), 1.0)]
    >>> from sksam._core._variants import Unnormalized
    >>> [coef.ravel().tolist() for _, coef in
    ...  sam_batch_iterates(op, y, 0.5, 0.0, Unnormalized(), batches)]
    [[1.0, 0.0], [1.0, 2.0]]
    """
    variant = get_variant(variant)
    coef = np.zeros((op.n_params, y_scaled.shape[1]))
    floor = op.gradient_floor() if op.gradient_floor is not None else None
    for step, (rows, batch_weight_sum) in enumerate(batches, start=1):
        batch = op.rows(rows)
        if floor is not None:
            # A batch's top eigenvalue is at most S / S_B times the full one.
            scaled = floor * float(np.sqrt(op.sum_weights / batch_weight_sum))
            batch.gradient_floor = lambda scaled=scaled: scaled
        resid = batch.apply(coef) - y_scaled.take(rows, axis=0)
        if rho > 0.0:
            # The residual at the perturbed point is resid + A_B p, with p the
            # variant's perturbation for the batch gradient g_B = A_B^T resid / S_B
            # (its image through ``apply_gradient``: K_s[B, B] for the kernel).
            grad = batch.adjoint(resid) / batch_weight_sum
            resid += variant.ascent(batch, grad, rho)
        descent = batch.adjoint(resid)
        descent *= learning_rate / batch_weight_sum
        batch.take_step(coef, rows, descent)
        yield step, coef


def stochastic_sam_iterates(
    op, y_scaled, learning_rate, rho, n_iter, variant, batch_size, rng, sample_weight
):
    """Yield ``(step, coef)`` after each of ``n_iter`` mini-batch SAM steps.

    Batches come from ``shuffled_batches``. When one batch holds every sample of
    positive weight, every step sees the whole data set: this *is* full-batch SAM
    and runs the full-batch loop ``sam_iterates`` (no permutations are drawn).

    Parameters
    ----------
    op : ScaledDesign or ScaledKernel
    y_scaled : ndarray of shape (n_samples, n_targets)
    learning_rate, rho : float
    n_iter, batch_size : int
    variant : str or SAMVariant
    rng : numpy.random.RandomState or numpy.random.Generator
    sample_weight : ndarray of shape (n_samples,) or None

    Yields
    ------
    step : int
    coef : ndarray of shape (n_params, n_targets)
        May be updated in place by the next step: copy it to keep it.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledDesign
    >>> from sksam._core._variants import Unnormalized
    >>> op = ScaledDesign(np.eye(2), None, None, 2.0)
    >>> y = np.array([[2.0], [4.0]])
    >>> iterates = stochastic_sam_iterates(
    ...     op, y, 0.5, 0.0, 2, Unnormalized(), 1, np.random.RandomState(0), None)
    >>> [coef.ravel().tolist() for _, coef in iterates]
    [[0.0, 2.0], [1.0, 2.0]]
    """
    n_active = op.n_samples
    if sample_weight is not None:
        n_active = int(np.count_nonzero(sample_weight > 0))
    if batch_size >= n_active:
        yield from sam_iterates(op, y_scaled, learning_rate, rho, n_iter, variant)
        return
    batches = shuffled_batches(rng, op.n_samples, batch_size, n_iter, sample_weight)
    yield from sam_batch_iterates(op, y_scaled, learning_rate, rho, variant, batches)


def stochastic_sam_loop(
    op,
    y_scaled,
    learning_rate,
    rho,
    n_iter,
    variant,
    batch_size,
    rng,
    sample_weight,
    progress=None,
):
    """Coefficients after ``n_iter`` mini-batch SAM steps.

    See ``stochastic_sam_iterates`` for the parameters; ``progress`` as in
    ``sam_loop``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledDesign
    >>> from sksam._core._variants import Unnormalized
    >>> op = ScaledDesign(np.eye(2), None, None, 2.0)
    >>> y = np.array([[2.0], [4.0]])
    >>> stochastic_sam_loop(
    ...     op, y, 0.5, 0.0, 2, Unnormalized(), 1, np.random.RandomState(0), None
    ... ).ravel().tolist()
    [1.0, 2.0]
    """
    iterates = stochastic_sam_iterates(
        op,
        y_scaled,
        learning_rate,
        rho,
        n_iter,
        variant,
        batch_size,
        rng,
        sample_weight,
    )
    if progress is not None:
        iterates = progress.iterate(iterates)
    last = deque(iterates, maxlen=1)
    return (
        last[0][1] if last else zeros(op.xp, (op.n_params, y_scaled.shape[1]), y_scaled)
    )
