"""WHILE: run the body subgraph on the loop values while the cond subgraph says
true; the values (inputs) go in, the last values come out.

The outputs have the inputs' shapes when the body keeps them (checked by
planning the body for those shapes); otherwise they are known only after the
loop, and the op is prepared at invoke time like any dynamic-shape op.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._base import DynamicShape, op_data, OpDataBase

if TYPE_CHECKING:
    from ..interpreter.subgraph import SubgraphRunner


@op_data
class OpData(OpDataBase):
    """What WHILE's prepare computes for eval."""

    cond: SubgraphRunner = None
    body: SubgraphRunner = None
    results: list = None

FOLDABLE = False


def _runners(node):
    ip = node.runner.interpreter
    if ip is None:
        node.fail("control flow needs the Interpreter that owns the subgraphs")
    n = len(ip.model.subgraphs)
    for key in ("cond_subgraph_index", "body_subgraph_index"):
        k = node.options.get(key, 0)
        if not 0 <= k < n or k == node.runner.index:
            node.fail(f"{key} {k} is not another subgraph of the model (it has {n})")
    return ip._runner(node.options["cond_subgraph_index"]), ip._runner(node.options["body_subgraph_index"])


def prepare(node):
    d = node.draft(OpData)
    cond, body = _runners(node)
    if len(node.inputs) != len(node.outputs):
        node.fail(f"has {len(node.inputs)} inputs but {len(node.outputs)} outputs; they must pair up")
    for sub, what in ((cond, "cond"), (body, "body")):
        if len(sub.subgraph.inputs) != len(node.inputs):
            node.fail(f"the {what} subgraph takes {len(sub.subgraph.inputs)} inputs, the op gives it "
                      f"{len(node.inputs)}")
    if len(cond.subgraph.outputs) != 1 or len(body.subgraph.outputs) != len(node.inputs):
        node.fail("the cond subgraph must have 1 output and the body one per loop value")
    out = cond.subgraph.outputs[0]
    if cond.dtypes[out] != np.bool_:
        node.fail(f"the cond subgraph's output (tensor {out} of subgraph {cond.index}) is "
                  f"{cond.dtypes[out].name}; it must be a BOOL, as LiteRT requires")
    d.cond, d.body = cond, body
    shapes = [tuple(s.shape) for s in node.inputs]
    for s, o in zip(node.inputs, node.outputs):
        if s.dtype != o.dtype:
            node.fail(f"loop value {s.name!r} is {s.dtype.name} but output {o.name!r} is {o.dtype.name}")
    if body.output_shapes(shapes) == shapes:
        for o, shape in zip(node.outputs, shapes):
            o.shape = shape
        return eval_while
    # The body changes shapes: only running the loop tells the output shapes.
    # That waits for invoke even when every input is constant, as LiteRT's does:
    # a loop that never ends must not hang allocate_tensors.
    if not node.runner.ready:
        raise DynamicShape("WHILE's body changes the loop values' shapes; they are known after the loop runs")
    values = [node.value(i) for i in range(len(node.inputs))]
    d.results = _loop(node, values)
    for o, r in zip(node.outputs, d.results):
        o.shape = r.shape
    return eval_results


def _loop(node, values):
    values = [np.array(v) for v in values]
    while bool(np.asarray(node.data.cond.run(values)[0]).reshape(-1)[0]):
        values = node.data.body.run(values)
    return values


def eval_while(node, inputs, outputs):
    for out, value in zip(outputs, _loop(node, inputs)):
        if out.shape != value.shape:
            raise ValueError(f"the body changed a loop value's shape from {out.shape} to {value.shape}")
        out[...] = value


def eval_results(node, inputs, outputs):
    for out, value in zip(outputs, node.data.results):
        out[...] = value
