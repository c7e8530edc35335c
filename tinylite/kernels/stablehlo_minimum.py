"""STABLEHLO_MINIMUM: std::min(a, b), elementwise; see _stablehlo.py."""
from ._stablehlo import NUMERIC, prepare_elementwise, std_min


def prepare(node):
    return prepare_elementwise(node, std_min, NUMERIC)
