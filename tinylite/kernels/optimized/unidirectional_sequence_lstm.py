"""Optimized UNIDIRECTIONAL_SEQUENCE_LSTM: the float cell with TANH activation
(any of CIFG, peepholes, layer norm, projection, clipping) over the whole
sequence as bound calls without per-step allocations, and every integer cell
(_integer_lstm.py, shared with LSTM)."""
from __future__ import annotations

import numpy as np

from .. import unidirectional_sequence_lstm as reference
from .._base import op_data
from . import _integer_lstm, register
from ._cached import calls_per_arrays
from ._sequence import FastLstmSequence


@op_data
class OpData(reference.OpData, _integer_lstm.FastCellData):
    """The reference UNIDIRECTIONAL_SEQUENCE_LSTM's op data and the fast cell."""


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", dtypes=(np.int8,), when=_integer_lstm.applies)
def prepare_integer(node, reference_fn):
    return _integer_lstm.prepare_fast(node)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_float and FastLstmSequence.applies(node.data.cell))
def prepare_fast(node, reference_fn):
    return eval_float_fast


def _arrays(inputs, outputs):
    return inputs[0], outputs[0], inputs[18], inputs[19]


def _build(node, inputs, outputs):
    data = node.data
    n_batch = inputs[0].shape[1] if data.time_major else inputs[0].shape[0]
    return FastLstmSequence(data.cell).calls(inputs[0], outputs[0], inputs[18].reshape(n_batch, data.cell.n_output),
                                             inputs[19].reshape(n_batch, data.cell.n_cell), data.time_major)


eval_float_fast = calls_per_arrays("sequence", _arrays, _build, "eval_float_fast")
