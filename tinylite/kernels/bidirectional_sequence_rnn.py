"""BIDIRECTIONAL_SEQUENCE_RNN: a forward basic RNN over the time axis and a
backward one over the reversed sequence (inputs 1-4 and 5-8: weights,
recurrent weights, bias, variable hidden state each), float32 weights (hybrid
int8 weights are refused for now).  With merge_outputs the two outputs are
concatenated along the last axis (one output tensor), else they are two.
The auxiliary input (inputs 9-11) is not supported."""
from __future__ import annotations

import numpy as np

from . import _recurrent
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What BIDIRECTIONAL_SEQUENCE_RNN's prepare computes for eval."""

    fw: _recurrent.RnnCell = None
    bw: _recurrent.RnnCell = None
    time_major: bool = None
    merge: bool = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) != 3:
        node.fail(f"input must be 3-D, got shape {list(x.shape)}")
    node.expect_dtype(x, np.float32)
    if any(node.has_input(i) for i in (9, 10, 11)):
        from ..errors import UnsupportedOpError

        raise UnsupportedOpError(f"{node.op_name} (node {node.index}): the auxiliary input is not supported by "
                                 "tinylite; LiteRT runs it")
    time_major = bool(node.options.get("time_major", False))
    n_batch = x.shape[1] if time_major else x.shape[0]
    if node.inputs[1].dtype != np.float32 or node.inputs[5].dtype != np.float32:
        from ..errors import UnsupportedOpError

        raise UnsupportedOpError(f"{node.op_name} (node {node.index}): hybrid (int8) weights are not supported by "
                                 "tinylite yet; LiteRT runs them")
    d.fw = _recurrent.RnnCell(node, x.shape[2], n_batch, w=1, r=2, b=3, h=4)
    d.bw = _recurrent.RnnCell(node, x.shape[2], n_batch, w=5, r=6, b=7, h=8)
    d.time_major = time_major
    d.merge = bool(node.options.get("merge_outputs", False))
    lead = tuple(x.shape[:2])
    if d.merge:
        node.outputs[0].shape = lead + (d.fw.units + d.bw.units,)
    else:
        if len(node.outputs) < 2:
            node.fail("without merge_outputs the op needs a forward and a backward output")
        node.outputs[0].shape = lead + (d.fw.units,)
        node.outputs[1].shape = lead + (d.bw.units,)
    return eval_bidirectional_rnn


def eval_bidirectional_rnn(node, inputs, outputs):
    data = node.data
    xs = _recurrent.time_major_view(inputs[0], data.time_major)
    steps, batch = xs.shape[0], xs.shape[1]
    fw_out = np.empty((steps, batch, data.fw.units), np.float32)
    bw_out = np.empty((steps, batch, data.bw.units), np.float32)
    h_fw = inputs[4].reshape(batch, data.fw.units)
    h_bw = inputs[8].reshape(batch, data.bw.units)
    for t in range(steps):
        fw_out[t] = data.fw.step(xs[t], h_fw)
    for t in range(steps - 1, -1, -1):
        bw_out[t] = data.bw.step(xs[t], h_bw)
    if data.merge:
        merged = np.concatenate([fw_out, bw_out], axis=-1)
        _recurrent.time_major_view(outputs[0], data.time_major)[...] = merged
    else:
        _recurrent.time_major_view(outputs[0], data.time_major)[...] = fw_out
        _recurrent.time_major_view(outputs[1], data.time_major)[...] = bw_out
