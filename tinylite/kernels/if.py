"""IF: run the then- or else-subgraph on inputs 1.. as the boolean input 0
says; its outputs are the op's.  When the branches give different output
shapes, the op is prepared at invoke time, once the condition is known."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data
from ._control_flow import branch, interpreter, shape_outputs


@op_data
class OpData(OpDataBase):
    """What IF's prepare computes for eval."""

    branches: list = None
    results: list = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = interpreter(node)
    branches = [branch(node, ip, key, node.options.get(key, 0))
                for key in ("then_subgraph_index", "else_subgraph_index")]
    cond = node.inputs[0]
    if cond.dtype != np.bool_ or cond.size != 1:
        node.fail(f"the condition must be one boolean, got {cond.dtype.name} of shape {list(cond.shape)}")
    d.branches = branches
    return shape_outputs(node, d, lambda c: _take(d.branches, c), eval_if)


def _take(branches, cond):
    return branches[0] if bool(np.asarray(cond).reshape(-1)[0]) else branches[1]


def eval_if(node, inputs, outputs):
    for out, value in zip(outputs, _take(node.data.branches, inputs[0]).run(inputs[1:])):
        out[...] = value
