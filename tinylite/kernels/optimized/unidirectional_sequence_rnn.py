"""Optimized UNIDIRECTIONAL_SEQUENCE_RNN (and RNN, its one-step form, in
optimized/rnn.py): the float or hybrid basic RNN over the whole sequence as
bound numpy calls without per-step allocations.

The input side of every step is one product for the whole sequence (hybrid:
the rows quantized once per invoke); a step is then the recurrent product
(hybrid: the state quantized, an exact integer product and one float32
multiply), two adds and the activation, in the reference's float32 order
(_recurrent.RnnCell.step: (x W + h R) + b for float, (b + x W) + h R for
hybrid), so the results equal the reference kernel's up to the matrix
products' own rounding (float) or bit for bit (hybrid: a last-bit change could
move the next step's quantization).
"""
from __future__ import annotations

import numpy as np

from .. import unidirectional_sequence_rnn as reference
from . import register
from ._cached import calls_per_arrays
from ._sequence import rnn_applies, rnn_arrays, rnn_calls


@register("UNIDIRECTIONAL_SEQUENCE_RNN", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_rnn and rnn_applies(node.data.rnn))
def prepare_fast(node, reference_fn):
    return eval_rnn_fast


def _build(node, inputs, outputs):
    return rnn_calls(node, inputs, inputs[0], outputs[0], node.data.time_major)


eval_rnn_fast = calls_per_arrays("sequence", rnn_arrays, _build, "eval_rnn_fast")
