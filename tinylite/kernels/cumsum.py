"""CUMSUM: running sums along `axis` (input 1); `exclusive` leaves each
element out of its own sum, `reverse` sums from the end."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What CUMSUM's prepare computes for eval."""

    axis: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(x, np.float32, np.int32, np.int64)
    axis = _layout.ints(node, 1)
    if len(axis) != 1:
        node.fail(f"axis must be a scalar, got {axis}")
    d.axis = normalize_axis(axis[0], len(x.shape), node)
    node.outputs[0].shape = tuple(x.shape)
    return eval_cumsum


def eval_cumsum(node, inputs, outputs):
    x, axis, out = inputs[0], node.data.axis, outputs[0]
    if node.options.get("reverse"):
        x = np.flip(x, axis)
        out = np.flip(out, axis)
    np.cumsum(x, axis=axis, out=out)
    if node.options.get("exclusive"):
        # Shift by one along the axis: out[k] = sum of x[:k].
        src = np.moveaxis(out, axis, 0)
        src[1:] = src[:-1].copy()
        src[:1] = 0
