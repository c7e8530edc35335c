"""LSTM: one LSTM step on a [batch, input] tensor (the FULL kernel type), its
output and cell states kept in variable tensors; see _recurrent.py."""
from __future__ import annotations

import numpy as np

from . import _integer_lstm, _recurrent
from ._base import op_data


@op_data
class OpData(_integer_lstm.IntegerLstmData):
    """What LSTM's prepare computes for eval."""



FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    if node.options.get("kernel_type", 0) != 0:
        from ..errors import UnsupportedOpError

        raise UnsupportedOpError(f"LSTM (node {node.index}): the BASIC kernel type is not supported by tinylite; "
                                 "only FULL is")
    if len(node.inputs) not in (20, 24):
        node.fail(f"expected 20 or 24 inputs, got {len(node.inputs)}")
    x = node.inputs[0]
    if len(x.shape) != 2:
        node.fail(f"input must be 2-D [batch, input], got shape {list(x.shape)}")
    if x.dtype != np.float32:
        return _integer_lstm.prepare_integer_lstm(node)
    cell = _recurrent.LstmCell(node, _recurrent.UNI_LSTM, x.shape[1])
    cell.check_states(x.shape[0])
    d.cell = cell
    node.outputs[-1].shape = (x.shape[0], cell.n_output)
    for s in node.outputs[:-1]:
        s.shape = tuple(s.shape) if s.shape is not None else (0,)
    return eval_lstm


def eval_lstm(node, inputs, outputs):
    cell = node.data.cell
    n_batch = inputs[0].shape[0]
    h = inputs[18].reshape(n_batch, cell.n_output)
    c = inputs[19].reshape(n_batch, cell.n_cell)
    outputs[-1][...] = cell.step(inputs[0], h, c)
