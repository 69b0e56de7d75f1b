"""scikit-learn's estimator rules for the package's estimators (no fitted state in __init__)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import check_no_attributes_set_in_init
from sklearn.utils.validation import check_is_fitted

from latam_airlines.features.transformers import FlightFeatures, ReferenceFeatures
from latam_airlines.models.catboost_adapter import CatBoostOnCodes
from latam_airlines.models.feed_tiers import TieredClassifier


@pytest.mark.parametrize(
    "estimator",
    [TieredClassifier(), FlightFeatures(), ReferenceFeatures(), CatBoostOnCodes()],
    ids=lambda estimator: type(estimator).__name__,
)
def test_init_sets_only_its_parameters(estimator) -> None:
    check_no_attributes_set_in_init(type(estimator).__name__, estimator)
    assert type(clone(estimator)) is type(estimator)


def test_tiered_classifier_is_fitted_when_its_tiers_are() -> None:
    unfitted = TieredClassifier(minimal=LogisticRegression())
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    with pytest.raises(NotFittedError):
        unfitted.classes_  # noqa: B018 (the property is what is tested)
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    prefit = TieredClassifier(minimal=LogisticRegression().fit(X, [0, 0, 1, 1]))  # as training assembles it
    check_is_fitted(prefit)
    np.testing.assert_array_equal(prefit.classes_, [0, 1])
    assert "classes_" not in vars(prefit)
    fitted = clone(unfitted).fit(X, [1, 1, 0, 0])
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert fitted.predict(X).tolist() == [1, 1, 0, 0]  # no thresholds given: 0.5, uncalibrated
