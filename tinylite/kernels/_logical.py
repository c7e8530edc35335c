"""Boolean ops: LOGICAL_AND / LOGICAL_OR (broadcasting) and LOGICAL_NOT."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import broadcast_shape, op_data, OpDataBase


@op_data
class LogicalData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    ufunc: Callable = None


def prepare_logical(node, ufunc):
    d = node.draft(LogicalData)
    for s in node.inputs:
        node.expect_dtype(s, np.bool_)
    if len(node.inputs) == 2:
        node.outputs[0].shape = broadcast_shape(node.inputs[0].shape, node.inputs[1].shape, node)
    else:
        node.outputs[0].shape = node.inputs[0].shape
    d.ufunc = ufunc
    return eval_logical


def eval_logical(node, inputs, outputs):
    node.data.ufunc(*inputs, out=outputs[0])
