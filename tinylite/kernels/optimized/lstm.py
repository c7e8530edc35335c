"""Optimized LSTM (one step, the FULL kernel type): every integer cell
(_integer_lstm.py, shared with UNIDIRECTIONAL_SEQUENCE_LSTM), and the float
and hybrid cells with TANH as the sequence kernel's bound calls on a one-step
sequence (unidirectional_sequence_lstm.FastLstmSequence)."""
from __future__ import annotations

import numpy as np

from .. import lstm as reference
from .._base import binds, op_data
from . import _integer_lstm, register
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


def _calls(node, inputs, outputs):
    arrays = (inputs[0], outputs[-1], inputs[18], inputs[19])
    bound = node.cache.get("sequence")
    if bound is None or any(a is not b for a, b in zip(bound[0], arrays)):
        cell = node.data.cell
        n_batch = inputs[0].shape[0]
        bound = node.cache["sequence"] = (arrays, FastLstmSequence(cell).calls(
            inputs[0][None], outputs[-1][None], inputs[18].reshape(n_batch, cell.n_output),
            inputs[19].reshape(n_batch, cell.n_cell), True))
    return bound[1]


def eval_lstm_fast(node, inputs, outputs):
    for call in _calls(node, inputs, outputs):
        call()


@binds(eval_lstm_fast)
def _bind(node, inputs, outputs):
    node.cache.pop("sequence", None)
    return list(_calls(node, inputs, outputs))
