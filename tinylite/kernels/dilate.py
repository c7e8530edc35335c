"""DILATE(input, dilations, padding_value): the input's elements spread apart
by `dilations` (int32, one per dimension, >= 1) with padding_value between
them; each dimension d becomes (d - 1) * dilation + 1."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What DILATE's prepare computes for eval."""

    dil: list = None

TYPES = (np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
         np.int64, np.uint64, np.bool_)


def prepare(node):
    od = node.draft(OpData)
    x, dil, pad = node.inputs[0], node.inputs[1], node.inputs[2]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(dil, np.int32)
    if pad.dtype != x.dtype or node.outputs[0].dtype != x.dtype:
        node.fail(f"padding value and output must have the input's type {x.dtype.name}")
    if len(x.shape) == 0 or tuple(dil.shape) != (len(x.shape),):
        node.fail(f"dilations must hold one value per input dimension ({len(x.shape)}), got shape "
                  f"{list(dil.shape)}")
    d = [int(v) for v in np.asarray(node.value(1)).reshape(-1)]
    if min(d) < 1:
        node.fail(f"dilations must be >= 1, got {d}")
    od.dil = d
    node.outputs[0].shape = tuple((s - 1) * k + 1 if s else 0 for s, k in zip(x.shape, d))
    return eval_dilate


def eval_dilate(node, inputs, outputs):
    x, _, pad = inputs
    out = outputs[0]
    out.fill(pad.reshape(-1)[0])
    out[tuple(slice(None, None, k) for k in node.data.dil)] = x
