"""Export the fitted pipeline's trees to ONNX, at training time, for ONNX Runtime to serve.

The trees are read through treelite's scikit-learn importer, which understands
HistGradientBoosting's internals (its own reordering of categorical columns, the category bitsets,
the baseline). skl2onnx (1.20) could not serve here: it converts a categorical split as a numeric
one (silently wrong prices for ``location``) and fails on this protobuf. So treelite's documented
JSON dump is written out as one ONNX ``TreeEnsemble`` node (ai.onnx.ml opset 5) in float64: the
thresholds compare exactly as scikit-learn's do, and a category split is a set-membership test.
The categorical encoding stays outside the graph (``house_price.encoding``).

Anything in the dump this mapping does not know fails the export, never the prices: the parity
check (``house_price.parity``) then compares the result with the pipeline on every kind of house.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import treelite
from onnx import TensorProto, helper, numpy_helper
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

from house_price.features import MODEL_COLUMNS
from house_price.runtime import INPUT, OUTPUT

# TreeEnsemble and its set-membership mode came with ai.onnx.ml opset 5 (ONNX 1.16), whose IR version
# is 10; onnx writes its newest IR by default, which ONNX Runtime 1.31 does not read yet.
OPSETS = {"": 21, "ai.onnx.ml": 5}
IR_VERSION = 10
_BRANCH_LEQ = 0
_BRANCH_MEMBER = 6
_SEPARATOR = float("nan")


class ExportError(ValueError):
    """The pipeline holds something this export does not translate."""


@dataclass
class _Nodes:
    """The flat arrays of a TreeEnsemble node, filled tree by tree."""

    roots: list[int] = field(default_factory=list)
    features: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    missing_true: list[int] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leafs: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leafs: list[int] = field(default_factory=list)
    membership: list[float] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)

    def add_tree(self, nodes: dict[int, dict[str, Any]]) -> None:
        self.roots.append(self._branch(nodes, 0))

    def _child(self, nodes: dict[int, dict[str, Any]], node_id: int) -> tuple[int, int]:
        """(index, is_leaf) of a child: leaves are numbered apart from branches."""
        node = nodes[node_id]
        if "leaf_value" in node:
            value = node["leaf_value"]
            if not isinstance(value, float | int):
                raise ExportError(f"leaf {node_id} holds {value!r}, not one number")
            self.leaf_weights.append(float(value))
            return len(self.leaf_weights) - 1, 1
        return self._branch(nodes, node_id), 0

    def _branch(self, nodes: dict[int, dict[str, Any]], node_id: int) -> int:
        node = nodes[node_id]
        index = len(self.features)
        left, right = node["left_child"], node["right_child"]
        if node["node_type"] == "numerical_test_node":
            if node["comparison_op"] != "<=":
                raise ExportError(f"node {node_id} compares with {node['comparison_op']!r}, not '<='")
            mode, split = _BRANCH_LEQ, float(node["threshold"])
            # "true" is the left child, as in scikit-learn: x <= threshold.
            true_child, false_child, missing_true = left, right, node["default_left"]
        elif node["node_type"] == "categorical_test_node":
            mode, split = _BRANCH_MEMBER, 0.0
            self.membership.extend([*map(float, node["category_list"]), _SEPARATOR])
            # "true" is the child the listed categories go to.
            listed_right = node["category_list_right_child"]
            true_child, false_child = (right, left) if listed_right else (left, right)
            missing_true = node["default_left"] != listed_right
        else:
            raise ExportError(f"node {node_id} is a {node['node_type']!r}")
        self.features.append(int(node["split_feature_id"]))
        self.splits.append(split)
        self.modes.append(mode)
        self.missing_true.append(int(missing_true))
        for array in (self.true_ids, self.true_leafs, self.false_ids, self.false_leafs):
            array.append(0)
        self.true_ids[index], self.true_leafs[index] = self._child(nodes, true_child)
        self.false_ids[index], self.false_leafs[index] = self._child(nodes, false_child)
        return index


def _dump(regressor: HistGradientBoostingRegressor) -> dict[str, Any]:
    dump: dict[str, Any] = json.loads(treelite.sklearn.import_model(regressor).dump_as_json(pretty_print=False))
    expected = {
        "task_type": "kRegressor",
        "num_target": 1,
        "num_feature": len(MODEL_COLUMNS),
        "postprocessor": "identity",
        "average_tree_output": False,
        "threshold_type": "float64",
        "leaf_output_type": "float64",
    }
    found = {key: dump.get(key) for key in expected}
    if found != expected or len(dump.get("base_scores", ())) != 1:
        raise ExportError(f"a tree ensemble of another kind: {found}, base scores {dump.get('base_scores')}")
    return dump


def to_onnx(pipeline: Pipeline) -> bytes:
    """The pipeline's regressor as a serialised ONNX model: float64 ``houses`` in ``MODEL_COLUMNS``
    order (as ``house_price.encoding`` makes them) to a ``price`` column in dollars."""
    regressor = pipeline.steps[-1][1]
    if not isinstance(regressor, HistGradientBoostingRegressor):
        raise ExportError(f"the pipeline ends with {type(regressor).__name__}, not HistGradientBoostingRegressor")
    dump = _dump(regressor)
    nodes = _Nodes()
    for tree in dump["trees"]:
        nodes.add_tree({node["node_id"]: node for node in tree["nodes"]})

    def doubles(values: list[float]) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(values, dtype=np.float64))

    ensemble = helper.make_node(
        "TreeEnsemble",
        [INPUT],
        ["trees"],
        domain="ai.onnx.ml",
        aggregate_function=1,  # SUM
        post_transform=0,  # NONE
        n_targets=1,
        tree_roots=nodes.roots,
        nodes_featureids=nodes.features,
        nodes_splits=doubles(nodes.splits),
        nodes_modes=numpy_helper.from_array(np.array(nodes.modes, dtype=np.uint8)),
        nodes_missing_value_tracks_true=nodes.missing_true,
        nodes_truenodeids=nodes.true_ids,
        nodes_trueleafs=nodes.true_leafs,
        nodes_falsenodeids=nodes.false_ids,
        nodes_falseleafs=nodes.false_leafs,
        membership_values=doubles(nodes.membership),
        leaf_targetids=[0] * len(nodes.leaf_weights),
        leaf_weights=doubles(nodes.leaf_weights),
    )
    baseline = numpy_helper.from_array(np.array(dump["base_scores"], dtype=np.float64), "baseline")
    graph = helper.make_graph(
        [ensemble, helper.make_node("Add", ["trees", "baseline"], [OUTPUT])],
        "house_price",
        [helper.make_tensor_value_info(INPUT, TensorProto.DOUBLE, [None, len(MODEL_COLUMNS)])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.DOUBLE, [None, 1])],
        initializer=[baseline],
    )
    model = helper.make_model(
        graph,
        ir_version=IR_VERSION,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in OPSETS.items()],
        producer_name="house_price.export",
    )
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
