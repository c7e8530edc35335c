"""Optimized LSTM (one step, the FULL kernel type): every integer cell
(_integer_lstm.py, shared with UNIDIRECTIONAL_SEQUENCE_LSTM), and the float
and hybrid cells with TANH as the sequence kernel's bound calls on a one-step
sequence (unidirectional_sequence_lstm.FastLstmSequence)."""
from __future__ import annotations

import numpy as np

from .. import lstm as reference
from .._base import op_data
from . import _integer_lstm, register
from ._cached import calls_per_arrays
from ._sequence import FastLstmSequence


@op_data
class OpData(reference.OpData, _integer_lstm.FastCellData):
    """The reference LSTM's op data and the fast cell."""


@register("LSTM", dtypes=(np.int8,), when=_integer_lstm.applies)
def prepare_integer(node, reference_fn):
    return _integer_lstm.prepare_fast(node)


@register("LSTM", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_lstm and FastLstmSequence.applies(node.data.cell))
def prepare_float(node, reference_fn):
    return eval_lstm_fast


def _arrays(inputs, outputs):
    return inputs[0], outputs[-1], inputs[18], inputs[19]


def _build(node, inputs, outputs):
    cell = node.data.cell
    n_batch = inputs[0].shape[0]
    return FastLstmSequence(cell).calls(inputs[0][None], outputs[-1][None], inputs[18].reshape(n_batch, cell.n_output),
                                        inputs[19].reshape(n_batch, cell.n_cell), True)


eval_lstm_fast = calls_per_arrays("sequence", _arrays, _build, "eval_lstm_fast")
