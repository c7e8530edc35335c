"""SELECT_V2: elementwise condition ? x : y, all three broadcast together."""
import numpy as np

from . import _layout
from ._base import broadcast_shape


def prepare(node):
    cond, x, y = node.inputs
    node.expect_dtype(cond, np.bool_)
    _layout.movable(node, [x, y], dtypes=_layout.MOVABLE + _layout.WIDE + _layout.COMPLEX64)
    shape = broadcast_shape(broadcast_shape(cond.shape, x.shape, node), y.shape, node)
    node.outputs[0].shape = shape
    return eval_select


def eval_select(node, inputs, outputs):
    cond, x, y = inputs
    outputs[0][...] = np.where(cond, x, y)
