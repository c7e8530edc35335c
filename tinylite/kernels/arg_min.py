"""ARG_MIN: index of the smallest value along the axis input (the first one on ties)."""
from ._layout import prepare_arg


def prepare(node):
    return prepare_arg(node, largest=False)
