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

from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import _recurrent
from .. import unidirectional_sequence_rnn as reference
from .._base import binds
from . import register
from ._hybrid import product_dtype, RowQuantizer

_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH")


def applies(rnn) -> bool:
    return _recurrent.ACTIVATION_NAMES.get(rnn.activation, "NONE") in _ACTIVATIONS and getattr(rnn, "a_t", None) is None


@register("UNIDIRECTIONAL_SEQUENCE_RNN", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_rnn and applies(node.data.rnn))
def prepare_fast(node, reference_fn):
    return eval_rnn_fast


def sequence_calls(node, inputs, outputs, x, y, time_major):
    """The bound calls of `node` (cached per set of arrays) for input x and output y."""
    arrays = (inputs[0], outputs[-1], inputs[4])
    bound = node.cache.get("sequence")
    if bound is None or any(a is not b for a, b in zip(bound[0], arrays)):
        rnn = node.data.rnn
        n_batch = x.shape[1] if time_major else x.shape[0]
        bound = node.cache["sequence"] = (arrays, FastRnnSequence(rnn).calls(
            x, y, inputs[4].reshape(n_batch, rnn.units), time_major))
    return bound[1]


def _calls(node, inputs, outputs):
    return sequence_calls(node, inputs, outputs, inputs[0], outputs[0], node.data.time_major)


def eval_rnn_fast(node, inputs, outputs):
    for call in _calls(node, inputs, outputs):
        call()


@binds(eval_rnn_fast)
def _bind(node, inputs, outputs):
    node.cache.pop("sequence", None)
    return list(_calls(node, inputs, outputs))


class FastRnnSequence:
    """The basic RNN of one node (`_recurrent.RnnCell`, no auxiliary input) as bound calls."""

    def __init__(self, rnn):
        self.rnn = rnn
        if rnn.hybrid:
            (qx, qh) = rnn.q[:2]
            self.wx = qx["wt"].astype(product_dtype(qx["wt"], 0))
            self.wh = qh["wt"].astype(product_dtype(qh["wt"], 0))
            self.scale_x, self.scale_h = np.float32(qx["scale"]), np.float32(qh["scale"])
        else:
            self.wx, self.wh = rnn.w_t, rnn.r_t

    def calls(self, x, y, h, time_major):
        """x [B, T, n_input] (or [T, B, n_input] time-major), y its output, h [B, units] the state."""
        rnn = self.rnn
        xs, out = _recurrent.time_major_view(x, time_major), _recurrent.time_major_view(y, time_major)
        (T, B), u = xs.shape[:2], rnn.units
        acc = np.empty((B, u), np.float32)
        if rnn.hybrid:
            rows = x.reshape(-1, x.shape[-1])
            q = np.empty(rows.shape, self.wx.dtype)
            prod = np.empty((rows.shape[0], u), self.wx.dtype)
            flat = np.empty((rows.shape[0], u), np.float32)
            factor = np.empty((rows.shape[0], 1), np.float32)
            quantize = RowQuantizer(rows, q, rnn.asym)
            calls = [quantize, partial(np.matmul, q, self.wx, out=prod), partial(np.copyto, flat, prod),
                     partial(np.multiply, quantize.sf[:, None], self.scale_x, out=factor),
                     partial(np.multiply, flat, factor, out=flat), partial(np.add, rnn.bias, flat, out=flat)]
            inputs = _recurrent.time_major_view(flat.reshape(x.shape[:-1] + (u,)), time_major)
            hq = np.empty((B, u), self.wh.dtype)
            hprod = np.empty((B, u), self.wh.dtype)
            hfactor = np.empty((B, 1), np.float32)
            hquantize = RowQuantizer(h, hq, rnn.asym)
            recurrent = [hquantize, partial(np.dot, hq, self.wh, out=hprod), partial(np.copyto, acc, hprod),
                         partial(np.multiply, hquantize.sf[:, None], self.scale_h, out=hfactor),
                         partial(np.multiply, acc, hfactor, out=acc)]
        else:
            inputs = np.empty((T, B, u), np.float32)
            calls = [partial(np.matmul, xs, self.wx, out=inputs)]
            recurrent = [partial(np.dot, h, self.wh, out=acc)]
        act = _recurrent.ACTIVATION_NAMES.get(rnn.activation, "NONE")
        for t in range(T):
            calls += recurrent + [partial(np.add, inputs[t], acc, out=acc)]
            if not rnn.hybrid:
                calls.append(partial(np.add, acc, rnn.bias, out=acc))
            if act == "TANH":
                calls.append(partial(np.tanh, acc, out=h))
            elif act == "RELU":
                calls.append(partial(np.maximum, acc, np.float32(0), out=h))
            elif act == "NONE":
                calls.append(partial(np.copyto, h, acc))
            else:
                lo = np.float32(-1 if act == "RELU_N1_TO_1" else 0)
                calls.append(partial(_clip, acc, lo, np.float32(1 if act == "RELU_N1_TO_1" else 6), out=h))
            calls.append(partial(np.copyto, out[t], h))
        return calls
