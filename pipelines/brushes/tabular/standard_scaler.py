"""standard_scaler: numeric columns centred on 0 with unit variance (scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.brushes.params import columns_property, object_schema
from pipelines.brushes.registry import register
from pipelines.brushes.tabular.base import TabularBrush


@register
class StandardScalerBrush(TabularBrush):
    """Subtracts each column's training mean and divides by its training standard deviation.

    scikit-learn learns the statistics (it handles constant columns by keeping a scale of 1); the
    transform is done here on the stored arrays so that a loaded chain needs no pickled estimator.
    """

    name = "standard_scaler"
    description = (
        "Centres numeric columns on 0 and scales them to unit variance, as learned in fit."
    )
    config_schema = object_schema(
        {
            "columns": columns_property("all numeric columns"),
            "with_mean": {"type": "boolean", "default": True, "description": "Subtract the mean."},
            "with_std": {"type": "boolean", "default": True, "description": "Divide by the std."},
        }
    )
    fitted_attributes = ("columns_", "mean_", "scale_")

    with_mean: bool
    with_std: bool

    def _fit(self, data: pd.DataFrame, y: Any) -> None:
        # Imported here: scikit-learn costs ~0.7 s to import, which listing brushes never needs.
        from sklearn.preprocessing import StandardScaler

        columns = self._select_columns(data, "numeric")
        values = self._numeric_values(data, columns)
        self.columns_ = columns
        self.mean_ = np.zeros(len(columns))
        self.scale_ = np.ones(len(columns))
        if columns:  # scikit-learn refuses zero features; no columns means nothing to learn
            scaler = StandardScaler(with_mean=self.with_mean, with_std=self.with_std).fit(values)
            if self.with_mean:
                self.mean_ = scaler.mean_
            if self.with_std:
                self.scale_ = scaler.scale_

    def _transform(self, data: pd.DataFrame) -> pd.DataFrame:
        values = self._numeric_values(data, self.columns_)
        return self._replace_columns(data, self.columns_, (values - self.mean_) / self.scale_)
