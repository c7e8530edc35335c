"""REVERSE_V2: reverse the input along the axes listed in the second input."""
from __future__ import annotations

import numpy as np

from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What REVERSE_V2's prepare computes for eval."""

    axes: tuple = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    axes = np.asarray(node.value(1)).reshape(-1)
    d.axes = tuple(sorted({normalize_axis(a, len(x.shape), node) for a in axes}))
    node.outputs[0].shape = x.shape
    return eval_reverse


def eval_reverse(node, inputs, outputs):
    np.copyto(outputs[0], np.flip(inputs[0], axis=node.data.axes))
