"""The cost model behind ``solver="auto"``: estimated nanoseconds of each route.

The spectral route costs one Gram matrix and one symmetric eigendecomposition, the
iterative route ``n_iter`` steps of two (design) or one (kernel) operator products per
gradient, after the top eigenvalue that the learning rate needs. ``choose_solver``
compares the two estimates.

The constants below are the whole model. They were measured on the 2-core
development machine (OpenBLAS); figures in ``benchmarks/README.md``.

How to recalibrate on another machine: run ``python benchmarks/bench_fit.py
--calibrate`` (design constants: dense and sparse products, Gram, eigh, eigvalsh,
Lanczos; it prints the measured values next to these) and ``python
benchmarks/bench_kernel.py`` (the kernel crossover), then update the fields of
``COSTS``. Only the ratio of the two routes matters, so a uniformly faster machine
needs no change.
"""

from dataclasses import dataclass

from ._variants import get_variant

__all__ = ["COSTS", "CostModel", "choose_solver", "route_cost"]


@dataclass(frozen=True)
class CostModel:
    """Nanoseconds per unit of work of each kind (see the module docstring)."""

    #: Dense ``X @ v``, per entry of ``X``.
    gemv: float = 0.6
    #: Sparse product: per row (CSR) or column (CSC) visited ...
    sparse_segment: float = 10.0
    #: ... and per stored entry gathered (CSR) or scattered (CSC).
    sparse_gather: float = 1.3
    sparse_scatter: float = 1.5
    #: Dense centring and weighting of a sparse product, per entry of the vectors.
    vector: float = 1.0
    #: Dense Gram ``X^T X``, per multiply-add (``n d^2``).
    syrk: float = 0.023
    #: Sparse Gram: per product of two stored entries of a row ...
    spgemm: float = 4.3
    #: ... plus per entry of the dense result.
    densify: float = 26.0
    #: ``eigh`` of an ``m x m`` Gram per ``m^3``, with and without eigenvectors.
    eigh: float = 0.33
    eigvalsh: float = 0.1
    #: Lanczos (``eigsh`` on ``X^T X``) takes about this many products with both.
    lanczos_pairs: int = 80
    #: Fixed overheads (Python and numpy calls) of one product / one decomposition.
    product_call: float = 6_000.0
    decomposition_call: float = 55_000.0
    #: Kernel ``dsymv`` product per matrix entry (0.2 at n = 1000 to 0.35 at
    #: n = 3000, where the matrix leaves the cache) and the loop's vector work.
    kernel_product_entry: float = 0.25
    kernel_product_call: float = 5_000.0
    #: Kernel ``factor`` (eigh with its scaled copy and the basis) per ``n^3``, plus
    #: a per-``n^2`` term that dominates below ``n ~ 400``. The model puts the SAM
    #: step crossover at ~520 for n = 1000 and ~1330 for n = 3000 (measured: ~450
    #: and ~900).
    kernel_eigh_cube: float = 0.2
    kernel_eigh_square: float = 80.0
    #: Lanczos on a centred kernel takes 31-41 products (RBF, laplacian,
    #: polynomial; n = 1000 and 3000), plus ARPACK's own work.
    kernel_lanczos_products: int = 45
    #: One step of the exact normalized recursion, all targets together (numpy
    #: call overhead: about 17 array calls a step; 13.7 us measured under load
    #: at rank 100 where the per-target loop of 2026-11-29 took 6.2 us).
    recursion_step: float = 11_000.0


COSTS = CostModel()


def choose_solver(op, *, n_iter, rho, variant, n_targets):
    """``"spectral"`` or ``"iterative"``, whichever the cost model finds cheaper.

    Parameters
    ----------
    op : ScaledOperator
        Supplies ``product_cost``, ``top_eigenvalue_cost``, ``spectral_cost`` and
        ``products_per_gradient``.
    n_iter : int
    rho : float
    variant : str or SAMVariant
    n_targets : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledDesign
    >>> op = ScaledDesign(np.ones((1000, 500)), None, None, 1000.0)
    >>> choose_solver(op, n_iter=10_000, rho=0.1, variant="unnormalized", n_targets=1)
    'spectral'
    >>> choose_solver(op, n_iter=1, rho=0.0, variant="unnormalized", n_targets=1)
    'iterative'
    """
    products_per_step = (2 if rho > 0 else 1) * op.products_per_gradient
    iterative = op.top_eigenvalue_cost() + n_iter * products_per_step * op.product_cost(
        n_targets
    )
    spectral = op.spectral_cost()
    if get_variant(variant).grows_with_steps(rho):
        spectral += n_iter * COSTS.recursion_step
    return "spectral" if spectral <= iterative else "iterative"


def route_cost(op, *, solver, n_iter, rho, variant, n_targets, batch_size=None):
    """Estimated nanoseconds of ``n_iter`` steps on ``solver``, and of the spectral
    route for the same iterate: ``(route, spectral)``.

    The loops cost ``n_iter`` steps of operator products (on the batch's rows for
    mini-batches); the spectral route one decomposition, plus ``n_iter`` steps of
    the exact recursion for normalized SAM (the only route whose spectral cost
    grows with ``n_iter``).

    Examples
    --------
    >>> import numpy as np
    >>> from sksam._core._operators import ScaledDesign
    >>> op = ScaledDesign(np.ones((1000, 50)), None, None, 1000.0)
    >>> loop, spectral = route_cost(op, solver="iterative", n_iter=10**6, rho=0.1,
    ...                             variant="unnormalized", n_targets=1)
    >>> bool(loop > 1000 * spectral)
    True
    """
    grows = get_variant(variant).grows_with_steps(rho)
    spectral = op.spectral_cost() + (n_iter * COSTS.recursion_step if grows else 0.0)
    if solver == "spectral":
        return spectral, spectral
    products_per_step = (2 if rho > 0 else 1) * op.products_per_gradient
    product = op.product_cost(n_targets)
    if batch_size is not None:  # the batch's rows, but the call overheads all
        product = max(product * batch_size / max(op.n_samples, 1), COSTS.product_call)
    return op.top_eigenvalue_cost() + n_iter * products_per_step * product, spectral
