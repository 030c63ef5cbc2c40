"""Exact values of the tabular brushes on small known tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from pipelines.brushes import BrushConfigError, BrushInputError, get_brush_class

StandardScalerBrush = get_brush_class("standard_scaler")
MinMaxScalerBrush = get_brush_class("min_max_scaler")
OneHotBrush = get_brush_class("one_hot")
ImputeBrush = get_brush_class("impute")


@pytest.fixture
def pets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "weight_kg": [2.0, 4.0, 6.0, 8.0],
            "legs": [4, 4, 2, 4],
            "kind": ["cat", "dog", "bird", "cat"],
            "indoor": [True, False, True, True],
        },
        index=["a", "b", "c", "d"],
    )


def test_standard_scaler_gives_mean_zero_and_unit_std(pets):
    output = StandardScalerBrush().fit_transform(pets)

    assert list(output.columns) == list(pets.columns)
    np.testing.assert_allclose(
        output["weight_kg"], [-1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865]
    )
    np.testing.assert_allclose(output[["weight_kg", "legs"]].mean(), [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(output[["weight_kg", "legs"]].std(ddof=0), [1.0, 1.0])
    expected = StandardScaler().fit_transform(pets[["weight_kg", "legs"]])
    np.testing.assert_array_equal(output[["weight_kg", "legs"]].to_numpy(), expected)
    pd.testing.assert_frame_equal(output[["kind", "indoor"]], pets[["kind", "indoor"]])


def test_standard_scaler_keeps_a_constant_column_at_zero_and_honours_its_switches():
    frame = pd.DataFrame({"constant": [3.0, 3.0, 3.0], "value": [1.0, 2.0, 3.0]})

    scaled = StandardScalerBrush().fit_transform(frame)
    only_divided = StandardScalerBrush(with_mean=False, columns=["value"]).fit_transform(frame)

    assert scaled["constant"].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(only_divided["value"], np.array([1.0, 2.0, 3.0]) / np.std([1, 2, 3]))
    assert only_divided["constant"].tolist() == [3.0, 3.0, 3.0]


def test_scalers_refuse_missing_values_and_text_columns(pets):
    with_gap = pets.assign(weight_kg=[2.0, np.nan, 6.0, 8.0])

    for brush_class in (StandardScalerBrush, MinMaxScalerBrush):
        with pytest.raises(BrushInputError, match="'weight_kg' has missing values; put an impute"):
            brush_class().fit(with_gap)
        with pytest.raises(BrushInputError, match="needs numeric columns, but column 'kind'"):
            brush_class(columns=["kind"]).fit(pets)


def test_min_max_scaler_maps_the_training_range_and_clips_when_asked():
    train = pd.DataFrame({"size": [2.0, 4.0, 6.0]})
    later = pd.DataFrame({"size": [8.0, 0.0]})

    brush = MinMaxScalerBrush(feature_range=[-1, 1]).fit(train)
    clipping = MinMaxScalerBrush(clip=True).fit(train)

    assert brush.transform(train)["size"].tolist() == [-1.0, 0.0, 1.0]
    assert brush.transform(later)["size"].tolist() == [2.0, -2.0]
    assert clipping.transform(later)["size"].tolist() == [1.0, 0.0]
    assert brush.config()["feature_range"] == [-1.0, 1.0]


def test_min_max_scaler_refuses_an_empty_range():
    with pytest.raises(BrushConfigError, match=r"low 1.0 must be below high 1.0") as caught:
        MinMaxScalerBrush(feature_range=[1, 1])

    assert caught.value.param == "feature_range"


def test_one_hot_encodes_text_and_boolean_columns_after_the_others(pets):
    output = OneHotBrush().fit_transform(pets)

    assert list(output.columns) == [
        "weight_kg", "legs", "kind_bird", "kind_cat", "kind_dog", "indoor_False", "indoor_True",
    ]  # fmt: skip
    assert output.loc["b", ["kind_bird", "kind_cat", "kind_dog"]].tolist() == [0.0, 0.0, 1.0]
    assert output["indoor_True"].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert all(pd.api.types.is_float_dtype(dtype) for dtype in output.dtypes.iloc[2:])
    assert output.index.tolist() == ["a", "b", "c", "d"]


def test_one_hot_gives_all_zeros_for_an_unknown_category(pets):
    brush = OneHotBrush(columns=["kind"]).fit(pets)
    later = pets.iloc[:2].assign(kind=["fish", "dog"])

    output = brush.transform(later)

    assert output[["kind_bird", "kind_cat", "kind_dog"]].to_numpy().tolist() == [
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
    ]


def test_one_hot_keeps_the_most_frequent_categories(pets):
    brush = OneHotBrush(columns=["kind"], max_categories=2).fit(pets)

    assert brush.categories_ == {"kind": ["bird", "cat"]}  # cat twice; bird beats dog by name
    assert brush.transform(pets)[["kind_bird", "kind_cat"]].sum(axis=1).tolist() == [1, 0, 1, 1]


def test_one_hot_refuses_missing_values(pets):
    with pytest.raises(BrushInputError, match="'kind' has missing values"):
        OneHotBrush().fit(pets.assign(kind=["cat", None, "dog", "cat"]))


def test_impute_fills_the_learned_mean_median_and_most_frequent_value():
    frame = pd.DataFrame(
        {"weight_kg": [1.0, np.nan, 3.0, 8.0], "kind": ["cat", "dog", None, "dog"]}
    )

    mean = ImputeBrush().fit_transform(frame)
    median = ImputeBrush(strategy="median").fit_transform(frame)
    frequent = ImputeBrush(strategy="most_frequent").fit_transform(frame)

    assert mean["weight_kg"].tolist() == [1.0, 4.0, 3.0, 8.0]
    assert mean["kind"].isna().tolist() == [False, False, True, False]  # mean touches numbers only
    assert median["weight_kg"].tolist() == [1.0, 3.0, 3.0, 8.0]
    assert frequent["weight_kg"].tolist() == [1.0, 1.0, 3.0, 8.0]  # a three-way tie: the smallest
    assert frequent["kind"].tolist() == ["cat", "dog", "dog", "dog"]


def test_impute_fills_a_constant_and_checks_it_fits_the_column():
    frame = pd.DataFrame({"weight_kg": [1.0, np.nan], "kind": [None, "dog"]})

    filled = ImputeBrush(strategy="constant", fill_value=0, columns=["weight_kg"]).fit_transform(
        frame
    )

    assert filled["weight_kg"].tolist() == [1.0, 0.0]
    with pytest.raises(
        BrushInputError, match="fill_value 'unknown' is text but column 'weight_kg'"
    ):
        ImputeBrush(strategy="constant", fill_value="unknown").fit(frame)
    with pytest.raises(BrushConfigError, match="strategy 'constant' needs a fill_value"):
        ImputeBrush(strategy="constant")


def test_impute_refuses_what_it_cannot_learn_from():
    frame = pd.DataFrame({"weight_kg": [np.nan, np.nan], "kind": ["cat", "dog"]})

    with pytest.raises(BrushInputError, match="'weight_kg' has no values to learn a mean from"):
        ImputeBrush().fit(frame)
    with pytest.raises(BrushInputError, match="needs numeric columns, but column 'kind'"):
        ImputeBrush(strategy="median", columns=["kind"]).fit(frame)
