"""ADD, SUB and MUL with int16 inputs.

ADD and SUB on LiteRT's general (not power-of-two) path:
each input's rescale, the one fixed-point step that depends on one input
value, as a lookup in the reference's 65536-entry table of it (indexed by the
input's uint16 bits), the sum, and the output's gemmlowp requantization by
_requantize's Requantizer (its int64 passes: the rescaled sums reach 2**30,
too large for the float64 path), with the clamp and the cast.  Against the
reference's ~20 int64 temporaries per invoke, ten bound passes into buffers
kept across invokes.

MUL (zero points 0, as TFLite's int16 scheme requires): the exact product in
int64 and the same requantization (a multiplier below 1; above, the reference
runs)."""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import _binary as reference
from ._cached import calls_per_arrays
from ._requantize import Requantizer


def applies(node, reference_fn):
    return (reference_fn is reference._eval_add_sub and node.inputs[0].dtype == np.int16
            and Requantizer.applies(node.data.q_out_shift))


def _uint16_table(params):
    """The reference's rescale of every int16 value, indexed by the value's uint16 bits."""
    table = reference._rescale_table(np.dtype(np.int16).str, tuple(int(v) for v in params))   # index: value + 32768
    return np.concatenate([table[32768:], table[:32768]])


def prepare(node, reference_fn):
    return eval_add16


class _Buffers:
    def __init__(self, node, x, y, out):
        data = node.data
        ta, tb = (_uint16_table(p) for p in data.q_in)
        a = np.empty(x.shape, np.int64)
        b = np.empty(y.shape, np.int64)
        raw = np.empty(out.shape, np.int64)
        t = np.empty(out.shape, np.int64)
        mask = np.empty(out.shape, bool)
        bound = float(np.abs(ta).max()) + float(np.abs(tb).max())
        rq = Requantizer(np.atleast_1d(data.q_out_mult), np.atleast_1d(data.q_out_shift), True, data.q_out_zp,
                         data.q_lo, data.q_hi, bound)
        combine = np.add if data.q_sign > 0 else np.subtract
        self.calls = [partial(np.take, ta, x.view(np.uint16), out=a, mode="clip"),
                      partial(np.take, tb, y.view(np.uint16), out=b, mode="clip"),
                      partial(combine, a, b, out=raw)] + rq.calls(raw, t, out, mask)


def _binary_arrays(inputs, outputs):
    return inputs[0], inputs[1], outputs[0]


eval_add16 = calls_per_arrays("opt_add16_bufs", _binary_arrays,
                              lambda node, inputs, outputs: _Buffers(node, *_binary_arrays(inputs, outputs)).calls,
                              "eval_add16")


# --- MUL ---

def mul_applies(node, reference_fn):
    from .. import mul

    return (reference_fn is mul._eval_mul and node.inputs[0].dtype == np.int16
            and not any(node.data.q_zps) and Requantizer.applies(node.data.q_shift))


def prepare_mul(node, reference_fn):
    return eval_mul16


class _MulBuffers:
    def __init__(self, node, x, y, out):
        data = node.data
        prod = np.empty(out.shape, np.int64)
        t = np.empty(out.shape, np.int64)
        mask = np.empty(out.shape, bool)
        rq = Requantizer(np.atleast_1d(data.q_mult), np.atleast_1d(data.q_shift), True, data.q_zps[2],
                         data.q_lo, data.q_hi, 2.0**30)
        self.calls = [partial(np.multiply, x, y, out=prod, dtype=np.int64)] + rq.calls(prod, t, out, mask)


eval_mul16 = calls_per_arrays("opt_mul16_bufs", _binary_arrays,
                              lambda node, inputs, outputs: _MulBuffers(node, *_binary_arrays(inputs, outputs)).calls,
                              "eval_mul16")
