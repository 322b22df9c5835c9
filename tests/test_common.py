"""scikit-learn's estimator checks over every public estimator, no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sksam import SAMKernelRidge, SAMKernelRidgeIC, SAMRegressor, SAMRegressorIC

ESTIMATORS = [
    SAMRegressor(),
    SAMRegressor(variant="normalized"),
    SAMRegressor(rho=0.0, solver="iterative"),
    SAMKernelRidge(),
    SAMKernelRidge(kernel="rbf", variant="normalized"),
    SAMKernelRidge(kernel="precomputed"),
    SAMRegressorIC(noise_variance=1.0),  # as sklearn tests LassoLarsIC
    SAMKernelRidgeIC(),
    SAMKernelRidgeIC(kernel="precomputed", criterion="discrepancy"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
