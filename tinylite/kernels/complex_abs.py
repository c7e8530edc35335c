"""COMPLEX_ABS: see _complex.py (np.abs of each element)."""
import numpy as np

from ._complex import prepare_complex_part


def prepare(node):
    return prepare_complex_part(node, np.abs)
