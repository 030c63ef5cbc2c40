"""A served forest sums its trees without joblib, and answers with the forest's own numbers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from pipelines.training import forests

DIGITS = load_digits()
FEATURES = DIGITS.data.astype(np.float32)


@pytest.mark.parametrize("n_rows", [1, 7, 300])
def test_a_classifier_forest_gives_its_own_probabilities_and_classes(n_rows):
    # Trained on three of the ten digits' rows only: classes_ is a subset of the codes.
    seen = np.isin(DIGITS.target, [1, 4, 8])
    forest = RandomForestClassifier(n_estimators=25, random_state=3)
    forest.fit(FEATURES[seen], DIGITS.target[seen])
    rows = FEATURES[-n_rows:].astype(np.float64)  # converted as the forest converts it

    assert forests.is_plain_forest(forest)
    assert np.array_equal(forests.predict_proba(forest, rows), forest.predict_proba(rows))
    assert np.array_equal(forests.predict(forest, rows), forest.predict(rows))


def test_a_regressor_forest_gives_its_own_values():
    forest = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0)
    forest.fit(FEATURES[:1200], DIGITS.target[:1200] * 0.37)
    rows = FEATURES[1200:]

    predicted = forests.predict(forest, rows)

    assert predicted.dtype == np.float64
    assert np.array_equal(predicted, forest.predict(rows))


def test_other_estimators_are_called_as_they_are():
    model = LogisticRegression(max_iter=200).fit(FEATURES[:500], DIGITS.target[:500])
    rows = FEATURES[500:520]

    assert not forests.is_plain_forest(model)
    assert not forests.is_plain_forest(RandomForestClassifier())  # not fitted: its own error
    assert np.array_equal(forests.predict_proba(model, rows), model.predict_proba(rows))
    assert np.array_equal(forests.predict(model, rows), model.predict(rows))
