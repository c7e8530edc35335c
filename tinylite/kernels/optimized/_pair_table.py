"""8-bit binary elementwise ops (ADD, SUB, MUL on int8/uint8) as one lookup
in a 256 x 256 table of the reference kernel's results.

The output of these ops depends only on the pair of input values (their
scales, zero points and the activation are constants), so the reference
kernel run once over all 65536 pairs at prepare gives a table that is
bit-exact by construction.  An invoke is then three passes whatever the
fixed-point recipe: the pair index (first input * 256, plus the second; the
inputs' bytes as uint8, broadcasting as the op does), and the lookup into
the output.  The table is 64 KiB: it stays in cache.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .._base import binds, op_data, OpDataBase


@op_data
class PairTableData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    opt_table: np.ndarray = None


def plan(node, reference_eval):
    """The table eval for this prepared 8-bit node, or None."""
    d = node.draft(PairTableData)
    from . import ENABLED

    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    if not ENABLED or not (x.dtype == y.dtype == out.dtype) or x.dtype not in (np.int8, np.uint8):
        return None
    values = np.arange(256, dtype=np.uint8).view(x.dtype)          # index k holds the byte k
    xs = np.repeat(values, 256)
    ys = np.tile(values, 256)
    table = np.empty(65536, out.dtype)
    reference_eval(node, [xs, ys], [table])
    d.opt_table = table
    return eval_table


class _Buffers:
    def __init__(self, node, x, y, out):
        self.x, self.y, self.out = x, y, out
        self.idx = np.empty(out.shape, np.intp)
        xb, yb = x.view(np.uint8), y.view(np.uint8)
        self.calls = [partial(np.multiply, xb, 256, out=self.idx, dtype=np.intp),
                      partial(np.add, self.idx, yb, out=self.idx),
                      partial(np.take, node.data.opt_table, self.idx, out=out, mode="clip")]


def eval_table(node, inputs, outputs):
    fb = node.cache.get("opt_table_bufs")
    if fb is None or fb.x is not inputs[0] or fb.y is not inputs[1] or fb.out is not outputs[0]:
        fb = node.cache["opt_table_bufs"] = _Buffers(node, inputs[0], inputs[1], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_table)
def _bind(node, inputs, outputs):
    node.cache["opt_table_bufs"] = _Buffers(node, inputs[0], inputs[1], outputs[0])
    return list(node.cache["opt_table_bufs"].calls)
