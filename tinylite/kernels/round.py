"""ROUND: to the nearest integer, ties to even (LiteRT's RoundToNearest), elementwise."""
import numpy as np

from ._math_unary import prepare_ufunc


def prepare(node):
    return prepare_ufunc(node, np.rint, (np.float32, np.float16))
