"""min_max_scaler: numeric columns mapped linearly onto a range (scikit-learn's MinMaxScaler)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.brushes.errors import BrushConfigError
from pipelines.brushes.params import columns_property, object_schema
from pipelines.brushes.registry import register
from pipelines.brushes.tabular.base import TabularBrush


@register
class MinMaxScalerBrush(TabularBrush):
    """Maps each column's training [min, max] onto `feature_range`.

    Values outside the training range land outside `feature_range` unless `clip` is set.
    scikit-learn learns `scale_` and `min_`; the transform `X * scale_ + min_` runs on the stored
    arrays, so a loaded chain needs no pickled estimator.
    """

    name = "min_max_scaler"
    description = (
        "Scales numeric columns so that their training minimum and maximum map to a range."
    )
    config_schema = object_schema(
        {
            "columns": columns_property("all numeric columns"),
            "feature_range": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "default": [0.0, 1.0],
                "description": "The [low, high] range that the training [min, max] maps to.",
            },
            "clip": {
                "type": "boolean",
                "default": False,
                "description": "Clip transformed values into feature_range.",
            },
        }
    )
    fitted_attributes = ("columns_", "data_min_", "data_max_", "scale_", "min_")

    feature_range: list[float]
    clip: bool

    def _check_params(self) -> None:
        low, high = self.feature_range
        if not low < high:
            raise BrushConfigError(
                f"{self.name}: invalid param 'feature_range': low {low} must be below high {high}",
                brush_name=self.name,
                param="feature_range",
            )

    def _fit(self, data: pd.DataFrame, y: Any) -> None:
        # Imported here: scikit-learn costs ~0.7 s to import, which listing brushes never needs.
        from sklearn.preprocessing import MinMaxScaler

        columns = self._select_columns(data, "numeric")
        values = self._numeric_values(data, columns)
        self.columns_ = columns
        if not columns:  # scikit-learn refuses zero features; no columns means nothing to learn
            self.data_min_ = self.data_max_ = self.scale_ = self.min_ = np.zeros(0)
            return
        scaler = MinMaxScaler(feature_range=tuple(self.feature_range)).fit(values)
        self.data_min_ = scaler.data_min_
        self.data_max_ = scaler.data_max_
        self.scale_ = scaler.scale_
        self.min_ = scaler.min_

    def _transform(self, data: pd.DataFrame) -> pd.DataFrame:
        values = self._numeric_values(data, self.columns_) * self.scale_ + self.min_
        if self.clip:
            values = np.clip(values, *self.feature_range)
        return self._replace_columns(data, self.columns_, values)
