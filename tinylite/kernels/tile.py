"""TILE: repeat the input `multiples[i]` times along each dimension i."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What TILE's prepare computes for eval."""

    reps: tuple = None


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(node.inputs[1], np.int32, np.int64)
    reps = _layout.ints(node, 1)
    if len(reps) != len(x.shape):
        node.fail(f"multiples has {len(reps)} entries for an input of rank {len(x.shape)}")
    if any(r < 0 for r in reps):
        node.fail(f"multiples must be non-negative, got {reps}")
    od.reps = tuple(reps)
    node.outputs[0].shape = tuple(d * r for d, r in zip(x.shape, reps))
    if not _layout.movable(node, [x], dtypes=_layout.WITH_STRINGS + _layout.WIDE + _layout.COMPLEX64):   # strings too, as in LiteRT
        return _layout.quantized_fallback(node)
    return eval_tile


def eval_tile(node, inputs, outputs):
    np.copyto(outputs[0], np.tile(inputs[0], node.data.reps))
