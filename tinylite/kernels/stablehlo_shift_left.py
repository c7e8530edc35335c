"""STABLEHLO_SHIFT_LEFT: a << b, elementwise; see _stablehlo.py."""
import numpy as np

from ._stablehlo import prepare_elementwise


def prepare(node):
    return prepare_elementwise(node, lambda a, b: np.left_shift(a, b), (np.int8, np.int16, np.int32))
