"""IF: run the then- or else-subgraph on inputs 1.. as the boolean input 0
says; its outputs are the op's.  When the branches give different output
shapes, the op is prepared at invoke time, once the condition is known."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What IF's prepare computes for eval."""

    branches: list = None
    results: list = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = node.runner.interpreter
    if ip is None:
        node.fail("control flow needs the Interpreter that owns the subgraphs")
    n = len(ip.model.subgraphs)
    branches = []
    for key in ("then_subgraph_index", "else_subgraph_index"):
        k = node.options.get(key, 0)
        if not 0 <= k < n or k == node.runner.index:
            node.fail(f"{key} {k} is not another subgraph of the model (it has {n})")
        sub = ip._runner(k)
        if len(sub.subgraph.inputs) != len(node.inputs) - 1 or len(sub.subgraph.outputs) != len(node.outputs):
            node.fail(f"subgraph {k} takes {len(sub.subgraph.inputs)} inputs and gives {len(sub.subgraph.outputs)} "
                      f"outputs; the op passes {len(node.inputs) - 1} and expects {len(node.outputs)}")
        branches.append(sub)
    cond = node.inputs[0]
    if cond.dtype != np.bool_ or cond.size != 1:
        node.fail(f"the condition must be one boolean, got {cond.dtype.name} of shape {list(cond.shape)}")
    d.branches = branches
    shapes = [tuple(s.shape) for s in node.inputs[1:]]
    then_shapes, else_shapes = (b.output_shapes(shapes) for b in branches)
    if then_shapes == else_shapes and None not in then_shapes:
        for o, shape in zip(node.outputs, then_shapes):
            o.shape = shape
        return eval_if
    # Shapes depend on the branch taken: prepare once the condition's value is known.
    take = branches[0] if bool(np.asarray(node.value(0)).reshape(-1)[0]) else branches[1]
    values = [node.value(i) for i in range(1, len(node.inputs))]
    d.results = take.run(values)
    for o, r in zip(node.outputs, d.results):
        o.shape = r.shape
    return eval_results


def eval_if(node, inputs, outputs):
    data = node.data
    take = data.branches[0] if bool(inputs[0].reshape(-1)[0]) else data.branches[1]
    for out, value in zip(outputs, take.run(inputs[1:])):
        out[...] = value


def eval_results(node, inputs, outputs):
    for out, value in zip(outputs, node.data.results):
        out[...] = value
