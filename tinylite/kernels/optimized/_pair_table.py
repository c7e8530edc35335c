"""8-bit binary elementwise ops (ADD, SUB, MUL on int8/uint8) as one lookup
in a 256 x 256 table of the reference kernel's results.

The output of these ops depends only on the pair of input values (their
scales, zero points and the activation are constants), so the reference
kernel run once over all 65536 pairs gives a table that is bit-exact by
construction.  An invoke is then three passes whatever the fixed-point
recipe: the pair index (first input * 256, plus the second; the inputs'
bytes as uint8, broadcasting as the op does), and the lookup into the
output.  The table is 64 KiB: it stays in cache.

Filling a table runs the reference over 65536 pairs (1-2 ms), so it is not
done at prepare: a model with dozens of such nodes would spend most of its
load there.  The first invoke fills it, and nodes whose tables would be
equal (same op, dtype, scales, zero points and clamp: the whole input of
the arithmetic) share one, across interpreters too (a small LRU cache).
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial

import numpy as np

from .._base import op_data, OpDataBase
from ._cached import LazyTable, calls_per_arrays


@op_data
class PairTableData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    opt_table: LazyTable = None

_CACHE_SIZE = 64            # 64 tables of 64 KiB
_tables: OrderedDict = OrderedDict()


def _key(node, reference_eval, dtype):
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    quant = tuple((t.scale, t.zero_point) for t in (x, y, out))        # (float, int): the per-tensor parameters
    return (reference_eval, node.op_name, np.dtype(dtype).str, quant, int(node.data.q_lo), int(node.data.q_hi))


def _pairs_table(key, node, reference_eval, dtype):
    """The reference's output for every pair of 8-bit inputs (index: x's byte * 256 + y's byte)."""

    def fill_into(array):
        values = np.arange(256, dtype=np.uint8).view(dtype)      # index k holds the byte k
        reference_eval(node, [np.repeat(values, 256), np.tile(values, 256)], [array])
    return LazyTable(key, dtype, fill_into, _tables, _CACHE_SIZE)


def plan(node, reference_eval):
    """The table eval for this prepared 8-bit node, or None."""
    d = node.draft(PairTableData)
    from . import ENABLED

    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    if not ENABLED or not (x.dtype == y.dtype == out.dtype) or x.dtype not in (np.int8, np.uint8):
        return None
    d.opt_table = _pairs_table(_key(node, reference_eval, out.dtype), node, reference_eval, out.dtype)
    return eval_table


def table(node):
    """The node's filled table (tests read it)."""
    node.data.opt_table.fill()
    return node.data.opt_table.array


# Same-shape inputs larger than this run in chunks of it: the index array then stays in cache
# (measured 1.30 -> 1.03 ms for a 128x128x32 ADD).
CHUNK = 1 << 15
# The index's type: the pair index x * 256 + y is below 2**16, so uint16 holds it; its passes move
# half the bytes of int32 ones and a quarter of intp's, and take reads it as fast (measured per 32K
# values: the multiply and the add 11.4 -> 7.1 us each, the lookup 55 either way; int32 had taken
# 1.16 -> 0.85 ms CPU for 512K values against intp).
INDEX = np.uint16


class _Buffers:
    def __init__(self, node, x, y, out):
        t = node.data.opt_table
        xb, yb = x.view(np.uint8), y.view(np.uint8)
        self.calls = [] if t.filled else [t.fill]
        flat = x.shape == y.shape == out.shape and all(a.flags.c_contiguous for a in (x, y, out))
        if flat and out.size > 2 * CHUNK:
            xb, yb, res = xb.reshape(-1), yb.reshape(-1), out.reshape(-1)
            self.idx = np.empty(CHUNK, INDEX)
            for a in range(0, out.size, CHUNK):
                b = min(out.size, a + CHUNK)
                idx = self.idx[:b - a]
                self.calls += [partial(np.multiply, xb[a:b], 256, out=idx, dtype=INDEX),
                               partial(np.add, idx, yb[a:b], out=idx),
                               partial(np.take, t.array, idx, out=res[a:b], mode="clip")]
            return
        self.idx = np.empty(out.shape, INDEX)
        self.calls += [partial(np.multiply, xb, 256, out=self.idx, dtype=INDEX),
                       partial(np.add, self.idx, yb, out=self.idx),
                       partial(np.take, t.array, self.idx, out=out, mode="clip")]


eval_table = calls_per_arrays("opt_table_bufs", lambda inputs, outputs: (inputs[0], inputs[1], outputs[0]),
                              lambda node, inputs, outputs: _Buffers(node, inputs[0], inputs[1], outputs[0]).calls,
                              "eval_table")
