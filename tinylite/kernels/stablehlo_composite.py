from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import OpDataBase, op_data

if TYPE_CHECKING:
    from ..interpreter.subgraph import SubgraphRunner


@op_data
class OpData(OpDataBase):
    """What STABLEHLO_COMPOSITE's prepare computes for eval."""

    body: SubgraphRunner = None
"""STABLEHLO_COMPOSITE: a named composite op (`name`, `composite_attributes`)
run as its decomposition subgraph (`decomposition_subgraph_index`) on the op's
inputs; the subgraph's outputs are the op's."""
FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = node.runner.interpreter
    if ip is None:
        node.fail("a composite needs the Interpreter that owns its decomposition subgraph")
    n = len(ip.model.subgraphs)
    k = int(node.options.get("decomposition_subgraph_index", -1))
    if not 0 <= k < n or k == node.runner.index:
        node.fail(f"decomposition_subgraph_index {k} is not another subgraph of the model (it has {n})")
    sub = ip._runner(k)
    if len(sub.subgraph.inputs) != len(node.inputs) or len(sub.subgraph.outputs) != len(node.outputs):
        node.fail(f"subgraph {k} takes {len(sub.subgraph.inputs)} inputs and gives {len(sub.subgraph.outputs)} "
                  f"outputs; the op passes {len(node.inputs)} and expects {len(node.outputs)}")
    d.body = sub
    shapes = sub.output_shapes([tuple(s.shape) for s in node.inputs])
    if None in shapes:
        values = [node.value(i) for i in range(len(node.inputs))]
        results = sub.run(values)
        shapes = [r.shape for r in results]
    for o, shape in zip(node.outputs, shapes):
        o.shape = tuple(shape)
    return eval_composite


def eval_composite(node, inputs, outputs):
    for out, value in zip(outputs, node.data.body.run(inputs)):
        out[...] = value
