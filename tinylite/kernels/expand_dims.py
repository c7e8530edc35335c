"""EXPAND_DIMS: insert a size-1 dimension at the position given by the axis
input (negative counts from the end of the output shape)."""
from . import _layout


def prepare(node):
    x = node.inputs[0]
    rank = len(x.shape)
    values = _layout.ints(node, 1)
    if len(values) != 1:
        node.fail(f"axis input must hold one value, got {len(values)}")
    axis = values[0] + rank + 1 if values[0] < 0 else values[0]
    if not 0 <= axis <= rank:
        node.fail(f"axis {values[0]} is out of range for an input of rank {rank}")
    node.outputs[0].shape = x.shape[:axis] + (1,) + x.shape[axis:]
    if not _layout.movable(node, [x], dtypes=_layout.WITH_STRINGS + _layout.WIDE + _layout.COMPLEX):   # strings too, as in LiteRT
        return _layout.quantized_fallback(node)
    return _layout.eval_copy
