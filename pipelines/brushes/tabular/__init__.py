"""Tabular brushes: pandas DataFrame in, pandas DataFrame out."""

from pipelines.brushes.tabular.impute import ImputeBrush
from pipelines.brushes.tabular.min_max_scaler import MinMaxScalerBrush
from pipelines.brushes.tabular.one_hot import OneHotBrush
from pipelines.brushes.tabular.standard_scaler import StandardScalerBrush

__all__ = ["ImputeBrush", "MinMaxScalerBrush", "OneHotBrush", "StandardScalerBrush"]
