"""ONE_HOT: on_value where the index equals the position along a new `axis` of
length `depth`, off_value elsewhere (indices out of [0, depth) give all off)."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What ONE_HOT's prepare computes for eval."""

    axis: int = None
    depth: int = None


def prepare(node):
    d = node.draft(OpData)
    idx, depth_in, on, off = node.inputs
    node.expect_dtype(idx, np.int32, np.int64)
    node.expect_dtype(depth_in, np.int32)
    _layout.movable(node, [on, off], dtypes=(np.float32, np.int32, np.int64, np.int8, np.uint8, np.bool_))
    if on.size != 1 or off.size != 1:
        node.fail("on_value and off_value must be scalars")
    depth = _layout.ints(node, 1)
    if len(depth) != 1 or depth[0] < 0:
        node.fail(f"depth must be a non-negative scalar, got {depth}")
    rank = len(idx.shape) + 1
    axis = node.options.get("axis", -1)
    if axis < -1 or axis >= rank:
        node.fail(f"axis {axis} is out of range for output rank {rank}")
    d.axis = rank - 1 if axis == -1 else normalize_axis(axis, rank, node)
    d.depth = depth[0]
    node.outputs[0].shape = tuple(idx.shape[:d.axis]) + (d.depth,) + tuple(idx.shape[d.axis:])
    return eval_one_hot


def eval_one_hot(node, inputs, outputs):
    data = node.data
    idx, _, on, off = inputs
    positions = np.arange(data.depth).reshape((-1,) + (1,) * (idx.ndim - data.axis))
    hot = np.expand_dims(idx, data.axis) == positions
    outputs[0][...] = np.where(hot, on.reshape(()), off.reshape(()))
