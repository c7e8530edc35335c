"""CEIL: the smallest integer not below x, elementwise (float32)."""
import numpy as np

from ._math_unary import prepare_ufunc


def prepare(node):
    return prepare_ufunc(node, np.ceil, (np.float32,))
