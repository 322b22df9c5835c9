"""Stochastic (mini-batch) SAM: time per epoch against the loops a user would write.

Linear model (dense X, n x d): for batch sizes 1, 32 and 256, the time of one epoch
(ceil(n / batch) steps) of

- ``sksam loop``: the mini-batch loop that ``SAMRegressor(batch_size=...).fit`` runs
  after its one-time setup (``stochastic_sam_loop`` on the centred problem);
- ``sksam fit``: the whole ``SAMRegressor.fit`` for one epoch (validation, centring,
  the Lanczos top eigenvalue used by the learning-rate check, then the loop);
- ``numpy loop``: the straightforward loop a user would write (same permutations,
  same update, 1-D targets; its coefficients are checked against ours);
- ``SGDRegressor``: ``SGDRegressor(max_iter=1, tol=None, penalty=None,
  learning_rate="constant")``, i.e. one epoch of per-sample SGD in Cython (always
  batch size 1; the same figure is shown on every row).

Then the step cost of stochastic SAM against stochastic GD (``rho=0``, the same code)
at every batch size (issue 4 target: <= 2.3x at batch 256), the same for sparse CSR X,
and the kernel model (rows of a precomputed n x n RBF kernel) against a numpy loop
and against one full-batch SAM step (an epoch touches the kernel about as often).

Every figure is the median over repeats; each repeat times all cases of a row back
to back and ratios are medians of per-repeat ratios.

Run:  python benchmarks/bench_stochastic.py [--n 20000] [--d 100] [--repeat 7]
      [--blas-threads 1]   (limit BLAS threads, e.g. on a loaded shared machine where
      multithreaded matrix-vector products slow down by an order of magnitude)
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.metrics.pairwise import rbf_kernel
from threadpoolctl import threadpool_limits

from sksam import SAMKernelRidge, SAMRegressor
from sksam._core._iterative import sam_loop, stochastic_sam_loop
from sksam._core._operators import ScaledDesign, ScaledKernel

BATCH_SIZES = (1, 32, 256)
RHO = 0.05
ETA = 1e-3  # stable for single samples too (||x_i||^2 ~ d)


def seconds(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def make_linear(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) + 3.0
    return X, y


def numpy_loop(Xc, yc, batch_size, rho, eta, seed):
    """One epoch of stochastic SAM as a user would write it (1-D targets)."""
    n, d = Xc.shape
    w = np.zeros(d)
    perm = np.random.RandomState(seed).permutation(n)
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        Xb, yb = Xc[idx], yc[idx]
        g = Xb.T @ (Xb @ w - yb) / len(idx)
        g_sam = Xb.T @ (Xb @ (w + rho * g) - yb) / len(idx)
        w -= eta * g_sam
    return w


def kernel_numpy_loop(Kc, yc, batch_size, rho, eta, seed):
    """One epoch of function-space stochastic SAM on dual coefficients."""
    n = Kc.shape[0]
    alpha = np.zeros(n)
    perm = np.random.RandomState(seed).permutation(n)
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        rows = Kc[idx]
        resid = rows @ alpha - yc[idx]
        gamma = resid / len(idx)
        perturbed = resid + rho * rows[:, idx] @ gamma
        alpha[idx] -= eta * perturbed / len(idx)
    return alpha


def median_row(samples):
    return {key: statistics.median(values) for key, values in samples.items()}


def median_ratio(samples, numerator, denominator):
    """Median over repeats of the per-repeat time ratio."""
    pairs = zip(samples[numerator], samples[denominator], strict=True)
    return statistics.median(a / b for a, b in pairs)


def bench_linear(n, d, repeat):
    X, y = make_linear(n, d)
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    op = ScaledDesign(X, None, x_mean, float(n))
    y_scaled = yc[:, None]
    sgd = SGDRegressor(
        max_iter=1,
        tol=None,
        penalty=None,
        learning_rate="constant",
        eta0=ETA,
        shuffle=True,
        random_state=0,
    )
    rows = []
    for batch in BATCH_SIZES:
        steps = -(-n // batch)
        est = SAMRegressor(
            rho=RHO, n_iter=steps, learning_rate=ETA, batch_size=batch, random_state=0
        )

        def ours(rho, batch=batch, steps=steps):
            return stochastic_sam_loop(
                op,
                y_scaled,
                ETA,
                rho,
                steps,
                "unnormalized",
                batch,
                np.random.RandomState(0),
                None,
            )

        w_ours = ours(RHO)[:, 0]
        w_user = numpy_loop(Xc, yc, batch, RHO, ETA, 0)
        assert np.allclose(w_ours, w_user, rtol=1e-8, atol=1e-10 * np.abs(w_user).max())
        samples = {k: [] for k in ("loop", "gd", "fit", "numpy", "sgd")}
        for _ in range(repeat):
            samples["loop"].append(seconds(lambda: ours(RHO)))
            samples["gd"].append(seconds(lambda: ours(0.0)))
            samples["fit"].append(seconds(lambda est=est: est.fit(X, y)))
            samples["numpy"].append(
                seconds(lambda batch=batch: numpy_loop(Xc, yc, batch, RHO, ETA, 0))
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                samples["sgd"].append(seconds(lambda: sgd.fit(X, y)))
        row = median_row(samples)
        row.update(
            batch=batch,
            steps=steps,
            loop_vs_numpy=median_ratio(samples, "loop", "numpy"),
            loop_vs_sgd=median_ratio(samples, "loop", "sgd"),
            sam_vs_gd=median_ratio(samples, "loop", "gd"),
        )
        rows.append(row)
    return rows


def bench_sparse(n, d, density, repeat):
    rng = np.random.default_rng(1)
    X = sparse.random(n, d, density=density, format="csr", random_state=1)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    x_mean = np.asarray(X.mean(axis=0)).ravel()
    op = ScaledDesign(X, None, x_mean, float(n))
    y_scaled = (y - y.mean())[:, None]
    sgd = SGDRegressor(
        max_iter=1, tol=None, penalty=None, learning_rate="constant", eta0=ETA
    )
    rows = []
    for batch in BATCH_SIZES[1:]:
        steps = -(-n // batch)

        def ours(rho, batch=batch, steps=steps):
            return stochastic_sam_loop(
                op,
                y_scaled,
                ETA,
                rho,
                steps,
                "unnormalized",
                batch,
                np.random.RandomState(0),
                None,
            )

        samples = {"loop": [], "gd": [], "sgd": []}
        for _ in range(repeat):
            samples["loop"].append(seconds(lambda: ours(RHO)))
            samples["gd"].append(seconds(lambda: ours(0.0)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                samples["sgd"].append(seconds(lambda: sgd.fit(X, y)))
        row = median_row(samples)
        row.update(
            batch=batch,
            sam_vs_gd=median_ratio(samples, "loop", "gd"),
        )
        rows.append(row)
    return rows


def bench_kernel(n, repeat):
    X, y = make_linear(n, 10, seed=2)
    K = rbf_kernel(X, gamma=0.1)
    Kc = K - K.mean(axis=0) - K.mean(axis=1)[:, None] + K.mean()
    yc = y - y.mean()
    op = ScaledKernel(Kc, None, float(n))
    y_scaled = yc[:, None]
    eta = 0.5
    rows = []
    for batch in BATCH_SIZES[1:]:
        steps = -(-n // batch)

        def ours(rho, batch=batch, steps=steps):
            return stochastic_sam_loop(
                op,
                y_scaled,
                eta,
                rho,
                steps,
                "unnormalized",
                batch,
                np.random.RandomState(0),
                None,
            )

        a_ours = ours(RHO)[:, 0]
        a_user = kernel_numpy_loop(Kc, yc, batch, RHO, eta, 0)
        assert np.allclose(a_ours, a_user, rtol=1e-8, atol=1e-10 * np.abs(a_user).max())
        est = SAMKernelRidge(
            rho=RHO,
            n_iter=steps,
            kernel="precomputed",
            learning_rate=eta,
            batch_size=batch,
            random_state=0,
        )
        samples = {"loop": [], "gd": [], "numpy": [], "full_step": [], "fit": []}
        for _ in range(repeat):
            samples["loop"].append(seconds(lambda: ours(RHO)))
            samples["gd"].append(seconds(lambda: ours(0.0)))
            samples["numpy"].append(
                seconds(
                    lambda batch=batch: kernel_numpy_loop(Kc, yc, batch, RHO, eta, 0)
                )
            )
            samples["full_step"].append(
                seconds(lambda: sam_loop(op, y_scaled, eta, RHO, 1, "unnormalized"))
            )
            samples["fit"].append(seconds(lambda est=est: est.fit(K, y)))
        row = median_row(samples)
        row.update(
            batch=batch,
            loop_vs_numpy=median_ratio(samples, "loop", "numpy"),
            sam_vs_gd=median_ratio(samples, "loop", "gd"),
        )
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--kernel-n", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--blas-threads", type=int, default=None)
    args = parser.parse_args()
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        report(args)


def report(args):
    print(f"BLAS threads limit: {args.blas_threads}")

    print(f"## Linear, dense X {args.n} x {args.d}: seconds per epoch (median)")
    print(
        "| batch | steps | sksam loop | sksam fit (1 epoch) | numpy loop | "
        "SGDRegressor | loop / numpy | loop / SGDRegressor | SAM / GD step |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in bench_linear(args.n, args.d, args.repeat):
        print(
            f"| {r['batch']} | {r['steps']} | {r['loop']:.4f} | {r['fit']:.4f} | "
            f"{r['numpy']:.4f} | {r['sgd']:.4f} | {r['loop_vs_numpy']:.2f} | "
            f"{r['loop_vs_sgd']:.1f} | {r['sam_vs_gd']:.2f} |"
        )

    d_sparse = 10 * args.d
    print(f"\n## Linear, CSR X {args.n} x {d_sparse} (1% nonzero): seconds per epoch")
    print("| batch | sksam loop | stochastic GD | SGDRegressor | SAM / GD step |")
    print("|---:|---:|---:|---:|---:|")
    for r in bench_sparse(args.n, d_sparse, 0.01, args.repeat):
        print(
            f"| {r['batch']} | {r['loop']:.4f} | {r['gd']:.4f} | {r['sgd']:.4f} | "
            f"{r['sam_vs_gd']:.2f} |"
        )

    n = args.kernel_n
    print(f"\n## Kernel, {n} x {n} RBF (precomputed): seconds per epoch")
    print(
        "| batch | sksam loop | sksam fit (1 epoch) | numpy loop | "
        "one full-batch step | loop / numpy | SAM / GD step |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in bench_kernel(n, args.repeat):
        print(
            f"| {r['batch']} | {r['loop']:.4f} | {r['fit']:.4f} | {r['numpy']:.4f} | "
            f"{r['full_step']:.4f} | {r['loop_vs_numpy']:.2f} | "
            f"{r['sam_vs_gd']:.2f} |"
        )


if __name__ == "__main__":
    main()
