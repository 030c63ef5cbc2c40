"""Tree ensembles in ONNX that split exactly where scikit-learn splits.

scikit-learn compares a float32 feature, widened to float64, with a float64 threshold (a
forest's thresholds are midpoints between training values; histogram boosting's are bin edges,
also float64). skl2onnx writes `nodes_values` as float attributes, so an ONNX tree compares
against a threshold rounded to float32: skl2onnx 1.20 moves a forest's thresholds down to the
float32 below them (exact for float32 inputs), but leaves boosting's rounded to nearest, and a
feature equal to a float32 that rounding reached goes down the other branch. Converting with
double inputs does not help in 1.20: the attributes are still written as floats (rounded), the
classifier converter even rounds them first, and boosting's declared output type is refused by
ONNX Runtime.

So the estimator is converted with float inputs as before, and each TreeEnsembleClassifier /
TreeEnsembleRegressor node is then rewritten: its input goes through Cast(float32 -> float64)
and its thresholds, leaf weights and base values become `*_as_tensor` float64 attributes
(ai.onnx.ml opset 3), computed by skl2onnx's own attribute builders in float64 with no
threshold adjustment, from the same trees in the same order. ONNX Runtime then compares and
sums in float64, as scikit-learn does; only the op's output is float32 (opset 3 has no other).
The rewrite checks that the node's structure is the one it rebuilt and raises TreesNotRewritten
otherwise, so a different skl2onnx cannot silently produce a half-exact graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TREE_OPS = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")
DOUBLE_SUFFIX = "_as_tensor"
# The attributes whose values are numbers a float attribute would round.
VALUE_ATTRIBUTES = ("nodes_values", "class_weights", "target_weights", "base_values")
# The attributes that say which node or leaf a value belongs to: kept, and checked equal.
STRUCTURE_ATTRIBUTES = (
    "nodes_treeids",
    "nodes_nodeids",
    "nodes_featureids",
    "nodes_modes",
    "class_treeids",
    "class_nodeids",
    "class_ids",
    "target_treeids",
    "target_nodeids",
    "target_ids",
)


class TreesNotRewritten(Exception):
    """A tree node in the converted graph is not the one rebuilt from the estimator."""


def is_tree_ensemble(estimator: Any) -> bool:
    """A random forest or histogram gradient boosting model (the tree templates' estimators)."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    kinds = (
        RandomForestClassifier,
        RandomForestRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    return isinstance(estimator, kinds)


def compare_in_float64(model: onnx.ModelProto, estimator: Any) -> onnx.ModelProto:
    """`model` (skl2onnx's conversion of `estimator`, float input) with its one tree node
    comparing and summing in float64; TreesNotRewritten when the node is not as expected."""
    nodes = [node for node in model.graph.node if node.op_type in TREE_OPS]
    if len(nodes) != 1:
        raise TreesNotRewritten(f"expected one tree ensemble node, found {len(nodes)}")
    node = nodes[0]
    expected = float64_attributes(estimator, node.op_type == "TreeEnsembleClassifier")
    kept: list[onnx.AttributeProto] = []
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if attribute.name in STRUCTURE_ATTRIBUTES:
            found = [item.decode() if isinstance(item, bytes) else item for item in value]
            if found != [_plain(item) for item in expected[attribute.name]]:
                raise TreesNotRewritten(f"{attribute.name} differs from the estimator's trees")
        if attribute.name not in VALUE_ATTRIBUTES:
            copied = onnx.AttributeProto()
            copied.CopyFrom(attribute)
            kept.append(copied)
            continue
        values = np.asarray(expected[attribute.name], dtype=np.float64).ravel()
        if values.shape != (len(value),) or not np.allclose(values, value, rtol=1e-6, atol=1e-6):
            raise TreesNotRewritten(f"{attribute.name} differs from the estimator's trees")
        kept.append(helper.make_attribute(attribute.name + DOUBLE_SUFFIX, _tensor(values)))
    del node.attribute[:]
    node.attribute.extend(kept)
    widened = f"{node.name or 'trees'}_float64_input"
    cast = helper.make_node("Cast", [node.input[0]], [widened], name=widened, to=TensorProto.DOUBLE)
    node.input[0] = widened
    position = list(model.graph.node).index(node)
    model.graph.node.insert(position, cast)
    return model


def compares_in_float64(model: onnx.ModelProto) -> bool:
    """Whether every tree node of `model` holds float64 thresholds (True when it has none)."""
    return all(
        any(attribute.name == "nodes_values" + DOUBLE_SUFFIX for attribute in node.attribute)
        for node in model.graph.node
        if node.op_type in TREE_OPS
    )


def float64_attributes(estimator: Any, is_classifier: bool) -> dict[str, list]:
    """The tree node's attributes as skl2onnx 1.20's converters build them (same trees, same
    order, same leaf weights), but in float64 and with scikit-learn's thresholds as they are."""
    from skl2onnx.common import tree_ensemble

    pairs = (
        tree_ensemble.get_default_tree_classifier_attribute_pairs()
        if is_classifier
        else tree_ensemble.get_default_tree_regressor_attribute_pairs()
    )
    if hasattr(estimator, "estimators_"):  # a forest: trees averaged
        weight = 1.0 / len(estimator.estimators_)
        for tree_id, tree in enumerate(estimator.estimators_):
            tree_ensemble.add_tree_to_attribute_pairs(
                pairs,
                is_classifier,
                tree.tree_,
                tree_id,
                tree_weight=weight,
                weight_id_bias=0,
                leaf_weights_are_counts=is_classifier,  # a classifier's leaves hold fractions
                adjust_threshold_for_sklearn=False,
                dtype=np.float64,
            )
        return pairs
    per_iteration = estimator.n_trees_per_iteration_  # boosting: trees added to a baseline
    for iteration, trees in enumerate(estimator._predictors):
        for position, tree in enumerate(trees):
            tree_id = iteration if len(trees) == 1 else iteration * per_iteration + position
            tree_ensemble.add_tree_to_attribute_pairs_hist_gradient_boosting(
                pairs,
                is_classifier,
                tree,
                tree_id,
                tree_weight=1.0,
                weight_id_bias=0 if len(trees) == 1 else position,
                leaf_weights_are_counts=False,
                adjust_threshold_for_sklearn=False,
                dtype=np.float64,
            )
    pairs["base_values"] = list(np.ravel(estimator._baseline_prediction))
    return pairs


def _plain(item: Any) -> Any:
    """A structure value as an ONNX attribute holds it (int or str)."""
    if isinstance(item, bytes):
        return item.decode()
    if isinstance(item, str):
        return item
    return int(item)


def _tensor(values: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(values, dtype=np.float64))
