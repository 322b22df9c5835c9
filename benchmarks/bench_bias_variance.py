"""Exact bias-variance curve over 200 stopping times against fitting and Monte Carlo.

At (n, d) = (500, 100), X_test = 500 fresh points, ``SAMRegressor(rho=0.1)``:

- ``fit``: one ``SAMRegressor(n_iter=200).fit`` (the yardstick of issue 6's target:
  exact curve <= 2 x one fit), and one ``sklearn.linear_model.Ridge().fit`` for scale;
- ``exact``: ``bias_variance_decomposition(method="exact")`` over ``n_iter = 1..200``
  (one eigendecomposition for the whole curve), with ``coef_true`` (the
  parameter-space risk too) and, for the ratio only, without it;
- ``simulate``: the same curve by Monte Carlo, 200 noise redraws (each one fit plus
  ``staged_predict``), ``n_jobs=1``;
- ``ridge_exact``: the exact route of a non-SAM linear smoother (``Ridge`` fitted on the
  ``n + 1`` targets ``[0, I]``), 20 values of ``alpha``, for reference.

It also prints the largest absolute gap between the simulated and exact expected-loss
curves and the largest relative gap of the variance. Medians over ``--repeat`` runs
(simulate: ``--repeat-mc``); the exact / fit ratio is the median over interleaved
(exact, fit) pairs.

Run:  python benchmarks/bench_bias_variance.py [--repeat 20] [--repeat-mc 3]
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.linear_model import Ridge

from sksam import SAMRegressor, bias_variance_decomposition


def median_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_ratio(numerator, denominator, repeat):
    """Median over interleaved runs of time(numerator) / time(denominator).

    Interleaving makes both sides see the same machine load, so the ratio is far
    steadier than a ratio of separately measured medians on a busy machine.
    """
    ratios = []
    for _ in range(repeat):
        ratios.append(median_time(numerator, 1) / median_time(denominator, 1))
    return statistics.median(ratios)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--repeat-mc", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d)) * np.linspace(0.2, 2.0, args.d)
    X_test = rng.standard_normal((args.n, args.d)) * np.linspace(0.2, 2.0, args.d)
    w = rng.standard_normal(args.d) / np.sqrt(args.d)
    f, f_test = X @ w, X_test @ w
    y = f + rng.standard_normal(args.n)
    steps = np.arange(1, args.steps + 1)
    sam = SAMRegressor(rho=0.1, n_iter=args.steps)
    truth = dict(f_train=f, f_test=f_test, noise_std=1.0, coef_true=w)

    def fit_sam():
        return SAMRegressor(rho=0.1, n_iter=args.steps).fit(X, y)

    def exact():
        return bias_variance_decomposition(
            sam, X, None, X_test, param_name="n_iter", param_range=steps, **truth
        )

    def exact_without_coef():
        return bias_variance_decomposition(
            sam, X, None, X_test, param_name="n_iter", param_range=steps,
            f_train=f, f_test=f_test, noise_std=1.0,
        )  # fmt: skip

    def simulate():
        return bias_variance_decomposition(
            sam, X, None, X_test, method="simulate", n_rounds=args.rounds,
            random_state=0, param_name="n_iter", param_range=steps, **truth,
        )  # fmt: skip

    def ridge_exact():
        return bias_variance_decomposition(
            Ridge(), X, None, X_test, param_name="alpha",
            param_range=np.logspace(-2, 3, 20), **truth,
        )  # fmt: skip

    exact()  # warm-up of imports and BLAS
    t_fit = median_time(fit_sam, args.repeat)
    t_ridge = median_time(lambda: Ridge().fit(X, y), args.repeat)
    t_exact = median_time(exact, args.repeat)
    t_ridge_exact = median_time(ridge_exact, max(1, args.repeat // 4))
    t_sim = median_time(simulate, args.repeat_mc)

    res_exact, res_sim = exact(), simulate()
    gap = np.max(np.abs(res_sim.expected_loss - res_exact.expected_loss))
    gap_var = np.max(np.abs(res_sim.variance / res_exact.variance - 1))
    print(f"(n, d) = ({args.n}, {args.d}), {args.steps} stopping times, "
          f"{args.rounds} Monte Carlo rounds")  # fmt: skip
    rows = [
        ("SAMRegressor.fit (one fit)", t_fit),
        ("Ridge.fit (sklearn, one fit)", t_ridge),
        (f"exact curve ({args.steps} n_iter)", t_exact),
        (f"simulate curve ({args.rounds} rounds)", t_sim),
        ("exact Ridge curve (20 alphas)", t_ridge_exact),
    ]
    for name, seconds in rows:
        print(f"  {name:38s} {seconds * 1e3:10.2f} ms  {seconds / t_fit:8.2f} x fit")
    ratio = paired_ratio(exact, fit_sam, args.repeat)
    print(f"  exact / one SAM fit      = {ratio:.2f} (median of interleaved pairs; "
          "target <= 2)")  # fmt: skip
    ratio_plain = paired_ratio(exact_without_coef, fit_sam, args.repeat)
    print(f"  same without coef_true   = {ratio_plain:.2f}")
    print(f"  simulate / exact         = {t_sim / t_exact:.0f}")
    print(f"  max |simulate - exact| expected loss = {gap:.2e} "
          f"(exact expected loss at the oracle {res_exact.expected_loss.min():.3f}); "
          f"max relative variance gap = {gap_var:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
