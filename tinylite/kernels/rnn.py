"""RNN: one basic RNN step h = act(W x + R h + b) on a [batch, input] tensor;
h is the variable tensor of input 4 and the op's output; see _recurrent.py."""
from __future__ import annotations

import numpy as np

from . import _recurrent
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RNN's prepare computes for eval."""

    rnn: _recurrent.RnnCell = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) != 2:
        node.fail(f"input must be 2-D [batch, input], got shape {list(x.shape)}")
    node.expect_dtype(x, np.float32)
    d.rnn = _recurrent.RnnCell(node, x.shape[1], x.shape[0], w=1, r=2, b=3, h=4)
    node.outputs[-1].shape = (x.shape[0], d.rnn.units)
    return eval_rnn


def eval_rnn(node, inputs, outputs):
    data = node.data
    h = inputs[4].reshape(inputs[0].shape[0], data.rnn.units)
    outputs[-1][...] = data.rnn.step(inputs[0], h)
