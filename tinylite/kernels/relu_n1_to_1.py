"""RELU_N1_TO_1: min(max(x, -1), 1), elementwise."""
import numpy as np

from ._activations import _prepare_relu_x
from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "relu_n1_to_1")


def eval_float(node, inputs, outputs):
    np.clip(inputs[0], np.float32(-1), np.float32(1), out=outputs[0])


# --- quantized ---

def prepare_quantized(node):
    # LiteRT's RELU_N1_TO_1 has no int16 kernel.
    return _prepare_relu_x(node, -1.0, 1.0, (np.int8, np.uint8))
