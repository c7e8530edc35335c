"""Optimized RNN (one basic RNN step): the sequence kernel of
optimized/unidirectional_sequence_rnn.py on a one-step sequence."""
from __future__ import annotations

import numpy as np

from .. import rnn as reference
from .._base import binds
from . import register
from ._sequence import rnn_applies, rnn_calls


@register("RNN", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_rnn and rnn_applies(node.data.rnn))
def prepare_fast(node, reference_fn):
    return eval_rnn_fast


def _calls(node, inputs, outputs):
    return rnn_calls(node, inputs, outputs, inputs[0][None], outputs[-1][None], True)


def eval_rnn_fast(node, inputs, outputs):
    for call in _calls(node, inputs, outputs):
        call()


@binds(eval_rnn_fast)
def _bind(node, inputs, outputs):
    node.cache.pop("sequence", None)
    return list(_calls(node, inputs, outputs))
