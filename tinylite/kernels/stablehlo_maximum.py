"""STABLEHLO_MAXIMUM: std::max(a, b), elementwise; see _stablehlo.py."""
from ._stablehlo import NUMERIC, prepare_elementwise, std_max


def prepare(node):
    return prepare_elementwise(node, std_max, NUMERIC)
