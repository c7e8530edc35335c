"""Optimized BIDIRECTIONAL_SEQUENCE_RNN: both directions as FastRnnSequence's
bound calls (float or hybrid, no aux weights), keeping LiteRT's loops as the
reference states them: time major, the backward direction walks the time
axis from its end (reading the aux input when stacking) and a hybrid op runs
the pair once per time step; batch major, each batch row is its own sequence."""
from __future__ import annotations

import numpy as np

from .. import bidirectional_sequence_rnn as reference
from . import register
from ._cached import calls_per_arrays
from ._sequence import FastRnnSequence, rnn_applies


def _applies(node, ref):
    data = node.data
    return ref is reference.eval_bidirectional_rnn and not data.aux_size and rnn_applies(data.fw) and \
        rnn_applies(data.bw)


@register("BIDIRECTIONAL_SEQUENCE_RNN", dtypes=(np.float32,), when=_applies)
def prepare_fast(node, reference_fn):
    return eval_bidirectional_rnn_fast


def _build(node, inputs, outputs):
    data = node.data
    fw, bw = FastRnnSequence(data.fw), FastRnnSequence(data.bw)
    tm = data.time_major
    x = inputs[0]
    steps, batch = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    y_fw, y_bw = ((outputs[0][..., :data.fw.units], outputs[0][..., data.fw.units:]) if data.merge
                  else (outputs[0], outputs[1]))
    h_fw, h_bw = inputs[4].reshape(batch, data.fw.units), inputs[8].reshape(batch, data.bw.units)
    if tm:
        calls = fw.calls(x, y_fw, h_fw, True)
        calls += bw.calls(inputs[9] if data.stacking else x, y_bw, h_bw, True, reverse=True)
        return calls * (steps if data.fw.hybrid else 1)
    calls = []
    for b in range(batch):
        rows = slice(b, b + 1)
        calls += fw.calls(x[rows], y_fw[rows], h_fw[rows], False)
        calls += bw.calls(x[rows], y_bw[rows], h_bw[rows], False, reverse=True)
    return calls


def _arrays(inputs, outputs):
    return inputs[0], inputs[9], *outputs, inputs[4], inputs[8]


eval_bidirectional_rnn_fast = calls_per_arrays("calls", _arrays, _build, "eval_bidirectional_rnn_fast")
