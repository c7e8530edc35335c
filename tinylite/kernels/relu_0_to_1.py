"""RELU_0_TO_1: min(max(x, 0), 1), elementwise; int8/uint8 clamp in the
quantized domain after requantizing, as LiteRT's QuantizedReluX."""
import numpy as np

from ._unary import QUANTIZED_TYPES, same_shape


def prepare(node):
    x = same_shape(node)
    if x.dtype == np.float32:
        return eval_float
    node.expect_dtype(x, np.float32, np.int8, np.uint8)
    from . import _quantized  # noqa: F401  (loads _quantized_elementwise in order)
    from ._quantized_elementwise import _prepare_relu_x

    return _prepare_relu_x(node, 0.0, 1.0, (np.int8, np.uint8))


def eval_float(node, inputs, outputs):
    np.clip(inputs[0], np.float32(0), np.float32(1), out=outputs[0])
