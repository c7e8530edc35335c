"""The optimized integer LSTM step (int8 activations and weights, int16 cell
state) of UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM, for cells without peepholes
or layer norm: all four gates per call instead of one gate at a time.  The
reference is kernels/_integer_lstm.py (TFLite's EvalInteger8x8_16, which
LiteRT's x86 build runs on its portable code in both resolver modes), and
this kernel computes the same values: the requantization is gemmlowp's
MultiplyByQuantizedMultiplier folded into one floor, and the logistic/tanh
are the exact 16-bit functions tabulated over int16.  It applies where the
int32 sums provably cannot wrap (checked from the weights at prepare; the
reference wraps as C++ does) and every multiplier is non-negative.
"""
from __future__ import annotations

import numpy as np

from .. import _fixedpoint as fx
from .. import _integer_lstm as reference
from .._base import OpDataBase, op_data


@op_data
class FastCellData(OpDataBase):
    """The fast cell prepare_fast builds (the op's OpData subclasses this and the reference's)."""

    fast_cell: FastCell = None


def applies(node, reference_fn) -> bool:
    """The registration condition: the reference prepared the integer cell,
    which has no peepholes and no layer norm."""
    cell = node.data.cell
    return reference_fn is reference.eval_integer_lstm and not (cell.peephole or cell.layer_norm)


def prepare_fast(node):
    """eval_integer_fast, or None where the fast form does not hold (see FastCell.ok)."""
    d = node.draft(FastCellData)
    fast = FastCell(d.cell)
    if not fast.ok:
        return None
    d.fast_cell = fast
    return eval_integer_fast


def eval_integer_fast(node, inputs, outputs):
    fast = node.data.fast_cell
    xs, ys, h, c = reference.sequence_views(node, inputs, outputs)
    pre = fast.gate_inputs(xs)
    for t in range(xs.shape[0]):
        ys[t] = fast.step(pre[t], h, c)


class _Mbqm:
    """MultiplyByQuantizedMultiplier (gemmlowp) with constants per element, for
    int32 inputs and multipliers >= 0: one floor, as _fixedpoint's (five calls)."""

    def __init__(self, pairs, repeat):
        m = np.repeat([p[0] for p in pairs], repeat).astype(np.int64)
        shift = np.repeat([p[1] for p in pairs], repeat).astype(np.int64)
        if np.any(m < 0) or np.any(shift < -31):
            raise ValueError("outside the fast form")
        # A left shift (multiplier above 1) applies first, to the int32 value (wrapping as C++ does).
        self.left = np.maximum(shift, 0) if np.any(shift > 0) else None
        r = np.maximum(-shift, 0)
        self.m = m
        self.c = (np.int64(1) << 30) + np.where(r > 0, np.int64(1) << (r + 30), 0)
        self.d = np.where(r > 0, np.int64(1) << 31, 0)
        self.s = 31 + r

    def __call__(self, x):
        if self.left is not None:
            x = (((x << self.left) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        t = x * self.m
        t += self.c
        t -= (x < 0) * self.d
        t >>= self.s
        return t


class FastCell:
    """One step of an LSTM without peepholes or layer norm as a few calls on
    all gates at once: one product for the recurrent sums of every gate, one
    requantization with per-gate constants, one table lookup for the gates'
    logistic/tanh (the exact functions tabulated over int16), then the cell
    and hidden updates.  Same values as IntegerLstmCell.step."""

    def __init__(self, cell):
        gates, n = cell.gates, cell.n_cell
        self.cell = cell
        self.n = n
        self.index = {k: slice(j * n, (j + 1) * n) for j, k in enumerate(gates)}
        self.wx = np.ascontiguousarray(np.concatenate([cell.wx_t[k] for k in gates], axis=1))
        self.wh = np.ascontiguousarray(np.concatenate([cell.wh_t[k] for k in gates], axis=1))
        self.bias_x = np.concatenate([np.broadcast_to(cell.bias_x[k], (n,)) for k in gates]).astype(np.int64)
        self.bias_h = np.concatenate([np.broadcast_to(cell.bias_h[k], (n,)) for k in gates]).astype(np.int64)
        # The int32 sums cannot wrap (C++ would): checked from the weights.
        bound_x = 128 * np.abs(self.wx).sum(axis=0) + np.abs(self.bias_x)
        bound_h = 128 * np.abs(self.wh).sum(axis=0) + np.abs(self.bias_h)
        self.ok = max(bound_x.max(), bound_h.max()) < 2**31
        try:
            self.x_mult = _Mbqm([cell.x_mult[k] for k in gates], n)
            self.h_mult = _Mbqm([cell.h_mult[k] for k in gates], n)
            self.hidden = _Mbqm([cell.hidden_mult], n)
        except ValueError:
            self.ok = False
        # logistic (F3 in) for i, f, o and tanh (F3 in) for the cell gate, in one table
        self.table = np.concatenate([fx._table16(fx.logistic16, 3), fx._table16(fx.tanh16, 3)])
        self.offset = np.concatenate([np.full(n, 32768 + (65536 if k == "c" else 0), np.int64) for k in gates])
        self.tanh_cell = fx._table16(fx.tanh16, 15 + cell.cell_scale)

    def gate_inputs(self, xs):
        """[T, batch, gates * n_cell] int16 values (int64) of the input products."""
        acc = (xs.astype(np.float64) @ self.wx).astype(np.int64)
        acc += self.bias_x
        return np.clip(self.x_mult(acc), fx.INT16_MIN, fx.INT16_MAX)

    def step(self, pre, h, c):
        cell = self.cell
        acc = np.dot(h.astype(np.float64), self.wh).astype(np.int64)
        acc += self.bias_h
        g = self.h_mult(acc)
        g += pre
        np.clip(g, fx.INT16_MIN, fx.INT16_MAX, out=g)
        g += self.offset
        a = self.table[g]
        ix = self.index
        f, z, o = a[:, ix["f"]], a[:, ix["c"]], a[:, ix["o"]]
        c_prev = c.astype(np.int64)
        # f in [0, 2**15), c in int16, i in [0, 2**15), z in [-2**15, 2**15): both rounded quotients
        # fit int16, so the wraps of the reference step change nothing.
        c_new = _rdbp(f * c_prev, 15)
        i = fx.INT16_MAX - f if cell.cifg else a[:, ix["i"]]
        c_new += _rdbp(i * z, 30 + cell.cell_scale)
        lo, hi = (-cell.cell_clip, cell.cell_clip) if cell.cell_clip > 0 else (fx.INT16_MIN, fx.INT16_MAX)
        np.clip(c_new, max(lo, fx.INT16_MIN), min(hi, fx.INT16_MAX), out=c_new)
        t = self.tanh_cell[c_new + 32768]
        out = cell.output(self.hidden(o * t))
        c[...] = c_new
        h[...] = out
        return out


def _rdbp(x, exponent):
    """gemmlowp's RoundingDivideByPOT (ties away from zero) for a fixed exponent >= 1."""
    return (x + ((1 << (exponent - 1)) - (x < 0))) >> exponent
