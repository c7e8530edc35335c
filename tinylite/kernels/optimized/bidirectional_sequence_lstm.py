"""Optimized BIDIRECTIONAL_SEQUENCE_LSTM: both directions as the bound calls of
optimized/unidirectional_sequence_lstm.py's FastLstmSequence (float or hybrid
cells with TANH), the backward one walking the time axis from its end, for
layers whose cells take no auxiliary input (aux_input read by the backward
cell instead of the input is fine)."""
from __future__ import annotations

import numpy as np

from .. import bidirectional_sequence_lstm as reference
from . import register
from ._cached import calls_per_arrays
from ._sequence import FastLstmSequence


def _applies(node, ref):
    data = node.data
    return ref is reference.eval_bidi and not data.aux_into_cells and all(
        FastLstmSequence.applies(cell) for cell in data.cells)


@register("BIDIRECTIONAL_SEQUENCE_LSTM", dtypes=(np.float32,), when=_applies)
def prepare_fast(node, reference_fn):
    return eval_bidi_fast


def _arrays(inputs, outputs):
    return inputs[0], inputs[39], *outputs, *(inputs[i] for i in (35, 36, 37, 38))


def _build(node, inputs, outputs):
    data = node.data
    fw, bw = data.cells
    tm = data.walk_time_major
    x = inputs[0]
    n_batch = x.shape[1] if tm else x.shape[0]
    y_fw, y_bw = ((outputs[0][..., :fw.n_output], outputs[0][..., fw.n_output:]) if data.merge
                  else (outputs[0], outputs[1]))
    calls = FastLstmSequence(fw).calls(x, y_fw, inputs[35].reshape(n_batch, fw.n_output),
                                       inputs[36].reshape(n_batch, fw.n_cell), tm)
    return calls + FastLstmSequence(bw).calls(inputs[39] if data.bw_reads_aux else x, y_bw,
                                              inputs[37].reshape(n_batch, bw.n_output),
                                              inputs[38].reshape(n_batch, bw.n_cell), tm, reverse=True)


eval_bidi_fast = calls_per_arrays("sequence", _arrays, _build, "eval_bidi_fast")
