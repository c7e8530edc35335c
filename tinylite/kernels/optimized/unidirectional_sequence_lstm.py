"""Optimized UNIDIRECTIONAL_SEQUENCE_LSTM: the float cell with TANH activation
(any of CIFG, peepholes, layer norm, projection, clipping) over the whole
sequence as bound calls without per-step allocations, and every integer cell
(_integer_lstm.py, shared with LSTM)."""
from __future__ import annotations

import numpy as np

from .. import unidirectional_sequence_lstm as reference
from .._base import binds, op_data
from . import _integer_lstm, register
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


def _calls(node, inputs, outputs):
    arrays = (inputs[0], outputs[0], inputs[18], inputs[19])
    bound = node.cache.get("sequence")
    if bound is None or any(a is not b for a, b in zip(bound[0], arrays)):
        data = node.data
        n_batch = inputs[0].shape[1] if data.time_major else inputs[0].shape[0]
        seq = FastLstmSequence(data.cell)
        bound = node.cache["sequence"] = (arrays, seq.calls(
            inputs[0], outputs[0], inputs[18].reshape(n_batch, data.cell.n_output),
            inputs[19].reshape(n_batch, data.cell.n_cell), data.time_major))
    return bound[1]


def eval_float_fast(node, inputs, outputs):
    for call in _calls(node, inputs, outputs):
        call()


@binds(eval_float_fast)
def _bind(node, inputs, outputs):
    node.cache.pop("sequence", None)
    return list(_calls(node, inputs, outputs))
