"""SUB: x - y with broadcasting and a fused activation."""
import numpy as np

from ._unary import prepare_arithmetic


def prepare(node):
    return prepare_arithmetic(node, np.subtract, (np.float32, np.int32, np.int64))
