"""UNIDIRECTIONAL_SEQUENCE_LSTM: an LSTM run over the time axis of a
[batch, time, input] (or time-major [time, batch, input]) sequence, with its
output and cell states kept in variable tensors across invokes.

Float, hybrid (int8 weights, float activations) and integer (int8
activations, int16 cell state) as TFLite's lstm_eval defines them; see
_recurrent.py.  The optimized kernel for the plain float cell is
kernels/optimized/unidirectional_sequence_lstm.py.
"""
from __future__ import annotations

import numpy as np

from . import _integer_lstm, _recurrent
from ._base import op_data


@op_data
class OpData(_integer_lstm.IntegerLstmData):
    """What UNIDIRECTIONAL_SEQUENCE_LSTM's prepare computes for eval."""



FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    if len(node.inputs) not in (20, 24):
        node.fail(f"expected 20 or 24 inputs, got {len(node.inputs)}")
    x = node.inputs[0]
    if len(x.shape) != 3:
        node.fail(f"input must be 3-D, got shape {list(x.shape)}")
    time_major = bool(node.options.get("time_major", False))
    n_time, n_batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    if x.dtype != np.float32:
        return _integer_lstm.prepare_integer_lstm(node)
    cell = _recurrent.LstmCell(node, _recurrent.UNI_LSTM, x.shape[2])
    cell.check_states(n_batch)
    d.cell = cell
    d.time_major = time_major
    node.outputs[0].shape = tuple(x.shape[:2]) + (cell.n_output,)
    node.expect_dtype(node.outputs[0], np.float32)
    return eval_float


def eval_float(node, inputs, outputs):
    data = node.data
    cell = data.cell
    xs = _recurrent.time_major_view(inputs[0], data.time_major)
    out = _recurrent.time_major_view(outputs[0], data.time_major)
    n_batch = xs.shape[1]
    h = inputs[18].reshape(n_batch, cell.n_output)
    c = inputs[19].reshape(n_batch, cell.n_cell)
    for t in range(xs.shape[0]):
        out[t] = cell.step(xs[t], h, c)
