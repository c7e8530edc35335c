"""SLICE: the block starting at `begin` of extent `size` (-1: to the end)."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SLICE's prepare computes for eval."""

    slices: tuple = None


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    begin, size = _layout.ints(node, 1), _layout.ints(node, 2)
    if not len(begin) == len(size) == len(x.shape):
        node.fail(f"begin ({len(begin)}) and size ({len(size)}) must both have one entry per "
                  f"dimension of {list(x.shape)}")
    index = []
    for b, n, d in zip(begin, size, x.shape):
        e = d if n == -1 else b + n
        if b < 0 or n < -1 or not b <= e <= d:
            node.fail(f"begin {begin} and size {size} do not fit in shape {list(x.shape)}")
        index.append(slice(b, e))
    od.slices = tuple(index)
    node.outputs[0].shape = tuple(s.stop - s.start for s in index)
    if not _layout.movable(node, [x], dtypes=_layout.WITH_STRINGS + _layout.WIDE + _layout.COMPLEX64):   # strings too, as in LiteRT
        return _layout.quantized_fallback(node)
    return eval_slice


def eval_slice(node, inputs, outputs):
    np.copyto(outputs[0], inputs[0][node.data.slices])
