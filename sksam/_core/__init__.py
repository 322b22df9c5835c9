"""The numerical core of sksam: pure numpy/scipy, no estimators, no scikit-learn.

- ``_spectral``: eigendecompositions, the exact filter and the normalized recursion;
- ``_iterative``: the explicit full-batch and mini-batch SAM loops;
- ``_operators``: the scaled least-squares problems as linear operators;
- ``_moments``: least squares known only through row moments (dask reductions);
- ``_smoother``: bias and variance sums of linear smoothers;
- ``_costs``: the cost model behind ``solver="auto"``.
"""
