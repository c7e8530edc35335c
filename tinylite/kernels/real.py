"""REAL: see _complex.py (np.real of each element)."""
import numpy as np

from ._complex import prepare_complex_part


def prepare(node):
    return prepare_complex_part(node, np.real)
