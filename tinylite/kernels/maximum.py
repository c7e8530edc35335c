"""MAXIMUM: elementwise max with broadcasting (x > y ? x : y)."""
import numpy as np

from ._binary import prepare_extremum


def prepare(node):
    return prepare_extremum(node, np.maximum)
