"""STABLEHLO_CASE(index int32 [one element], inputs...): run the subgraph
branch_subgraph_indices[index] on the other inputs (an index out of range
takes the last branch, as LiteRT does); its outputs are the op's.  When the
branches give different output shapes, the op is prepared at invoke time,
once the index is known."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    branches: list = None
    results: list = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = node.runner.interpreter
    if ip is None:
        node.fail("control flow needs the Interpreter that owns the subgraphs")
    v = node.options.get("branch_subgraph_indices")
    indices = [] if v is None else [int(k) for k in np.asarray(v).reshape(-1)]
    if not indices:
        node.fail("branch_subgraph_indices is empty; a case needs at least one branch")
    n = len(ip.model.subgraphs)
    branches = []
    for k in indices:
        if not 0 <= k < n or k == node.runner.index:
            node.fail(f"branch subgraph {k} is not another subgraph of the model (it has {n})")
        sub = ip._runner(k)
        if len(sub.subgraph.inputs) != len(node.inputs) - 1 or len(sub.subgraph.outputs) != len(node.outputs):
            node.fail(f"subgraph {k} takes {len(sub.subgraph.inputs)} inputs and gives {len(sub.subgraph.outputs)} "
                      f"outputs; the op passes {len(node.inputs) - 1} and expects {len(node.outputs)}")
        branches.append(sub)
    index = node.inputs[0]
    if index.dtype != np.int32 or index.size != 1:
        node.fail(f"the branch index must be one int32, got {index.dtype.name} of shape {list(index.shape)}")
    d.branches = branches
    shapes = [tuple(s.shape) for s in node.inputs[1:]]
    per_branch = [b.output_shapes(shapes) for b in branches]
    if all(p == per_branch[0] for p in per_branch) and None not in per_branch[0]:
        for o, shape in zip(node.outputs, per_branch[0]):
            o.shape = shape
        return eval_case
    # Shapes depend on the branch taken: prepare once the index's value is known.
    take = _branch(node, node.value(0))
    d.results = take.run([node.value(i) for i in range(1, len(node.inputs))])
    for o, r in zip(node.outputs, d.results):
        o.shape = r.shape
    return eval_results


def _branch(node, index):
    i = int(np.asarray(index).reshape(-1)[0])
    return node.data.branches[i if 0 <= i < len(node.data.branches) else -1]


def eval_case(node, inputs, outputs):
    for out, value in zip(outputs, _branch(node, inputs[0]).run(inputs[1:])):
        out[...] = value


def eval_results(node, inputs, outputs):
    for out, value in zip(outputs, node.data.results):
        out[...] = value
