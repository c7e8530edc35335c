"""RELU: max(x, 0), elementwise."""
import numpy as np

from ._activations import _prepare_relu_x
from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "relu")


def eval_float(node, inputs, outputs):
    np.maximum(inputs[0], np.float32(0), out=outputs[0])


# --- quantized ---

def prepare_quantized(node):
    return _prepare_relu_x(node, 0.0, None, (np.int8, np.uint8, np.int16))
