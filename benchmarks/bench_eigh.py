"""Which LAPACK to call for the eigendecomposition: numpy's or scipy's.

pip wheels of numpy and scipy each ship an OpenBLAS with its own thread pool. A fit
forms the Gram with numpy (``X^T X``) and then decomposes it; if the decomposition
goes through scipy, scipy's threads start while numpy's still spin after the
product. This script times, at several sizes m, one symmetric eigendecomposition
(LAPACK divide and conquer, eigenvectors included) of an m x m Gram:

- ``alone``: back to back, nothing else between calls;
- ``after product``: right after numpy forms ``A^T A`` (untimed), as in a fit;

for ``numpy.linalg.eigh`` and ``scipy.linalg.eigh(driver="evd", overwrite_a=True)``,
and prints the medians and the ratio scipy / numpy. sksam's ``symmetric_eigh``
(``sksam._core._namespaces``) uses numpy up to ``NUMPY_LAPACK_MAX_SIZE`` and scipy
(no copy of the Gram) above.

Run:  python benchmarks/bench_eigh.py [--sizes 100 300 1000 2000 3000] [--repeat 7]
"""

import argparse
import statistics
import time

import numpy as np
from scipy import linalg
from threadpoolctl import threadpool_info

from sksam._core._namespaces import NUMPY_LAPACK_MAX_SIZE


def median_time(func, repeat, setup=None):
    """Median time of ``func()`` over ``repeat`` runs (``setup()`` before, untimed)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_eigh(gram):
    return np.linalg.eigh(gram)  # copies gram itself


def scipy_eigh(gram):
    return linalg.eigh(gram.copy(), driver="evd", overwrite_a=True, check_finite=False)


def time_eigh(eigh, gram, before, repeat):
    """Median time of ``eigh(gram)``, each right after numpy's ``before^T before``."""
    setup = None if before is None else (lambda: before.T @ before)
    return median_time(lambda: eigh(gram), repeat, setup)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 2000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    pools = [
        (info["filepath"].rsplit("/", 1)[-1], info["num_threads"])
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    print(f"BLAS pools (library, threads): {pools}")
    print(f"sksam uses numpy's LAPACK up to m = {NUMPY_LAPACK_MAX_SIZE}")
    rng = np.random.default_rng(0)
    print(
        f"{'m':>6} {'case':>14} {'numpy [ms]':>11} {'scipy [ms]':>11} {'scipy/np':>9}"
    )
    for m in args.sizes:
        A = rng.standard_normal((m + 10, m))
        gram = A.T @ A
        repeat = args.repeat if m <= 1000 else max(3, args.repeat // 2)

        for case, before in (("alone", None), ("after product", A)):
            t_np = time_eigh(numpy_eigh, gram, before, repeat)
            t_sp = time_eigh(scipy_eigh, gram, before, repeat)
            print(
                f"{m:>6} {case:>14} {t_np * 1e3:>11.2f} {t_sp * 1e3:>11.2f} "
                f"{t_sp / t_np:>9.2f}"
            )


if __name__ == "__main__":
    main()
