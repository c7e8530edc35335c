"""UNSORTED_SEGMENT_PROD: see _unsorted_segment.py."""
import numpy as np

from ._unsorted_segment import prepare_unsorted_segment


def prepare(node):
    return prepare_unsorted_segment(node, np.multiply, 1)
