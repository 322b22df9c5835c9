"""Routes whose cost grows with n_iter warn before a run far beyond the spectral one."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import EfficiencyWarning

from sksam._problem import kernel_problem, linear_problem
from sksam._run import plan_run


@pytest.fixture
def problem(make_data):
    X, y, _, _ = make_data(200, 10)
    return linear_problem(X, y[:, None], None, True)


@pytest.mark.parametrize(
    "options, advice",
    [
        ({"solver": "iterative"}, "solver='spectral' gives the same iterate"),
        ({"solver": "auto", "batch_size": 10}, "mini-batch SAM has no closed form"),
        (
            {"solver": "spectral", "variant": "normalized"},
            "normalized SAM steps one by one",
        ),
    ],
)
def test_a_long_route_warns_with_its_estimate_and_the_alternative(
    problem, options, advice
):
    settings = {"rho": 0.1, "learning_rate": "auto", "variant": "unnormalized"}
    settings.update(options)
    with pytest.warns(EfficiencyWarning, match=f"about .* (hours|days).*{advice}"):
        plan_run(problem, n_iter=10**9, **settings)


def test_the_spectral_route_and_short_runs_do_not_warn(problem, make_data):
    settings = {"rho": 0.1, "learning_rate": "auto"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Unnormalized spectral: the cost does not depend on n_iter.
        plan_run(problem, n_iter=10**15, variant="unnormalized", **settings)
        plan_run(problem, n_iter=1000, solver="iterative", variant="normalized",
                 **settings)  # fmt: skip
        # solver="auto" takes the spectral route for a long run.
        run = plan_run(problem, solver="auto", n_iter=10**9, variant="unnormalized",
                       **settings)  # fmt: skip
        assert run.solver == "spectral"
        X, y, _, _ = make_data(50, 3)
        K = X @ X.T
        kernel = kernel_problem(K, y[:, None], None, True)
        plan_run(kernel, n_iter=10**12, variant="unnormalized", **settings)
    assert np.isfinite(run.learning_rate)
