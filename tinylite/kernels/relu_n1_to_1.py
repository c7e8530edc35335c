"""RELU_N1_TO_1: min(max(x, -1), 1), elementwise."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "relu_n1_to_1")


def eval_float(node, inputs, outputs):
    np.clip(inputs[0], np.float32(-1), np.float32(1), out=outputs[0])
