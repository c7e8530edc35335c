"""SELECT: condition ? x : y on equal shapes; a 1-D condition picks whole rows
of x or y (the first dimension), as tf.where v1 does."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SELECT's prepare computes for eval."""

    rows: bool = None


def prepare(node):
    d = node.draft(OpData)
    cond, x, y = node.inputs
    node.expect_dtype(cond, np.bool_)
    _layout.movable(node, [x, y])
    if tuple(x.shape) != tuple(y.shape):
        node.fail(f"x {list(x.shape)} and y {list(y.shape)} must have the same shape")
    d.rows = False
    if tuple(cond.shape) != tuple(x.shape):
        if len(cond.shape) == 1 and len(x.shape) >= 1 and cond.shape[0] == x.shape[0]:
            d.rows = True
        elif cond.size == 1 and len(x.shape) <= 1:
            pass
        else:
            node.fail(f"condition of shape {list(cond.shape)} must match x {list(x.shape)} or be a vector "
                      "over its first dimension")
    node.outputs[0].shape = tuple(x.shape)
    return eval_select


def eval_select(node, inputs, outputs):
    cond, x, y = inputs
    if node.data.rows:
        cond = cond.reshape(cond.shape + (1,) * (x.ndim - 1))
    outputs[0][...] = np.where(cond, x, y)
