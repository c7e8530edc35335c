"""The optimized integer LSTM (int8 activations and weights, int16 cell state)
of UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM: every variant of the reference
(kernels/_integer_lstm.py, TFLite's EvalInteger8x8_16, which LiteRT's x86
build runs on its portable code in both resolver modes) -- CIFG, peepholes,
layer norm, projection with or without bias, cell and projection clipping --
as one flat list of numpy calls per invoke, bound once per set of arrays,
with every constant computed at prepare and no allocation in the time loop.

How a step stays at about twenty calls (the reference makes hundreds):
- The input products of the whole sequence are one matrix product and one
  requantization per invoke.
- The recurrent product of a step is one float64 matrix product whose
  weights are pre-multiplied by each gate's fixed-point multiplier
  (M * 2**left / 2**s, a power-of-two scale of an integer product: exact),
  with a constant column carrying bias + 1/2.  gemmlowp's
  MultiplyByQuantizedMultiplier is floor((x*M + c0 - [x < 0]*d) / 2**s)
  (see _requantize.py); the sum x + 1/2 never is zero, so the sign term is
  one copysign of the product.  Everything else (rounding constant, the
  step's input-side gate value, the gate's table offset) is one added row,
  and the floor is the truncating cast of a value made positive.  Where the
  weights or shifts would make any of this inexact, the same steps run on
  int64 instead.
- The four gates' logistic/tanh are one lookup in a table of the exact
  16-bit functions (logistic at [0, 65536), tanh at [65536, 131072)).
- The cell update is two products and one rounding pass (ties away from
  zero) for both terms; tanh(c) and everything o * tanh(c)'s
  requantization needs by its sign (o > 0 always: the table's minimum is
  11) are one lookup of a [t * M, rounding constant] table indexed by c.
- Layer norm's per-row statistics (batch x gates rows) go through Python
  integers, the inverse square root memoized; its elementwise part is int64
  passes with the per-row constants broadcast.
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
from numpy._core.umath import clip as _clip   # the ufunc: np.clip's wrapper costs 5 us a call

from .. import _fixedpoint as fx
from .. import _integer_lstm as reference
from .._base import OpDataBase, op_data
from ._cached import calls_per_arrays

# Gate columns: f, i (absent under CIFG), c, o.  o comes last so that with
# peepholes (o sees the new cell state) the other gates form one block.
ORDER = ("f", "i", "c", "o")
LOGISTIC, TANH = 32768, 98304          # table offsets of value 0


@op_data
class FastCellData(OpDataBase):
    """The fast cell prepare_fast builds (the op's OpData subclasses this and the reference's)."""

    fast_cell: FastCell = None


def applies(node, reference_fn) -> bool:
    """The registration condition: the reference prepared the integer cell."""
    return reference_fn is reference.eval_integer_lstm


def prepare_fast(node):
    """eval_integer_fast, or None where the fast form does not hold (FastCell.reason says why)."""
    d = node.draft(FastCellData)
    x = node.inputs[0]
    xs_shape = (1,) + tuple(x.shape) if len(x.shape) == 2 else \
        tuple(x.shape) if d.time_major else (x.shape[1], x.shape[0], x.shape[2])
    fast = FastCell(d.cell, xs_shape[0], xs_shape[1])
    if fast.reason:
        return None
    d.fast_cell = fast
    return eval_integer_fast


def _arrays(inputs, outputs):
    return inputs[0], outputs[-1], inputs[18], inputs[19]


def _build(node, inputs, outputs):
    return node.data.fast_cell.calls(*reference.sequence_views(node, inputs, outputs))


eval_integer_fast = calls_per_arrays("calls", _arrays, _build, "eval_integer_fast")


@lru_cache(maxsize=None)
def _gate_table():
    """logistic16 (F3 in) at [0, 65536) and tanh16 (F3 in) at [65536, 131072), int64."""
    table = np.concatenate([fx._table16(fx.logistic16, 3), fx._table16(fx.tanh16, 3)]).astype(np.int64)
    # The hidden state's and the cell update's rounding take the sign of o * t and i * g from t and g.
    assert table[:65536].min() > 0 and fx.INT16_MAX - table[:65536].max() > 0
    table.setflags(write=False)
    return table


@lru_cache(maxsize=64)
def _hidden_table(tanh_bits, mult, s, d, fold):
    """Indexed by the cell value c in int16 (negative indices wrap): [t * M, 2**30 + rounding
    - [t < 0] * d + fold * 2**s] with t = tanh16(c), so that MBQM(o * t) + fold =
    (o * col0 + col1) >> s for o > 0."""
    t = fx._table16(fx.tanh16, tanh_bits).astype(np.int64)
    r = s - 31
    c0 = (1 << 30) + ((1 << (30 + r)) if r > 0 else 0) + (fold << s)
    table = np.roll(np.stack([t * mult, c0 - np.where(t < 0, d, 0)], axis=1), -32768, axis=0)
    table.setflags(write=False)
    return table


@lru_cache(maxsize=4096)
def _inv_sqrt(v):
    return fx._inv_sqrt_scalar(v)


def _mbqm_constants(mult, shift):
    """(M * 2**left, c0, d, s) with MBQM(x) = floor((x * M * 2**left + c0 - [x < 0] * d) / 2**s)."""
    left = max(shift, 0)
    r = max(-shift, 0)
    c0 = (1 << 30) + ((1 << (30 + r)) if r > 0 else 0)
    d = (1 << 31) if r > 0 else 0
    return mult << left, c0, d, 31 + r


def _int_mbqm_calls(t, u, m, c0, d, s):
    """In-place int64 MBQM of t (M * x must stay below 2**63: callers check); u an int64 scratch."""
    calls = [partial(np.multiply, t, m, out=t)]
    if np.any(d):
        calls += [partial(np.right_shift, t, 63, out=u), partial(np.bitwise_and, u, d, out=u),
                  partial(np.add, t, c0, out=t), partial(np.subtract, t, u, out=t)]
    else:
        calls.append(partial(np.add, t, c0, out=t))
    calls.append(partial(np.right_shift, t, s, out=t))
    return calls


class _Product:
    """x @ W + bias (int8 rows, int8 weights, int32 bias) requantized by per-column
    fixed-point multipliers, MBQM(x) per column, over a [rows..., n_in + 1] float64
    input whose last column is 1.

    exact_float: the calls leave v (float64) with floor(v + k) = MBQM + k for any
    integer k added later (`base` added in the calls); otherwise they leave the
    integer MBQM in an int64 array (plus `base`)."""

    def __init__(self, w, bias, mults, in_bound, value_bound, force_int=False):
        """w [n_in, cols] int; bias [cols] int; mults [(M, shift)] per column; in_bound: max |input|;
        value_bound: max |value| the caller adds or clips to afterwards."""
        consts = [_mbqm_constants(int(m), int(sh)) for m, sh in mults]
        self.m = np.array([c[0] for c in consts], np.int64)
        self.c0 = np.array([c[1] for c in consts], np.int64)
        self.d = np.array([c[2] for c in consts], np.int64)
        self.s = np.array([c[3] for c in consts], np.int64)
        w = np.asarray(w, np.int64)
        bias = np.asarray(bias, np.int64)
        acc_bound = in_bound * np.abs(w).sum(axis=0) + np.abs(bias)
        self.ok = bool(np.all(acc_bound < 2**31)) and bool(np.all(np.asarray([m for m, _ in mults]) >= 0))
        # int32 x << left must not wrap (C++ would): the int64 path below does not wrap it either.
        left = np.array([max(int(sh), 0) for _, sh in mults], np.int64)
        self.ok = self.ok and bool(np.all(acc_bound * (2.0 ** left) < 2**31))
        smax = int(self.s.max()) if self.s.size else 31
        # Exact float64: every term a multiple of 2**-(s+1) below 2**53 in those units.
        self.exact_float = not force_int and bool(np.all((acc_bound + 1.0) * self.m * 2.0 < 2.0**53)) and \
            (float((acc_bound * self.m / 2.0**self.s).max(initial=0)) + 2 + value_bound) * 2.0**(smax + 1) < 2.0**53
        scale = np.ldexp(1.0, -self.s)
        if self.exact_float:
            mf = self.m * scale                                    # exact: M * 2**left / 2**s
            self.w = np.vstack([w * mf, ((2 * bias + 1) * self.m) * (scale / 2)])
            self.half_d = self.d * (scale / 2)
            self.const = (self.c0 - self.d // 2) * scale - mf / 2
            self.any_d = bool(self.d.any())
        else:
            self.ok = self.ok and bool(np.all(acc_bound * self.m < 2.0**62))
            self.w = np.vstack([w, bias]).astype(np.float64)       # exact integer sums (< 2**31)

    def calls(self, rows, acc, base=None, ti=None, tu=None):
        """rows [..., n_in + 1] float64; acc float64 scratch [..., cols].  Float path: acc
        ends holding v + base, where base (an array) already includes `const` (None: just
        const); tu a float64 scratch.  Int path: ti (int64, acc's shape) ends holding
        MBQM + base (None: nothing added); tu an int64 scratch."""
        dot = np.dot if rows.ndim == 2 else np.matmul
        calls = [partial(dot, rows, self.w, out=acc)]
        if self.exact_float:
            if self.any_d:
                calls += [partial(np.copysign, self.half_d, acc, out=tu), partial(np.add, acc, tu, out=acc)]
            return calls + [partial(np.add, acc, self.const if base is None else base, out=acc)]
        calls.append(partial(np.copyto, ti, acc, casting="unsafe"))
        calls += _int_mbqm_calls(ti, tu, self.m, self.c0, self.d, self.s)
        return calls + ([] if base is None else [partial(np.add, ti, base, out=ti)])


class FastCell:
    """The integer LSTM of one node over sequences of `n_time` steps of `n_batch` rows,
    as bound numpy calls (see the module docstring); `reason` is None where it applies."""

    def __init__(self, cell, n_time, n_batch):
        self.cell = cell
        self.n_time, self.n_batch = n_time, n_batch
        self.reason = None
        gates = [k for k in ORDER if k in cell.gates]
        self.gates = gates
        n, n_out = cell.n_cell, cell.n_output
        self.n, self.n_out = n, n_out
        self.col = {k: slice(j * n, (j + 1) * n) for j, k in enumerate(gates)}
        self.general = cell.peephole or cell.layer_norm
        if cell.peephole and not cell.per_row_peephole and n_batch > 1 and n_out < n:
            # LiteRT's flat-buffer peephole stride (kernels/_integer_lstm.py) across batch rows.
            self.reason = "peephole stride quirk across a flat batch"
            return
        # The table offset of each gate's value 0 (the general path adds it after layer norm).
        offset = np.concatenate([np.full(n, TANH if k == "c" else LOGISTIC, np.int64) for k in gates])
        self.offset = offset
        # Input side: x @ Wx + bias_x, requantized, saturated to int16 (once per invoke).
        wx = np.concatenate([cell.wx_t[k] for k in gates], axis=1)
        bias_x = np.concatenate([np.broadcast_to(cell.bias_x[k], (n,)) for k in gates])
        self.inp = _Product(wx, bias_x, [cell.x_mult[k] for k in gates for _ in range(n)],
                            128 + abs(cell.input_zp), 2.0**16)
        # Recurrent side, per step, on h - h_zp (the bias then is the reference's bias_h + h_zp * sums).
        wh = np.concatenate([cell.wh_t[k] for k in gates], axis=1)
        bias_h = np.concatenate([np.broadcast_to(cell.bias_h[k], (n,)) for k in gates]) + \
            cell.h_zp * wh.astype(np.int64).sum(axis=0)
        self.rec = _Product(wh, bias_h, [cell.h_mult[k] for k in gates for _ in range(n)],
                            128 + abs(cell.h_zp), 2.0**17 + 2.0**15)
        if not (self.inp.ok and self.rec.ok):
            self.reason = "int32 sums could wrap"
            return
        # Peepholes: MBQM(p * c) as (c * p * M + c0 - [p * c < 0] * d) >> s.
        self.peep = None
        if cell.peephole:
            pg = [k for k in gates if k != "c"]
            consts = {k: _mbqm_constants(*cell.peep_mult[k]) for k in pg}
            if any(cell.peep_mult[k][1] > 0 or cell.peep_mult[k][0] < 0 for k in pg):
                self.reason = "peephole multiplier above one"
                return
            width = n_out if n_out < n else n

            def peep(ks):
                pm = np.stack([cell.peep_w[k][:width] * consts[k][0] for k in ks])
                return dict(pm=pm, c0=np.array([[consts[k][1]] for k in ks]),
                            d=np.array([[consts[k][2]] for k in ks]), s=np.array([[consts[k][3]] for k in ks]),
                            width=width, gates=ks)
            self.peep = dict(first=peep([k for k in ("f", "i") if k in pg]), o=peep(["o"]))
        # Layer norm: per gate constants.
        self.ln = None
        if cell.layer_norm:
            cols = lambda name: np.concatenate([np.broadcast_to(getattr(cell, name)[k], (n,)) for k in gates])  # noqa: E731
            lnc = [_mbqm_constants(*cell.ln_mult[k][:1], cell.ln_mult[k][1] + 12) for k in gates]
            if any(cell.ln_mult[k][1] + 12 > 9 or cell.ln_mult[k][0] < 0 for k in gates):
                self.reason = "layer norm multiplier out of the fast form"
                return
            self.ln = dict(w=cols("ln_w").astype(np.int64), b=cols("ln_bias").astype(np.int64),
                           m=np.repeat([c[0] for c in lnc], n), c0=np.repeat([c[1] for c in lnc], n),
                           d=np.repeat([c[2] for c in lnc], n), s=np.repeat([c[3] for c in lnc], n),
                           guard=[cell.ln_guard[k] for k in gates])
            # |val4| <= 2**21 + 1: val4 * M * 2**left + c0 + offset * 2**s within int64.
            if np.any((2.0**22) * self.ln["m"] + (2.0**18) * 2.0**self.ln["s"] >= 2.0**62):
                self.reason = "layer norm constants out of int64"
                return
        # Cell update: RDBP(f * c, 15) and RDBP(i * g, 30 + cell_scale), ties away from zero.
        self.exps = np.concatenate([np.full(n, 15, np.int64), np.full(n, 30 + cell.cell_scale, np.int64)])
        self.halves = np.int64(1) << (self.exps - 1)
        cc = cell.cell_clip
        self.c_lo, self.c_hi = (max(-cc, fx.INT16_MIN), min(cc, fx.INT16_MAX)) if cc > 0 else (fx.INT16_MIN,
                                                                                               fx.INT16_MAX)
        # Hidden: MBQM(o * tanh(c), hidden_mult), then + hidden_zp (the output) or - hidden_zp (into
        # the projection); kept as h - h_zp for the next step's product.
        hm, hs = cell.hidden_mult
        if hs > 0 or hm < 0:
            self.reason = "hidden multiplier above one"
            return
        hmult, _, hd, hshift = _mbqm_constants(hm, hs)
        if cell.proj_t is None:
            fold, self.h_lo, self.h_hi = cell.hidden_zp - cell.h_zp, -128 - cell.h_zp, 127 - cell.h_zp
        else:
            fold, self.h_lo, self.h_hi = -cell.hidden_zp, -128, 127
        if 2.0**61 + 2.0**31 + 2.0**(hshift - 1) + abs(fold) * 2.0**hshift >= 2.0**62:
            fold = None
        self.hidden_fold = None if fold is not None else (cell.hidden_zp - cell.h_zp if cell.proj_t is None
                                                          else -cell.hidden_zp)
        self.hidden_table = _hidden_table(15 + cell.cell_scale, hmult, hshift, hd, fold or 0)
        self.hidden_s = hshift
        # Projection: MBQM(hidden @ Wp + bias) + h_zp, clipped to int8 and proj_clip.
        self.proj = None
        if cell.proj_t is not None:
            pc = cell.proj_clip
            lo, hi = (max(-128, -pc), min(127, pc)) if pc > 0 else (-128, 127)
            self.proj = _Product(cell.proj_t, cell.proj_bias, [cell.proj_mult] * n_out, 128, 2.0**9)
            if not self.proj.ok:
                self.reason = "int32 sums could wrap"
                return
            self.p_lo, self.p_hi = lo - cell.h_zp, hi - cell.h_zp

    # -- binding --

    def calls(self, xs, ys, h_state, c_state):
        """The zero-argument calls of one invoke on these arrays: xs [T, B, n_in] int8 (a view),
        ys [T, B, n_out] int8 (a view), h_state [B, n_out] int8, c_state [B, n_cell] int16."""
        cell = self.cell
        (T, B), n, n_out = xs.shape[:2], self.n, self.n_out
        G = len(self.gates)
        W = G * n
        calls = []
        # Start: history H[t] = h_t - h_zp with a constant 1 column; the cell state as int64.
        H = np.ones((T + 1, B, n_out + 1))
        C = np.empty((B, n), np.int64)
        calls += [partial(np.subtract, h_state, np.int16(cell.h_zp), out=H[0, :, :n_out], casting="unsafe"),
                  partial(np.copyto, C, c_state)]
        # Input side for every step: gate_x = sat16(MBQM(x @ Wx + bias_x)).
        X = np.ones(xs.shape[:2] + (xs.shape[2] + 1,))
        AX = np.empty((T, B, W))
        GX = np.empty((T, B, W), np.int64)
        UX = np.empty((T, B, W), np.int64)
        calls.append(partial(np.copyto, X[..., :-1], xs))
        # The per-step row added to the recurrent value: gate_x + the table offsets (+ the float
        # path's constant).  The general path offsets every gate by 32768 (kept positive for the
        # truncating cast) and takes it off again.
        base = np.full(W, LOGISTIC, np.int64) if self.general else self.offset
        rec = self.rec
        P = np.empty((T, B, W)) if rec.exact_float else GX
        row = base + rec.const if rec.exact_float else base
        if self.inp.exact_float:
            # Saturated and floored in float64 (integer bounds: clip and floor commute).
            calls += self.inp.calls(X, AX, tu=np.empty((T, B, W)))
            calls += [partial(_clip, AX, float(fx.INT16_MIN), float(fx.INT16_MAX), out=AX),
                      partial(np.floor, AX, out=AX)]
            calls.append(partial(np.add, AX, row, out=P) if rec.exact_float else
                         partial(np.add, AX, row, out=P, casting="unsafe"))
        else:
            calls += self.inp.calls(X, AX, None, GX, UX)
            calls += [partial(_clip, GX, np.int64(fx.INT16_MIN), np.int64(fx.INT16_MAX), out=GX),
                      partial(np.add, GX, row, out=P, casting="unsafe")]
        lo = (base - 32768).astype(np.float64 if rec.exact_float else np.int64)
        hi = (base + 32767).astype(lo.dtype)
        acc = np.empty((B, W))
        tu = np.empty((B, W), np.float64 if rec.exact_float else np.int64)
        ti = np.empty((B, W), np.int64)
        idx = np.empty((B, W), np.int64)
        A = np.empty((B, W), np.int64)
        table = _gate_table()
        col = self.col
        f, g, o = A[:, col["f"]], A[:, col["c"]], A[:, col["o"]]
        i = A[:, col["i"]] if "i" in col else np.empty((B, n), np.int64)
        P12 = np.empty((B, 2 * n), np.int64)
        U12 = np.empty((B, 2 * n), np.int64)
        TK = np.empty((B, n, 2), np.int64)
        Hh = np.empty((B, n), np.int64)
        clo, chi = np.int64(self.c_lo), np.int64(self.c_hi)
        hp = np.ones((B, n + 1)) if self.proj is not None else None
        if self.proj is not None:
            pacc = np.empty((B, n_out))
            ptu = np.empty((B, n_out), np.float64 if self.proj.exact_float else np.int64)
            pti = np.empty((B, n_out), np.int64)
        general = self._general_calls(idx, A, C, B) if self.general else None
        for t in range(T):
            if rec.exact_float:
                calls += rec.calls(H[t], acc, P[t], tu=tu)
                calls += [partial(_clip, acc, lo, hi, out=acc), partial(np.copyto, idx, acc, casting="unsafe")]
            else:
                calls += rec.calls(H[t], acc, P[t], ti, tu)
                calls.append(partial(_clip, ti, lo, hi, out=idx))
            if general is None:
                calls.append(partial(table.take, idx, None, A, "clip"))
            else:
                calls += general[0]
            # c = clip(RDBP(f * c, 15) + RDBP(i * g, 30 + cell_scale))
            if cell.cifg:
                calls.append(partial(np.subtract, np.int64(fx.INT16_MAX), f, out=i))
            calls += [partial(np.multiply, f, C, out=P12[:, :n]), partial(np.multiply, i, g, out=P12[:, n:]),
                      partial(np.right_shift, P12, 63, out=U12), partial(np.add, P12, U12, out=P12),
                      partial(np.add, P12, self.halves, out=P12), partial(np.right_shift, P12, self.exps, out=P12),
                      partial(np.add, P12[:, :n], P12[:, n:], out=C), partial(_clip, C, clo, chi, out=C)]
            if general is not None and general[1]:
                calls += general[1]
            # hidden = MBQM(o * tanh(c)) (+ the zero point fold), into the history or the projection.
            target = H[t + 1, :, :n_out] if self.proj is None else hp[:, :n]
            calls += [partial(self.hidden_table.take, C, 0, TK, "wrap"),
                      partial(np.multiply, o, TK[..., 0], out=Hh), partial(np.add, Hh, TK[..., 1], out=Hh),
                      partial(np.right_shift, Hh, self.hidden_s, out=Hh)]
            if self.hidden_fold is not None:
                calls.append(partial(np.add, Hh, self.hidden_fold, out=Hh))
            calls.append(partial(_clip, Hh, np.int64(self.h_lo), np.int64(self.h_hi), out=target))
            if self.proj is not None:
                pr = self.proj
                out = H[t + 1, :, :n_out]
                plo, phi = float(self.p_lo), float(self.p_hi)
                if pr.exact_float:
                    calls += pr.calls(hp, pacc, None, tu=ptu)
                    calls += [partial(_clip, pacc, plo, phi, out=pacc), partial(np.floor, pacc, out=out)]
                else:
                    calls += pr.calls(hp, pacc, None, pti, ptu)
                    calls.append(partial(_clip, pti, np.int64(self.p_lo), np.int64(self.p_hi), out=out))
        # End: outputs, states.
        calls += [partial(np.add, H[1:, :, :n_out], np.float64(cell.h_zp), out=ys, casting="unsafe"),
                  partial(np.add, H[T, :, :n_out], np.float64(cell.h_zp), out=h_state, casting="unsafe"),
                  partial(np.copyto, c_state, C, casting="unsafe")]
        return calls

    def _general_calls(self, idx, A, C, B):
        """(calls from the saturated gate values + 32768 in idx to the activations in A, calls
        after the cell update: the o gate's peephole, layer norm and activation).  The gate
        values stay offset by 32768 throughout (layer norm's row constants absorb it)."""
        n, gates = self.n, self.gates
        G = len(gates)
        table = _gate_table()
        gv = idx                                   # the gate values + 32768
        t1 = np.empty((B, G * n), np.int64)
        u1 = np.empty((B, G * n), np.int64)
        # Blocks: with peepholes o follows the cell update, else every gate goes at once.
        n_first = G - 1 if self.peep is not None else G
        blocks = [(0, n_first)] + ([(G - 1, G)] if self.peep is not None else [])
        stages = ([], [])
        for stage, (a, b) in enumerate(blocks):
            calls = stages[stage]
            cs = slice(a * n, b * n)
            if self.peep is not None:
                p = self.peep["first" if stage == 0 else "o"]
                k = len(p["gates"])
                w = p["width"]
                gk, tk, uk = (v[:, a * n:(a + k) * n].reshape(B, k, n)[:, :, :w] for v in (gv, t1, u1))
                calls += [partial(np.multiply, C[:, None, :w], p["pm"], out=tk),
                          partial(np.right_shift, tk, 63, out=uk), partial(np.bitwise_and, uk, p["d"], out=uk),
                          partial(np.add, tk, p["c0"], out=tk), partial(np.subtract, tk, uk, out=tk),
                          partial(np.right_shift, tk, p["s"], out=tk), partial(np.add, gk, tk, out=gk),
                          partial(_clip, gk, np.int64(0), np.int64(65535), out=gk)]
            if self.ln is not None:
                calls += self._layer_norm_calls(gv[:, cs], t1[:, cs], u1[:, cs], B, b - a, cs)
            else:
                calls.append(partial(np.add, gv[:, cs], self.offset[cs] - 32768, out=gv[:, cs]))
            calls.append(partial(table.take, gv[:, cs], None, A[:, cs], "clip"))
        return stages

    def _layer_norm_calls(self, gv, t1, u1, B, k, cs):
        """TFLite's integer layer norm (kernels/_integer_lstm.py _layer_norm) of k gates' values
        + 32768 in gv [B, k * n] (int64, in place), then the table offsets added."""
        n = self.n
        ln = self.ln
        g3, t3, u3 = gv.reshape(B, k, n), t1.reshape(B, k, n), u1.reshape(B, k, n)
        assert all(np.shares_memory(a, b) for a, b in ((g3, gv), (t3, t1), (u3, u1)))
        sums = np.empty((B, k), np.int64)
        sq = np.empty((B, k), np.int64)
        sqbuf = np.empty((B, k, n), np.int64)
        # (mean + 1024 * 32768) * a, 1024 * a (a: the row's inverse square root multiplier), c0, d, shift
        rows = np.empty((5, B, k, 1), np.int64)
        mean_a, ra, rc0, rd, rs = rows
        flat = rows.reshape(5, B * k)
        i32 = np.empty((B, k, n), np.int32)
        guards = ln["guard"][cs.start // n:cs.stop // n]
        r20 = (1 << 20) // n

        # A few values: the sums in Python integers from one conversion (three numpy calls fewer).
        small = B * k * n <= 64

        def row_sums():
            if small:
                values = g3.reshape(B * k, n).tolist()
                return [sum(v) for v in values], [sum(x * x for x in v) for v in values]
            return sums.ravel().tolist(), sq.ravel().tolist()

        def statistics():
            out = [[], [], [], [], []]
            for j, (s, q) in enumerate(zip(*row_sums())):
                s -= n << 15                                    # the sums of the values without their offset
                q -= (s << 16) + (n << 30)
                m = _cdiv(s * 1024, n)
                var = _cdiv(q * r20 - m * m, 1 << 20)
                var = ((var + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
                if var < 1:
                    var = guards[j % k]
                a, shift = _inv_sqrt(var)
                out[0].append((m + (1 << 25)) * a)
                out[1].append(a << 10)
                out[2].append((1 << 30) + ((1 << (30 + shift)) if shift > 0 else 0))
                out[3].append((1 << 31) if shift > 0 else 0)
                out[4].append(31 + shift)
            flat[...] = out
        statistics.__name__ = "layer_norm_statistics"
        w, b = ln["w"][cs].reshape(k, n), ln["b"][cs].reshape(k, n)
        m5, d5, s5 = (ln[name][cs].reshape(k, n) for name in ("m", "d", "s"))
        c05 = (ln["c0"][cs] + (self.offset[cs] << ln["s"][cs])).reshape(k, n)
        lo = (self.offset[cs].reshape(k, n) - 32768)
        hi = lo + 65535
        return ([] if small else [partial(np.add.reduce, g3, axis=2, out=sums),
                                  partial(np.multiply, g3, g3, out=sqbuf),
                                  partial(np.add.reduce, sqbuf, axis=2, out=sq)]) + [
                statistics,
                # rescaled = MBQM(1024 * g - mean, inverse square root of the row): (1024 * g - mean) * a
                # as (g + 32768) * 1024 a - (mean + 2**25) a
                partial(np.multiply, g3, ra, out=t3), partial(np.subtract, t3, mean_a, out=t3),
                partial(np.right_shift, t3, 63, out=u3),
                partial(np.bitwise_and, u3, rd, out=u3), partial(np.add, t3, rc0, out=t3),
                partial(np.subtract, t3, u3, out=t3), partial(np.right_shift, t3, rs, out=t3),
                # val3 = wrap32(rescaled * w + b); val4 = (val3 +- 512) / 1024 truncated
                partial(np.multiply, t3, w, out=i32, casting="unsafe"),
                partial(np.add, i32, b, out=i32, casting="unsafe"),
                partial(np.add, i32, np.int64(512), out=t3), partial(np.subtract, i32, np.int64(1), out=u3),
                partial(np.right_shift, u3, 63, out=u3), partial(np.add, t3, u3, out=t3),
                partial(np.right_shift, t3, 10, out=t3),
                # sat16(MBQM(val4, layer norm scale)) + the table offset
                partial(np.multiply, t3, m5, out=t3), partial(np.right_shift, t3, 63, out=u3),
                partial(np.bitwise_and, u3, d5, out=u3), partial(np.add, t3, c05, out=t3),
                partial(np.subtract, t3, u3, out=t3), partial(np.right_shift, t3, s5, out=t3),
                partial(_clip, t3, lo, hi, out=g3)]


def _cdiv(a, b):
    """C's integer division (toward zero) by a positive int."""
    q = abs(a) // b
    return -q if a < 0 else q
