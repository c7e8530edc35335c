"""LOGICAL_OR on bool tensors."""
import numpy as np

from ._logical import prepare_logical


def prepare(node):
    return prepare_logical(node, np.logical_or)
