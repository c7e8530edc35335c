"""STABLEHLO_SHIFT_LEFT: a << b, elementwise; see _stablehlo.py."""
import numpy as np

from ._stablehlo import NUMERIC, prepare_elementwise, std_max, std_min  # noqa: F401


def prepare(node):
    return prepare_elementwise(node, lambda a, b: np.left_shift(a, b), (np.int8, np.int16, np.int32))
