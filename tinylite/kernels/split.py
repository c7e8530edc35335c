"""SPLIT: cut input 1 into `num_splits` equal parts along the axis in input 0."""
from __future__ import annotations

from . import _layout
from ._layout import eval_split
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SPLIT's prepare computes for eval."""

    axis: int = None
    sizes: list = None
    source: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[1]
    d.axis = _layout.scalar_axis(node, 0, len(x.shape))
    num = node.options.get("num_splits", 0)
    if num != len(node.outputs):
        node.fail(f"num_splits is {num} but the op has {len(node.outputs)} outputs")
    size = x.shape[d.axis]
    if num <= 0 or size % num:
        node.fail(f"dimension {d.axis} of size {size} cannot be split into {num} equal parts")
    d.sizes = [size // num] * num
    for s in node.outputs:
        s.shape = x.shape[:d.axis] + (size // num,) + x.shape[d.axis + 1:]
    if not _layout.movable(node, [x]):
        return _layout.quantized_fallback(node)
    d.source = 1
    return eval_split
