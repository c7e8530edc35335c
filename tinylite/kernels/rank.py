"""RANK: the number of dimensions of the input, as an int32 scalar."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RANK's prepare computes for eval."""

    rank: int = None

VALUE_FREE_INPUTS = (0,)


def prepare(node):
    d = node.draft(OpData)
    out = node.outputs[0]
    node.expect_dtype(out, np.int32)
    out.shape = ()
    d.rank = len(node.inputs[0].shape)
    return eval_rank


def eval_rank(node, inputs, outputs):
    outputs[0][...] = len(inputs[0].shape)
