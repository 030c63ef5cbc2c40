"""one_hot: categorical columns turned into 0/1 indicator columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.brushes.errors import BrushInputError
from pipelines.brushes.params import columns_property, object_schema
from pipelines.brushes.registry import register
from pipelines.brushes.tabular.base import TabularBrush


@register
class OneHotBrush(TabularBrush):
    """Replaces each categorical column by one float 0/1 column per category seen in fit.

    Output columns are named ``<column>_<category>`` and appended after the untouched columns.
    Categories are compared by their text form (``str(value)``) because the learned categories are
    stored as JSON. A category not seen in fit, or one dropped by ``max_categories`` (which keeps
    the most frequent ones, ties broken alphabetically), gives a row of all zeros for that column:
    inference never fails on a new label. Missing values are refused: put an impute brush first.
    """

    name = "one_hot"
    description = (
        "Turns categorical columns into 0/1 indicator columns; unknown categories are all 0."
    )
    config_schema = object_schema(
        {
            "columns": columns_property("all non-numeric columns (text, category, boolean)"),
            "max_categories": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 10000,
                "default": None,
                "description": "Keep at most this many of the most frequent categories per column.",
            },
        }
    )
    fitted_attributes = ("columns_", "categories_", "feature_names_out_")

    max_categories: int | None

    def _fit(self, data: pd.DataFrame, y: Any) -> None:
        columns = self._select_columns(data, "categorical")
        self._require_complete(data, columns)
        categories = {column: self._frequent_categories(data[column]) for column in columns}
        names = [f"{column}_{category}" for column in columns for category in categories[column]]
        kept = [column for column in data.columns if column not in columns]
        clashes = sorted(set(names) & set(kept)) or sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise BrushInputError(f"{self.name}: output column {clashes[0]!r} would appear twice")
        self.columns_ = columns
        self.categories_ = categories
        self.feature_names_out_ = names

    def _frequent_categories(self, series: pd.Series) -> list[str]:
        counts = series.astype(str).value_counts()
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return sorted(category for category, _count in ranked[: self.max_categories])

    def _transform(self, data: pd.DataFrame) -> pd.DataFrame:
        self._require_columns(data, self.columns_)
        self._require_complete(data, self.columns_)
        if not self.columns_:
            return data  # a table of numbers: nothing to encode, and no copy to make
        blocks = [data.drop(columns=self.columns_)]
        for column in self.columns_:
            labels = data[column].astype(str).to_numpy(dtype=object)
            categories = np.array(self.categories_[column], dtype=object)
            indicators = (labels[:, None] == categories[None, :]).astype(np.float64)
            names = [f"{column}_{category}" for category in self.categories_[column]]
            blocks.append(pd.DataFrame(indicators, index=data.index, columns=names))
        return pd.concat(blocks, axis=1)
