"""SPLIT: cut input 1 into `num_splits` equal parts along the axis in input 0."""
from . import _layout
from ._layout import eval_split


def prepare(node):
    x = node.inputs[1]
    node.axis = _layout.scalar_axis(node, 0, len(x.shape))
    num = node.options.get("num_splits", 0)
    if num != len(node.outputs):
        node.fail(f"num_splits is {num} but the op has {len(node.outputs)} outputs")
    size = x.shape[node.axis]
    if num <= 0 or size % num:
        node.fail(f"dimension {node.axis} of size {size} cannot be split into {num} equal parts")
    node.sizes = [size // num] * num
    for s in node.outputs:
        s.shape = x.shape[:node.axis] + (size // num,) + x.shape[node.axis + 1:]
    if not _layout.movable(node, [x]):
        return _layout.quantized_fallback(node)
    node.source = 1
    return eval_split
