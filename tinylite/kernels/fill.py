"""FILL: a tensor of the shape in input 0, every element the scalar input 1."""
import numpy as np

from . import _layout


def prepare(node):
    dims, value, out = node.inputs[0], node.inputs[1], node.outputs[0]
    if len(dims.shape) != 1:
        node.fail(f"dims must be a vector, got shape {list(dims.shape)}")
    node.expect_dtype(dims, np.int32, np.int64)
    if len(value.shape) != 0:
        node.fail(f"value must be a scalar, got shape {list(value.shape)}")
    shape = tuple(_layout.ints(node, 0))
    if any(d < 0 for d in shape):
        node.fail(f"dims must be non-negative, got {list(shape)}")
    out.shape = shape
    if not _layout.movable(node, [value], dtypes=_layout.WITH_STRINGS + _layout.WIDE + _layout.COMPLEX64):   # strings too, as in LiteRT
        return _layout.quantized_fallback(node)
    return eval_fill


def eval_fill(node, inputs, outputs):
    outputs[0][...] = inputs[1]
