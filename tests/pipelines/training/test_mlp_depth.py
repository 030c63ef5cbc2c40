"""The mlp's depth: one width and `hidden_layers` make a funnel, so a sweep can search width and
depth as two numbers; a list of widths still means exactly those layers."""

from __future__ import annotations

import pytest
from torch import nn

from pipelines.training.errors import TemplateConfigError
from pipelines.training.templates import check_params
from pipelines.training.templates.mlp import layer_widths
from pipelines.training.trainer import TrainedModel, train
from tests.pipelines.training.samples import Recorder, tiny_data


@pytest.mark.parametrize(
    ("hidden_units", "hidden_layers", "widths"),
    [
        ([256, 128], 0, [256, 128]),
        ([256], 0, [256]),
        ([256], 1, [256]),
        ([256], 2, [256, 128]),
        ([64], 4, [64, 32, 16, 8]),
        ([32], 5, [32, 16, 8, 8, 8]),
        ([4], 3, [4, 4, 4]),
        ([64, 16], 2, [64, 16]),
    ],
)
def test_layer_widths_taper_one_width_by_halves(hidden_units, hidden_layers, widths):
    assert layer_widths(hidden_units, hidden_layers) == widths


def test_a_depth_that_disagrees_with_a_list_of_widths_is_refused():
    with pytest.raises(TemplateConfigError, match="hidden_units lists 2 widths") as caught:
        check_params("mlp", {"hidden_units": [64, 32], "hidden_layers": 3})

    assert caught.value.param == "hidden_layers"
    assert check_params("mlp", {"hidden_units": [64, 32], "hidden_layers": 2})["hidden_layers"] == 2


def test_a_tapered_network_trains_and_loads_with_the_same_layers():
    data = tiny_data("tabular", "classification")
    params = check_params("mlp", {"hidden_units": 24, "hidden_layers": 3, "epochs": 2})

    model = train("mlp", params, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    loaded = TrainedModel.from_files(model.to_files())

    for network in (model.network, loaded.network):
        linear = [layer.out_features for layer in network.modules() if isinstance(layer, nn.Linear)]
        assert linear == [24, 12, 8, len(data.label_names)]
    assert (loaded.predict(data.x_test) == model.predict(data.x_test)).all()
