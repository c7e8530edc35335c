"""UNIDIRECTIONAL_SEQUENCE_RNN: h_t = act(W x_t + R h_{t-1} + b) over the time
axis, h kept in a variable tensor (input 4) across invokes; float and hybrid
(int8 weights)."""
from __future__ import annotations

import numpy as np

from . import _recurrent
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What UNIDIRECTIONAL_SEQUENCE_RNN's prepare computes for eval."""

    rnn: _recurrent.RnnCell = None
    time_major: bool = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) != 3:
        node.fail(f"input must be 3-D, got shape {list(x.shape)}")
    node.expect_dtype(x, np.float32)
    time_major = bool(node.options.get("time_major", False))
    n_batch = x.shape[1] if time_major else x.shape[0]
    d.rnn = _recurrent.RnnCell(node, x.shape[2], n_batch, w=1, r=2, b=3, h=4)
    d.time_major = time_major
    node.outputs[0].shape = tuple(x.shape[:2]) + (d.rnn.units,)
    return eval_rnn


def eval_rnn(node, inputs, outputs):
    data = node.data
    rnn = data.rnn
    xs = _recurrent.time_major_view(inputs[0], data.time_major)
    out = _recurrent.time_major_view(outputs[0], data.time_major)
    h = inputs[4].reshape(xs.shape[1], rnn.units)
    for t in range(xs.shape[0]):
        out[t] = rnn.step(xs[t], h)
