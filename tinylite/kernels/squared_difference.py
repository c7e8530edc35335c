"""SQUARED_DIFFERENCE: (x - y)^2 with broadcasting; float32 or (wrapping) int32."""
import numpy as np

from ._base import broadcast_shape
from ._unary import QUANTIZED_TYPES


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    if x.dtype in [np.dtype(t) for t in QUANTIZED_TYPES]:
        from . import _quantized

        return _quantized.prepare_squared_difference(node)
    node.expect_dtype(x, np.float32, np.int32)
    return eval_squared_difference


def eval_squared_difference(node, inputs, outputs):
    out = outputs[0]
    np.subtract(inputs[0], inputs[1], out=out)
    np.multiply(out, out, out=out)
