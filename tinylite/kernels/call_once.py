from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import OpDataBase, op_data

if TYPE_CHECKING:
    from ..interpreter.subgraph import SubgraphRunner


@op_data
class OpData(OpDataBase):
    """What CALL_ONCE's prepare computes for eval."""

    init: SubgraphRunner = None
    key: tuple = None
"""CALL_ONCE: run the init subgraph (no inputs, no outputs) on the first invoke
only, typically to assign resource variables their initial values."""
FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = node.runner.interpreter
    if ip is None:
        node.fail("CALL_ONCE needs the Interpreter that owns the subgraphs")
    k = node.options.get("init_subgraph_index", 0)
    if not 0 <= k < len(ip.model.subgraphs) or k == node.runner.index:
        node.fail(f"init_subgraph_index {k} is not another subgraph of the model")
    sub = ip._runner(k)
    if sub.subgraph.inputs or sub.subgraph.outputs:
        node.fail(f"the init subgraph {k} must have no inputs and no outputs")
    d.init = sub
    d.key = ("call_once", node.runner.index, node.index)
    return eval_call_once


def eval_call_once(node, inputs, outputs):
    data = node.data
    resources = node.runner.interpreter._resources
    if resources.get(data.key):
        return
    data.init.run([])
    resources[data.key] = True
