"""NOT_EQUAL: elementwise comparison with broadcasting; a bool tensor."""
import numpy as np

from ._compare import prepare_compare


def prepare(node):
    return prepare_compare(node, np.not_equal, strings=True)
