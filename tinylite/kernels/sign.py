"""SIGN: -1, 0 or 1 by the sign of x (float32, float64, int32); NaN stays NaN."""
import numpy as np

from ._math_unary import prepare_ufunc


def prepare(node):
    return prepare_ufunc(node, np.sign, (np.float32, np.float64, np.int32))
