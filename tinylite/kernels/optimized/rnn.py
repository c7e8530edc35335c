"""Optimized RNN (one basic RNN step): the sequence kernel of
optimized/unidirectional_sequence_rnn.py on a one-step sequence."""
from __future__ import annotations

import numpy as np

from .. import rnn as reference
from . import register
from ._cached import calls_per_arrays
from ._sequence import rnn_applies, rnn_arrays, rnn_calls


@register("RNN", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_rnn and rnn_applies(node.data.rnn))
def prepare_fast(node, reference_fn):
    return eval_rnn_fast


def _build(node, inputs, outputs):
    return rnn_calls(node, inputs, inputs[0][None], outputs[-1][None], True)


eval_rnn_fast = calls_per_arrays("sequence", rnn_arrays, _build, "eval_rnn_fast")
