"""STABLEHLO_CASE(index int32 [one element], inputs...): run the subgraph
branch_subgraph_indices[index] on the other inputs (an index out of range
takes the last branch, as LiteRT does); its outputs are the op's.  When the
branches give different output shapes, the op is prepared at invoke time,
once the index is known."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data
from ._control_flow import branch, interpreter, shape_outputs


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    branches: list = None
    results: list = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = interpreter(node)
    v = node.options.get("branch_subgraph_indices")
    indices = [] if v is None else [int(k) for k in np.asarray(v).reshape(-1)]
    if not indices:
        node.fail("branch_subgraph_indices is empty; a case needs at least one branch")
    branches = [branch(node, ip, "branch subgraph", k) for k in indices]
    index = node.inputs[0]
    if index.dtype != np.int32 or index.size != 1:
        node.fail(f"the branch index must be one int32, got {index.dtype.name} of shape {list(index.shape)}")
    d.branches = branches
    return shape_outputs(node, d, lambda i: _branch(node, i), eval_case)


def _branch(node, index):
    i = int(np.asarray(index).reshape(-1)[0])
    return node.data.branches[i if 0 <= i < len(node.data.branches) else -1]


def eval_case(node, inputs, outputs):
    for out, value in zip(outputs, _branch(node, inputs[0]).run(inputs[1:])):
        out[...] = value
