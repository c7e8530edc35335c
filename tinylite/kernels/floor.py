"""FLOOR: the largest integer not above x, elementwise (float32, float16)."""
import numpy as np

from ._math_unary import prepare_ufunc


def prepare(node):
    return prepare_ufunc(node, np.floor, (np.float32, np.float16))
