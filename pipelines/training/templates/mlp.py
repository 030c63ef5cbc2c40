"""mlp: a multilayer perceptron for tables, and for images or spectrograms flattened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.training.errors import TemplateConfigError
from pipelines.training.params import integer_property, object_schema, widths_property
from pipelines.training.templates.base import TorchTemplate
from pipelines.training.templates.registry import register
from pipelines.training.templates.torch_params import training_properties

if TYPE_CHECKING:
    from torch import nn


@register
class MlpTemplate(TorchTemplate):
    """Fully connected layers with ReLU and dropout.

    Defaults reach about 0.97 test accuracy on the demo digits (32 x 32, 1 or 3 channels) in a
    few seconds on two CPU cores: two hidden layers are plenty for inputs this small, and cosine
    decay lets Adam settle without tuning.
    """

    name = "mlp"
    modalities = frozenset({"tabular", "image", "audio"})
    tasks = frozenset({"classification", "regression"})
    description = "A multilayer perceptron: fast, for tables and small flattened images."
    default_timeout_s = 600
    param_schema = object_schema(
        {
            "hidden_units": widths_property(
                [256, 128], "Units per hidden layer; one number means a single hidden layer."
            ),
            "hidden_layers": integer_property(
                0,
                0,
                8,
                "Hidden layers when hidden_units is one number: the first that wide, each next "
                "half as wide (at least 8). 0: one layer per number in hidden_units.",
            ),
            **training_properties(
                epochs=40,
                batch_size=64,
                learning_rate=0.001,
                dropout=0.3,
                optimizer="adamw",
                weight_decay=0.01,
                patience=10,
            ),
        }
    )

    @classmethod
    def check_param_combination(cls, params: dict[str, Any], task: str | None) -> None:
        """A list of widths already says how deep the network is; a depth that disagrees with
        it is refused rather than one of them silently winning."""
        super().check_param_combination(params, task)
        depth, widths = params.get("hidden_layers", 0), params.get("hidden_units", [])
        if depth and len(widths) > 1 and len(widths) != depth:
            raise TemplateConfigError(
                f"mlp: invalid param 'hidden_layers': {depth} layers, but hidden_units lists "
                f"{len(widths)} widths; give one width to taper, or hidden_layers 0",
                param="hidden_layers",
            )

    @classmethod
    def build_network(
        cls, params: dict[str, Any], input_shape: tuple[int, ...], n_outputs: int
    ) -> nn.Module:
        from pipelines.training.networks import multilayer_perceptron

        widths = layer_widths(params["hidden_units"], params.get("hidden_layers", 0))
        return multilayer_perceptron(input_shape, widths, params["dropout"], n_outputs)


def layer_widths(hidden_units: list[int], hidden_layers: int) -> list[int]:
    """The widths to build: `hidden_units` as given, or its one width tapered by halves over
    `hidden_layers` layers, so that one number and a depth describe a whole funnel
    ([256] and 2 -> [256, 128]); a sweep can then search width and depth as two numbers."""
    if not hidden_layers or len(hidden_units) > 1:
        return list(hidden_units)
    first = hidden_units[0]
    return [max(first >> index, min(first, 8)) for index in range(hidden_layers)]
