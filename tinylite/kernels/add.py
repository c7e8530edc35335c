"""ADD: x + y with broadcasting and a fused activation."""
import numpy as np

from ._binary import prepare_binary


def prepare(node):
    return prepare_binary(node, np.add)
