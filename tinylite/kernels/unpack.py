"""UNPACK: split a tensor into its `num` slices along `axis`, dropping that axis."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What UNPACK's prepare computes for eval."""

    axis: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) == 0:
        node.fail("cannot unpack a scalar")
    d.axis = normalize_axis(node.options.get("axis", 0), len(x.shape), node)
    count = x.shape[d.axis]
    num = node.options.get("num", 0)
    if num != count or len(node.outputs) != count:
        node.fail(f"dimension {d.axis} of {list(x.shape)} has {count} slices; num is {num} "
                  f"and the op has {len(node.outputs)} outputs")
    shape = x.shape[:d.axis] + x.shape[d.axis + 1:]
    for s in node.outputs:
        s.shape = shape
    if not _layout.movable(node, [x]):
        return _layout.quantized_fallback(node)
    return eval_unpack


def eval_unpack(node, inputs, outputs):
    for i, out in enumerate(outputs):
        np.copyto(out, np.take(inputs[0], i, axis=node.data.axis))
