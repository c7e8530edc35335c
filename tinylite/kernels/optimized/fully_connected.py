"""FULLY_CONNECTED, int8 and uint8 (constant weights): the input cast to float
beside a ones column, one exact float BLAS product with the weights and the
folded bias (see conv_2d.GemmConv), and the requantization (see _requantize),
as a handful of bound calls: at batch 1 the reference kernel's float64
temporaries and fixed-point passes cost ten times the product itself."""
from __future__ import annotations

from functools import partial

import numpy as np

from .._base import binds
from ._requantize import Requantizer
from .conv_2d import TILE_ELEMENTS, GemmConv


def plan(node):
    from . import ENABLED

    x, w = node.inputs[0], node.inputs[1]
    if not ENABLED or x.dtype not in (np.int8, np.uint8) or w.data is None or w.data.ndim != 2:
        return None
    if node.q_mode not in ("ruy", "gemmlowp"):
        return None
    if GemmConv.plan(node, w.data.T, node.q_wzp, node.q_mode == "gemmlowp") is None:
        return None
    return eval_int


class _Buffers:
    def __init__(self, node, x, out):
        p = node.opt_conv
        units = p["wmat"].shape[1]
        depth = p["wmat"].shape[0] - 1
        rows = x.size // depth
        self.x, self.out = x, out
        xb = np.empty((rows, depth + 1), p["dtype"])
        xb[:, depth] = 1
        acc = np.empty((rows, units), p["dtype"])
        tile = rows if rows * units <= TILE_ELEMENTS else 1
        shape = (rows // tile, tile * units)
        t = np.empty(shape, np.int64)
        mask = np.empty(shape, bool)
        rq = Requantizer(node.q_mult, node.q_shift, p["gemmlowp"], node.q_out_zp, node.q_lo, node.q_hi, p["bound"],
                         tile=tile)
        self.calls = [partial(np.copyto, xb[:, :depth], x.reshape(rows, depth), casting="unsafe"),
                      partial(np.dot, xb, p["wmat"], out=acc)]
        self.calls += rq.calls(acc.reshape(shape), t, out.reshape(shape), mask)


def eval_int(node, inputs, outputs):
    fb = getattr(node, "opt_fc_bufs", None)
    if fb is None or fb.x is not inputs[0] or fb.out is not outputs[0]:
        fb = node.opt_fc_bufs = _Buffers(node, inputs[0], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_int)
def _bind(node, inputs, outputs):
    node.opt_fc_bufs = _Buffers(node, inputs[0], outputs[0])
    return list(node.opt_fc_bufs.calls)
