"""STABLEHLO_ADD: a + b, elementwise; see _stablehlo.py."""
import numpy as np

from ._stablehlo import NUMERIC, prepare_elementwise


def prepare(node):
    return prepare_elementwise(node, np.add, NUMERIC)
