"""A trained model's core as ONNX: torch networks through torch's exporter, scikit-learn
estimators through skl2onnx. Input `features` (the chain's output, float32, any batch size),
output `raw`: logits or standardised values for networks, probabilities over the classes the
estimator saw or standardised values for estimators (`onnx_graphs` adds the head). Forests and
histogram boosting compare their float32 features with float64 thresholds, as scikit-learn
does (`onnx_trees`).
"""

from __future__ import annotations

import copy
import functools
import io
import warnings
from typing import Any

import numpy as np
import onnx

from pipelines.serving import onnx_trees
from pipelines.serving.onnx_graphs import FEATURES, ML_OPSET, OPSET, RAW, rename_value


class NotExportable(Exception):
    """The model cannot be expressed as an ONNX graph that keeps the serving contract."""


class ConversionFailed(Exception):
    """A converter failed on a model it claims to handle."""


def torch_core(network: Any, input_shape: tuple[int, ...]) -> onnx.ModelProto:
    """The network, in eval mode, exported with a variable batch axis.

    The legacy TorchScript exporter is used on purpose: it needs only `onnx` and takes ~0.1 s
    for the studio's networks, where the dynamo exporter needs onnxscript and takes seconds.
    Its deprecation warning is silenced here and nowhere else.
    """
    import torch

    network = _with_exportable_pooling(copy.deepcopy(network).cpu().eval(), input_shape)
    example = torch.zeros((2, *input_shape), dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            (example,),
            buffer,
            input_names=[FEATURES],
            output_names=[RAW],
            opset_version=OPSET,
            dynamic_axes={FEATURES: {0: "N"}, RAW: {0: "N"}},
            do_constant_folding=True,
            dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def _with_exportable_pooling(network: Any, input_shape: tuple[int, ...]) -> Any:
    """The network with each adaptive average pooling whose output size does not divide its
    input size replaced by two matrix products that compute the same means.

    ONNX has no adaptive pooling; torch's exporter turns it into a fixed AveragePool only when
    the sizes divide (32 -> 8 -> 4 does, a 28-pixel image's 7 -> 4 does not). The matrices hold
    each output bin's window weights, bins chosen exactly as torch chooses them."""
    import torch
    from torch import nn

    pools = [m for m in network.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        return network
    sizes: dict[int, tuple[int, int]] = {}
    hooks = [
        pool.register_forward_hook(
            lambda module, inputs, _output: sizes.__setitem__(id(module), inputs[0].shape[-2:])
        )
        for pool in pools
    ]
    with torch.inference_mode():
        network(torch.zeros((1, *input_shape), dtype=torch.float32))
    for hook in hooks:
        hook.remove()
    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.AdaptiveAvgPool2d):
                in_size = tuple(int(size) for size in sizes[id(child)])
                out_size = _pair(child.output_size, in_size)
                if any(i % o for i, o in zip(in_size, out_size, strict=True)):
                    setattr(parent, name, matrix_average_pool(in_size, out_size))
    return network


def _pair(output_size: Any, in_size: tuple[int, int]) -> tuple[int, int]:
    sizes = output_size if isinstance(output_size, tuple | list) else (output_size, output_size)
    return tuple(in_size[axis] if size is None else int(size) for axis, size in enumerate(sizes))


def _bin_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): row i averages torch's bin i, [floor(i*in/out), ceil((i+1)*in/out))."""
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    for index in range(n_out):
        start, end = (index * n_in) // n_out, -(-((index + 1) * n_in) // n_out)
        weights[index, start:end] = 1.0 / (end - start)
    return weights


@functools.cache
def _matrix_pool_class() -> type:
    from torch import nn

    class _MatrixAveragePool(nn.Module):
        """Adaptive average pooling of a fixed input size as `rows @ x @ columns`."""

        def __init__(self, in_size: tuple[int, int], out_size: tuple[int, int]) -> None:
            import torch

            super().__init__()
            self.register_buffer("rows", torch.from_numpy(_bin_weights(in_size[0], out_size[0])))
            self.register_buffer(
                "columns", torch.from_numpy(_bin_weights(in_size[1], out_size[1]).T.copy())
            )

        def forward(self, batch: Any) -> Any:
            return self.rows @ batch @ self.columns

    return _MatrixAveragePool


def matrix_average_pool(in_size: tuple[int, int], out_size: tuple[int, int]) -> Any:
    """Builds the module (defined lazily: importing this file must not import torch)."""
    return _matrix_pool_class()(in_size, out_size)


def sklearn_core(estimator: Any, n_features: int, task: str) -> tuple[onnx.ModelProto, list[int]]:
    """(the estimator as ONNX with `features` [N, n_features] in and `raw` out, the class codes
    of `raw`'s columns for classifiers). NotExportable for classifiers without probabilities
    (the contract's output is probabilities) and for estimators skl2onnx cannot convert."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.common.exceptions import MissingShapeCalculator

    from pipelines.serving import skl2onnx_fixes

    skl2onnx_fixes.apply()
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if task == "classification" and not hasattr(estimator, "predict_proba"):
        raise NotExportable(
            f"{type(final).__name__} gives no probabilities, and the ONNX output holds them"
        )
    # Keyed by class, not by id(final): skl2onnx then skips walking every tree of a forest
    # to find the object (a third of a 100-tree forest's export time).
    options = {type(final): {"zipmap": False}} if task == "classification" else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = to_onnx(
                estimator,
                initial_types=[(FEATURES, FloatTensorType([None, n_features]))],
                target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
                options=options,
            )
    except MissingShapeCalculator as error:
        raise NotExportable(f"skl2onnx has no converter for {type(final).__name__}") from error
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as error:
        # A converter that breaks on this estimator (skl2onnx 1.20 did on scikit-learn 1.9's
        # histogram gradient boosting, see skl2onnx_fixes): a failure, not a limit of ONNX; its
        # message can run to megabytes of attributes, so only the first line of its root cause
        # is kept.
        root: BaseException = error
        while root.__cause__ is not None or root.__context__ is not None:
            root = root.__cause__ or root.__context__
        head = (str(root).splitlines() or [type(root).__name__])[0][:200]
        raise ConversionFailed(f"skl2onnx failed on {type(final).__name__}: {head}") from error
    wanted = "probabilities" if task == "classification" else "variable"
    names = [output.name for output in model.graph.output]
    if wanted not in names:
        raise NotExportable(f"skl2onnx gave outputs {names}, without {wanted!r}")
    rename_value(model.graph, wanted, RAW)
    if onnx_trees.is_tree_ensemble(final):
        try:
            model = onnx_trees.compare_in_float64(model, final)
        except onnx_trees.TreesNotRewritten as error:
            raise ConversionFailed(f"{type(final).__name__}'s trees: {error}") from error
    codes = [int(code) for code in getattr(final, "classes_", [])]
    return model, codes
