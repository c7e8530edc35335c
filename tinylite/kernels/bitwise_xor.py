"""BITWISE_XOR: x ^ y elementwise with broadcasting (int8, int16, int32,
uint8, uint16, uint32)."""
import numpy as np

from ._base import broadcast_shape

TYPES = (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *TYPES)
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    return eval_xor


def eval_xor(node, inputs, outputs):
    np.bitwise_xor(inputs[0], inputs[1], out=outputs[0])
