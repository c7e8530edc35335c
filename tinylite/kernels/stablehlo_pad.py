"""STABLEHLO_PAD(operand, padding_value): per dimension, interior_padding
values between neighbours, then edge_padding_low/high before and after (a
negative edge padding crops).  Any fixed-width type; the padding value is a
scalar of the operand's type."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What STABLEHLO_PAD's prepare computes for eval."""

    pads: tuple = None

TYPES = (np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
         np.int64, np.uint64, np.bool_)


def prepare(node):
    od = node.draft(OpData)
    x, pad = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *TYPES)
    if pad.dtype != x.dtype or pad.size != 1:
        node.fail(f"the padding value must be one {x.dtype.name}, got {pad.dtype.name} of shape {list(pad.shape)}")
    rank = len(x.shape)
    o = node.options

    def field(name):
        v = o.get(name)
        v = [0] * rank if v is None else [int(a) for a in np.asarray(v).reshape(-1)]
        if len(v) != rank:
            node.fail(f"{name} has {len(v)} values for a rank-{rank} operand")
        return v

    lo, hi, interior = field("edge_padding_low"), field("edge_padding_high"), field("interior_padding")
    if min(interior, default=0) < 0:
        node.fail(f"interior_padding must not be negative, got {interior}")
    shape = []
    for d, a, b, i in zip(x.shape, lo, hi, interior):
        size = a + b + (d + (d - 1) * i if d else 0)
        if size < 0:
            node.fail(f"padding {a}, {b} crops more than the dimension's {d} elements")
        shape.append(size)
    od.pads = (lo, hi, interior)
    node.outputs[0].shape = tuple(shape)
    return eval_pad


def eval_pad(node, inputs, outputs):
    x, pad = inputs
    out = outputs[0]
    lo, hi, interior = node.data.pads
    # Lay the operand out with interior and non-negative edge padding, then crop negative edges.
    grown = [max(a, 0) + max(b, 0) + (d + (d - 1) * i if d else 0) for d, a, b, i in zip(x.shape, lo, hi, interior)]
    full = np.full(grown, pad.reshape(-1)[0], x.dtype)
    full[tuple(slice(max(a, 0), max(a, 0) + (d - 1) * (i + 1) + 1 if d else max(a, 0), i + 1)
               for d, a, i in zip(x.shape, lo, interior))] = x
    out[...] = full[tuple(slice(-min(a, 0), g + min(b, 0)) for a, b, g in zip(lo, hi, grown))]
