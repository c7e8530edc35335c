"""STABLEHLO_AND: a & b (logical and for bool), elementwise; see _stablehlo.py."""
import numpy as np

from ._stablehlo import NUMERIC, prepare_elementwise


def prepare(node):
    return prepare_elementwise(node, lambda a, b: np.logical_and(a, b) if a.dtype == np.bool_ else np.bitwise_and(a, b), (np.bool_,) + NUMERIC[3:])
