"""Rank comparisons that allow for ties to rounding."""

import numpy as np
from numpy.testing import assert_array_equal

__all__ = ["assert_same_ranks", "untied"]


def untied(means, rtol=1e-9):
    """The candidates (and targets: a trailing axis) whose mean score no other
    candidate's ties to ``rtol``."""
    means = np.asarray(means, dtype=float)
    gaps = np.abs(means[:, None] - means[None, :])
    tied = gaps <= rtol * np.abs(means)[:, None]
    return tied.sum(axis=1) == 1


def assert_same_ranks(got, expected, means, rtol=1e-9):
    """``got`` ranks equal ``expected`` wherever the ``means`` (of ``expected``)
    are not tied to rounding: candidates that tie (e.g. the converged end of the
    path) may rank either way between two computations of the same scores."""
    keep = untied(means, rtol)
    assert_array_equal(np.asarray(got)[keep], np.asarray(expected)[keep])
