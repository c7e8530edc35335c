"""STABLEHLO_MULTIPLY: a * b, elementwise; see _stablehlo.py."""
import numpy as np

from ._stablehlo import NUMERIC, prepare_elementwise, std_max, std_min  # noqa: F401


def prepare(node):
    return prepare_elementwise(node, np.multiply, NUMERIC)
