"""SUB: x - y with broadcasting and a fused activation."""
import numpy as np

from ._binary import prepare_add_sub, prepare_arithmetic


def prepare(node):
    return prepare_arithmetic(node, np.subtract, (np.float32, np.int32, np.int64))


def prepare_quantized(node):
    return prepare_add_sub(node)
