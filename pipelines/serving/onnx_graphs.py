"""Small ONNX graphs around a model's core, and the plumbing that joins them into one.

An exported model is three graphs chained: preprocessing (the brushes that ONNX can express:
scalers, imputation, one_hot over category positions, pixel scaling and per-channel
normalisation), the core (the torch
network or scikit-learn estimator) and a head that turns the core's raw output into what the
contract promises (probabilities in `label_names` order, or values in the target's units). The
joints are named values (`features`, `raw`); `chain` merges the three and renames the ends to
`input` and `output`, the two names a browser or ONNX Runtime addresses.

Every graph here is opset 17 and IR version 8: what onnxruntime-web 1.30 runs, and what
`onnx.compose` needs to be equal on both sides of a merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
ML_OPSET = 3
IR_VERSION = 8
INPUT = "input"
OUTPUT = "output"
FEATURES = "features"
RAW = "raw"


@dataclass
class GraphBuilder:
    """Collects nodes and constants of one graph; each `add` returns its output's name, so a
    graph reads as the sequence of operations it performs."""

    prefix: str
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    constants: list[onnx.TensorProto] = field(default_factory=list)

    def constant(self, value: np.ndarray) -> str:
        name = f"{self.prefix}_constant_{len(self.constants)}"
        self.constants.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def add(self, op_type: str, *inputs: str, output: str | None = None, **attributes) -> str:
        name = output or f"{self.prefix}_{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], name=name, **attributes))
        return name

    def model(
        self,
        *,
        input_name: str,
        input_shape: Sequence[int | None],
        output_name: str,
        output_shape: Sequence[int | None],
        input_type: int = TensorProto.FLOAT,
    ) -> onnx.ModelProto:
        if not self.nodes or self.nodes[-1].output[0] != output_name:
            self.add(
                "Identity",
                self.nodes[-1].output[0] if self.nodes else input_name,
                output=output_name,
            )
        graph = helper.make_graph(
            self.nodes,
            self.prefix,
            [_value_info(input_name, input_shape, input_type)],
            [_value_info(output_name, output_shape)],
            initializer=self.constants,
        )
        return with_standard_versions(helper.make_model(graph))


def _value_info(
    name: str, shape: Sequence[int | None], elem_type: int = TensorProto.FLOAT
) -> onnx.ValueInfoProto:
    dimensions = ["N" if size is None else size for size in shape]
    return helper.make_tensor_value_info(name, elem_type, dimensions)


def with_standard_versions(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with this module's IR version and opsets (ai.onnx.ml only where used)."""
    domains = {node.domain for node in model.graph.node}
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", OPSET))
    if "ai.onnx.ml" in domains:
        model.opset_import.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    model.ir_version = IR_VERSION
    return model


@dataclass(frozen=True)
class ColumnSteps:
    """Per-column arithmetic of a table's expressible brushes, in order, as float64 vectors over
    all columns (identity values for untouched ones: fill NaN only where `fill_mask`, subtract 0,
    divide by 1...). Brushes compute in float64 on the request's float64 numbers; so does the
    graph, with the same operations in the same order, so that every feature is the float32 the
    Python chain gives it, bit for bit (a tree's split sees what scikit-learn sees)."""

    kind: str  # "impute", "standardise" (x - a) / b, "affine" x * a + b, "clip" into [a, b]
    first: np.ndarray
    second: np.ndarray | None = None
    fill_mask: np.ndarray | None = None


@dataclass(frozen=True)
class OneHotLayout:
    """one_hot as a change of the table's layout, in `OneHotBrush._transform`'s output order:
    the columns it keeps (`kept`, positions in the current layout), then for each encoded
    column (`encoded`: its position and its number of categories k) k indicators. An encoded
    column carries the position of its value in the brush's category list (-1 for a value the
    brush never kept, NaN for a missing one), so indicator j is `position == j`: 0 everywhere
    for -1 or NaN, as the brush gives an unknown category."""

    kept: tuple[int, ...]
    encoded: tuple[tuple[int, int], ...]

    @property
    def width(self) -> int:
        return len(self.kept) + sum(size for _position, size in self.encoded)


def table_preprocessing(
    steps: Sequence[ColumnSteps | OneHotLayout], n_columns: int
) -> onnx.ModelProto:
    """[N, n_columns] float64 -> `features` float32 through `steps` (as wide as the last
    layout leaves the table), cast to float32 only at the end, as `Predictor.features` casts.

    The input is float64 because a request's JSON numbers are: rounding them to float32 first
    moved a standardised training value of 3.4e-16 to exactly 0, the other side of a forest's
    split (the float32 input of format-1 exports before `input_dtype`)."""
    graph = GraphBuilder("table")
    value = INPUT
    width = n_columns
    for step in steps:
        if isinstance(step, OneHotLayout):
            value, width = _one_hot(graph, value, step), step.width
            continue
        first = graph.constant(step.first.astype(np.float64))
        if step.kind == "impute":
            mask = graph.constant(step.fill_mask.astype(np.bool_))
            missing = graph.add("And", graph.add("IsNaN", value), mask)
            value = graph.add("Where", missing, first, value)
            continue
        second = graph.constant(step.second.astype(np.float64))
        if step.kind == "standardise":
            value = graph.add("Div", graph.add("Sub", value, first), second)
        elif step.kind == "affine":
            value = graph.add("Add", graph.add("Mul", value, first), second)
        elif step.kind == "clip":
            value = graph.add("Min", graph.add("Max", value, first), second)
        else:
            raise ValueError(f"unknown column step {step.kind!r}")
    graph.add("Cast", value, to=TensorProto.FLOAT, output=FEATURES)
    return graph.model(
        input_name=INPUT,
        input_shape=[None, n_columns],
        output_name=FEATURES,
        output_shape=[None, width],
        input_type=TensorProto.DOUBLE,
    )


def _one_hot(graph: GraphBuilder, value: str, layout: OneHotLayout) -> str:
    """The kept columns, then each encoded column's indicators, side by side (float64)."""
    blocks = []
    if layout.kept:
        kept = graph.constant(np.array(layout.kept, dtype=np.int64))
        blocks.append(graph.add("Gather", value, kept, axis=1))
    for position, size in layout.encoded:
        column = graph.add("Gather", value, graph.constant(np.array([position])), axis=1)
        # [N, 1] against [k]: broadcast to [N, k]; NaN and -1 equal no category.
        equal = graph.add("Equal", column, graph.constant(np.arange(size, dtype=np.float64)))
        blocks.append(graph.add("Cast", equal, to=TensorProto.DOUBLE))
    if len(blocks) == 1:
        return blocks[0]
    return graph.add("Concat", *blocks, axis=1)


def image_preprocessing(
    shape: tuple[int, int, int],
    *,
    to_unit_range: bool,
    normalise: tuple[np.ndarray, np.ndarray] | None,
) -> onnx.ModelProto:
    """[N, H, W, C] pixel values 0..255 -> `features`: divided by 255 as image_resize divides
    uint8 images (when the chain resizes), then (x - mean) / std per channel (image_normalize),
    in float32 like the brushes."""
    graph = GraphBuilder("image")
    value = INPUT
    if to_unit_range:
        value = graph.add("Div", value, graph.constant(np.array(255.0, dtype=np.float32)))
    if normalise is not None:
        mean, std = (np.asarray(array, dtype=np.float32) for array in normalise)
        value = graph.add("Div", graph.add("Sub", value, graph.constant(mean)), graph.constant(std))
    graph.add("Identity", value, output=FEATURES)
    full = [None, *shape]
    return graph.model(input_name=INPUT, input_shape=full, output_name=FEATURES, output_shape=full)


def flattening(shape: Sequence[int]) -> onnx.ModelProto:
    """`features` of any per-sample shape -> [N, prod(shape)], as scikit-learn models take them."""
    graph = GraphBuilder("flatten")
    graph.add("Flatten", INPUT, axis=1, output=FEATURES)
    return graph.model(
        input_name=INPUT,
        input_shape=[None, *shape],
        output_name=FEATURES,
        output_shape=[None, int(np.prod(shape))],
    )


def softmax_head(n_classes: int) -> onnx.ModelProto:
    """Logits [N, n_classes] -> probabilities, as `TrainedModel.predict_proba` computes them."""
    graph = GraphBuilder("softmax")
    graph.add("Softmax", RAW, axis=1, output=OUTPUT)
    shape = [None, n_classes]
    return graph.model(input_name=RAW, input_shape=shape, output_name=OUTPUT, output_shape=shape)


def probability_head(class_codes: Sequence[int], n_classes: int) -> onnx.ModelProto:
    """An estimator's probabilities over the classes it saw -> one column per label (0 for a
    label it never saw), each row divided by its sum: `TrainedModel.predict_proba`'s rule."""
    graph = GraphBuilder("probabilities")
    placement = np.zeros((len(class_codes), n_classes), dtype=np.float32)
    placement[np.arange(len(class_codes)), np.asarray(class_codes, dtype=np.int64)] = 1.0
    value = RAW
    if len(class_codes) != n_classes or list(class_codes) != list(range(n_classes)):
        value = graph.add("MatMul", value, graph.constant(placement))
    total = graph.add("ReduceSum", value, graph.constant(np.array([1], dtype=np.int64)), keepdims=1)
    graph.add("Div", value, total, output=OUTPUT)
    return graph.model(
        input_name=RAW,
        input_shape=[None, len(class_codes)],
        output_name=OUTPUT,
        output_shape=[None, n_classes],
    )


def regression_head(target_mean: float, target_std: float) -> onnx.ModelProto:
    """Standardised values [N, 1] -> [N] in the target's units (value * std + mean)."""
    graph = GraphBuilder("regression")
    flat = graph.add("Reshape", RAW, graph.constant(np.array([-1], dtype=np.int64)))
    scaled = graph.add("Mul", flat, graph.constant(np.array(target_std, dtype=np.float32)))
    graph.add("Add", scaled, graph.constant(np.array(target_mean, dtype=np.float32)), output=OUTPUT)
    return graph.model(
        input_name=RAW, input_shape=[None, 1], output_name=OUTPUT, output_shape=[None]
    )


def chain(
    parts: Sequence[tuple[onnx.ModelProto, str, str]],
    *,
    doc_string: str = "",
    features_output: bool = False,
) -> onnx.ModelProto:
    """One model from `(model, input name, output name)` parts applied in order; its input is
    renamed `input` and its output `output`, and nodes nothing reads any more (a classifier's
    label output, say) are dropped. With `features_output`, the first part's output is kept as
    a second output, `features` (the model's float32 features, for a caller that refuses
    non-finite ones as `Predictor` does)."""
    merged, output = None, ""
    kept = [f"p0_{parts[0][2]}"] if features_output else []
    for index, (part, input_name, output_name) in enumerate(parts):
        part = onnx.compose.add_prefix(with_standard_versions(part), f"p{index}_")
        if merged is None:
            merged = part
            _keep_outputs(merged, [f"p{index}_{output_name}"])
        else:
            merged = onnx.compose.merge_models(
                merged,
                part,
                io_map=[(output, f"p{index}_{input_name}")],
                outputs=[f"p{index}_{output_name}", *kept],
            )
        output = f"p{index}_{output_name}"
    assert merged is not None, "chain needs at least one part"
    rename_value(merged.graph, merged.graph.input[0].name, INPUT)
    rename_value(merged.graph, output, OUTPUT)
    if kept:
        rename_value(merged.graph, kept[0], FEATURES)
        _keep_outputs(merged, [OUTPUT, FEATURES])
    _prune(merged.graph)
    merged = with_standard_versions(merged)
    merged.doc_string = doc_string
    merged.producer_name = "canvascraft"
    onnx.checker.check_model(merged, full_check=True)
    return merged


def _keep_outputs(model: onnx.ModelProto, names: list[str]) -> None:
    """Keeps the graph outputs named, in the order of `names`."""
    by_name = {output.name: output for output in model.graph.output}
    kept = [copy_of(by_name[name]) for name in names if name in by_name]
    del model.graph.output[:]
    model.graph.output.extend(kept)


def copy_of(value: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    """A detached copy (a protobuf element removed from its list must not be read again)."""
    copied = onnx.ValueInfoProto()
    copied.CopyFrom(value)
    return copied


def rename_value(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Renames a value (graph input, output or edge) everywhere it appears."""
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]


def _prune(graph: onnx.GraphProto) -> None:
    """Drops nodes and constants that do not lead to an output (walking back from outputs)."""
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed |= set(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [tensor for tensor in graph.initializer if tensor.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    infos = [info for info in graph.value_info if info.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(infos)
