"""RELU_0_TO_1: min(max(x, 0), 1), elementwise; int8/uint8 clamp in the
quantized domain after requantizing, as LiteRT's QuantizedReluX."""
import numpy as np

from ._activations import _prepare_relu_x
from ._unary import same_shape


def prepare(node):
    x = same_shape(node)
    if x.dtype == np.float32:
        return eval_float
    node.expect_dtype(x, np.float32, np.int8, np.uint8)
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    np.clip(inputs[0], np.float32(0), np.float32(1), out=outputs[0])


# --- quantized ---

def prepare_quantized(node):
    return _prepare_relu_x(node, 0.0, 1.0, (np.int8, np.uint8))
