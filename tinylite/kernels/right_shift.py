"""RIGHT_SHIFT: x >> y elementwise with broadcasting (arithmetic for signed
types), int8, int16, int32, uint8, uint16, uint32; shifts are clamped to
[0, bits - 1] as LiteRT does."""
import numpy as np

from ._base import broadcast_shape

TYPES = (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *TYPES)
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    return eval_right_shift


def eval_right_shift(node, inputs, outputs):
    x, y = inputs
    bits = x.dtype.itemsize * 8
    shift = np.clip(y.astype(np.int64), 0, bits - 1).astype(x.dtype)
    np.right_shift(x, shift, out=outputs[0])
