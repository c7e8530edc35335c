"""Optimized WHILE, where the body keeps the loop values' shapes and neither
subgraph has dynamic tensors: the loop copies the values straight into the
cond and body subgraphs' planned input arrays and runs their tapes, with the
op's output arrays as the loop state, instead of SubgraphRunner.run's
per-iteration shape checks, fresh output copies and nested error contexts.

The subgraphs' runners are shared by every op naming them: if one of them
was planned again since this op was bound (another op ran it for other
shapes), the loop goes on through the reference kernel's generic loop from
the values it has reached."""
import importlib

import numpy as np

from .._base import bound_kernel
from . import register

reference = importlib.import_module("..while", __package__)    # `while` is a keyword


@register("WHILE", when=lambda node, ref: ref is reference.eval_while)
def prepare_planned(node, reference_fn):
    return eval_planned


def _planned(runner, shapes):
    """(tape, input arrays, output arrays) of a subgraph runner planned for these input shapes, or None."""
    sg = runner.subgraph
    if (not runner.ready or runner.dynamic_tensors
            or [tuple(runner.shapes[i]) for i in sg.inputs] != shapes):
        return None
    ins = [runner.arrays[i] for i in sg.inputs]
    outs = [runner.arrays[i] for i in sg.outputs]
    if any(a is None or a.dtype.hasobject for a in ins + outs):
        return None
    return runner.tape, ins, outs


def _calls(node, inputs, outputs):
    d = node.data
    cond, body = d.cond, d.body
    shapes = [tuple(x.shape) for x in inputs]
    cond.output_shapes(shapes)          # plans cond for these shapes if it is not (body is, by prepare)
    c, b = _planned(cond, shapes), _planned(body, shapes)
    if c is None or b is None or [o.shape for o in b[2]] != shapes or c[2][0].size == 0:
        return None
    (ctape, cin, (cflag,)), (btape, bin_, bout) = c, b
    flag = cflag.reshape(-1)
    state = list(outputs)
    copyto, generic = np.copyto, reference._loop

    def loop():
        for o, x in zip(state, inputs):
            copyto(o, x)
        while True:
            if cond.tape is not ctape or body.tape is not btape or not (cond.ready and body.ready):
                for o, v in zip(state, generic(node, state)):
                    o[...] = v
                return
            for dst, o in zip(cin, state):
                copyto(dst, o)
            ctape.run()
            if not flag[0]:
                return
            for dst, o in zip(bin_, state):
                copyto(dst, o)
            btape.run()
            for o, src in zip(state, bout):
                copyto(o, src)
    return [loop]


eval_planned = bound_kernel(_calls, reference.eval_while, "eval_planned")


