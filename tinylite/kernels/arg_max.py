"""ARG_MAX: index of the largest value along the axis input (the first one on ties)."""
from ._layout import prepare_arg


def prepare(node):
    return prepare_arg(node, largest=True)
