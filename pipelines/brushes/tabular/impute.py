"""impute: missing values filled with a statistic learned in fit, or a constant."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.brushes.errors import BrushConfigError, BrushInputError
from pipelines.brushes.params import columns_property, object_schema
from pipelines.brushes.registry import register
from pipelines.brushes.tabular.base import TabularBrush, columns_of, is_numeric_column

NUMERIC_STRATEGIES = ("mean", "median")


@register
class ImputeBrush(TabularBrush):
    """Fills missing values per column: mean or median (numeric), most frequent or a constant (any).

    The fill values are learned from the training rows and stored as JSON, so they apply unchanged
    at inference. Ties for the most frequent value go to the smallest one, as in scikit-learn.
    """

    name = "impute"
    description = (
        "Fills missing values with the column's mean, median, most frequent value or a constant."
    )
    config_schema = object_schema(
        {
            "columns": columns_property(
                "all numeric columns for mean/median, all columns otherwise"
            ),
            "strategy": {
                "enum": ["mean", "median", "most_frequent", "constant"],
                "default": "mean",
                "description": "How the fill value of each column is chosen.",
            },
            "fill_value": {
                "type": ["number", "string", "null"],
                "default": None,
                "description": "The value used by strategy 'constant'.",
            },
        }
    )
    fitted_attributes = ("columns_", "fill_values_")

    strategy: str
    fill_value: float | str | None

    def _check_params(self) -> None:
        if self.strategy == "constant" and self.fill_value is None:
            raise BrushConfigError(
                f"{self.name}: invalid param 'fill_value': strategy 'constant' needs a fill_value",
                brush_name=self.name,
                param="fill_value",
            )

    def _fit(self, data: pd.DataFrame, y: Any) -> None:
        kind = "numeric" if self.strategy in NUMERIC_STRATEGIES else "any"
        columns = self._select_columns(data, kind)
        self.columns_ = columns
        self.fill_values_ = {column: self._fill_value_for(data[column]) for column in columns}

    def _fill_value_for(self, series: pd.Series) -> Any:
        if self.strategy == "constant":
            if is_numeric_column(series) and isinstance(self.fill_value, str):
                raise BrushInputError(
                    f"{self.name}: fill_value {self.fill_value!r} is text but column "
                    f"{series.name!r} is numeric"
                )
            return self.fill_value
        present = series.dropna()
        if present.empty:
            raise BrushInputError(
                f"{self.name}: column {series.name!r} has no values to learn a {self.strategy} from"
            )
        if self.strategy == "mean":
            value = present.astype(np.float64).mean()
        elif self.strategy == "median":
            value = present.astype(np.float64).median()
        else:
            value = present.mode().iloc[0]
        # NumPy scalars are not JSON; .item() gives the equal Python value.
        return value.item() if isinstance(value, np.generic) else value

    def _transform(self, data: pd.DataFrame) -> pd.DataFrame:
        self._require_columns(data, self.columns_)
        if not self.columns_ or not columns_of(data, self.columns_).isna().to_numpy().any():
            return data  # nothing to fill (most prediction requests): skip pandas' per-column work
        return data.fillna(value=self.fill_values_)
