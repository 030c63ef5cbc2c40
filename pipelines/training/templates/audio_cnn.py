"""audio_cnn: a small 2-D convolutional network over log-mel spectrograms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.training.params import integer_property, object_schema, widths_property
from pipelines.training.templates.base import TorchTemplate
from pipelines.training.templates.registry import register
from pipelines.training.templates.torch_params import training_properties

if TYPE_CHECKING:
    from torch import nn


@register
class AudioCnnTemplate(TorchTemplate):
    """Convolution blocks over (n_mels, n_frames) spectrograms, pooling, a linear head.

    Pooling is global over time, so the prediction does not depend on when a sound starts or on
    the clip's frame count, and keeps `frequency_bins` coarse bands: with global pooling over
    frequency too, sine, square and sawtooth tones (told apart by where their harmonics sit) were
    confused in about 7% of the demo clips; with 8 bands in about 3%, in less time.
    """

    name = "audio_cnn"
    modalities = frozenset({"audio"})
    tasks = frozenset({"classification", "regression"})
    description = "A small convolutional network for spectrograms of sounds."
    default_timeout_s = 1800
    param_schema = object_schema(
        {
            "channels": widths_property(
                [16, 32, 64], "Filters per convolution block, one block per number.", maximum=512
            ),
            "frequency_bins": integer_property(
                8, 1, 64, "Frequency bands kept after pooling over time (1 = global pooling)."
            ),
            **training_properties(
                epochs=20,
                batch_size=32,
                learning_rate=0.003,
                dropout=0.2,
                optimizer="adamw",
                weight_decay=0.0001,
                patience=6,
            ),
        }
    )

    @classmethod
    def build_network(
        cls, params: dict[str, Any], input_shape: tuple[int, ...], n_outputs: int
    ) -> nn.Module:
        from pipelines.training.networks import audio_cnn

        return audio_cnn(
            input_shape,
            params["channels"],
            params["frequency_bins"],
            params["dropout"],
            n_outputs,
        )
