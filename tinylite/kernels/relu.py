"""RELU: max(x, 0), elementwise."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "relu")


def eval_float(node, inputs, outputs):
    np.maximum(inputs[0], np.float32(0), out=outputs[0])
