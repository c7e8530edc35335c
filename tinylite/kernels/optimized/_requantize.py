"""LiteRT's per-channel requantization of int32 accumulators, exact, in five
int64 passes.

LiteRT computes out = clamp(MBQM(acc, M, shift) + zp) with M in [2**30, 2**31)
and a right shift r = -shift >= 0.  Both of its roundings collapse into one
floor: the high multiply rounds half up (gemmlowp's and ruy's alike: gemmlowp
nudges negative products by 1 - 2**30 and truncates toward zero, which also
takes ties upward), and the rounding shift adds 2**(r-1) (ruy, NEON: ties up)
or 2**(r-1) - [acc < 0] (gemmlowp: ties away from zero), and
floor(floor(a / 2**31) / 2**r) = floor(a / 2**(31+r)), so

    MBQM(acc) = floor((acc*M + 2**30 + nudge * 2**31) / 2**(31 + r))

one int64 multiply, add and arithmetic shift (|acc| < 2**31, M < 2**31: no
overflow).  The output zero point rides in the added constant as zp * 2**(31+r)
where that cannot overflow, and the clamp casts to the output type.  A left
shift (a multiplier above 1) keeps the reference kernel.
"""
from __future__ import annotations

from functools import partial

import numpy as np


class Requantizer:
    """Per-channel constants and the calls that requantize one float array.

    `mult`, `shift`: per channel (LiteRT's QuantizeMultiplier); `gemmlowp`:
    per-channel bool, True where LiteRT rounds the shift half away from zero
    (gemmlowp / reference kernels), False where half up (ruy, NEON); `zp`,
    `lo`, `hi`: output zero point and clamp; `acc_bound`: a bound on |acc|.
    `tile` repeats the channel constants for arrays whose last axis is `tile`
    pixels of all channels: numpy's loops broadcasting a short row of
    constants run 2-5x slower than over rows of a few hundred elements.
    """

    def __init__(self, mult, shift, gemmlowp, zp, lo, hi, acc_bound, tile=1):
        mult = np.asarray(mult, np.int64)
        r = -np.asarray(shift, np.int64)
        s = 31 + r
        c = (np.int64(1) << 30) + np.where(r > 0, np.int64(1) << np.maximum(s - 1, 0), 0)
        gemmlowp = np.broadcast_to(np.asarray(gemmlowp, bool), r.shape)
        delta = np.where(gemmlowp & (r > 0), np.int64(1) << 31, 0).astype(np.int64)
        # zp * 2**s added before the shift is zp added after it (exact floor division).
        self.fold = float(acc_bound) * 2.0**31 + 2.0**(int(s.max()) + 9) < 2.0**62
        if self.fold:
            c = c + (np.int64(zp) << s)
        self.lo, self.hi = int(lo), int(hi)
        self.zp = int(zp)
        self.m = np.tile(mult, tile)
        self.c = np.tile(c, tile)
        self.s = int(s[0]) if np.all(s == s[0]) else np.tile(s, tile)   # a scalar shift runs 4x faster
        self.delta = np.tile(delta, tile) if delta.any() else None

    @staticmethod
    def applies(shift) -> bool:
        return bool(np.all(np.asarray(shift) <= 0))

    def calls(self, acc, t, out, mask=None):
        """Zero-argument calls: `out` (integer) from `acc` (exact integers in
        float32/64, bias included); `t` an int64 scratch of acc's shape,
        `mask` a bool one (needed with gemmlowp channels)."""
        calls = [partial(np.copyto, t, acc, casting="unsafe")]
        if self.delta is not None:
            calls.append(partial(np.less, acc, 0, out=mask))
        calls += [partial(np.multiply, t, self.m, out=t), partial(np.add, t, self.c, out=t)]
        if self.delta is not None:
            calls.append(partial(np.subtract, t, self.delta, out=t, where=mask))
        calls.append(partial(np.right_shift, t, self.s, out=t))
        if not self.fold:
            calls.append(partial(np.add, t, self.zp, out=t))
        # A clip casting into the output runs 4x slower than a clip in place and a casting copy.
        return calls + [partial(np.clip, t, self.lo, self.hi, out=t), partial(np.copyto, out, t, casting="unsafe")]


def acc_dtype(bound):
    """float32 where every partial sum stays below 2**24 (exact), else float64
    (exact below 2**53); None where the int32 accumulator itself could wrap."""
    bound = float(np.max(bound)) if np.size(bound) else 0.0
    if bound >= 2.0**31:
        return None
    return np.float32 if bound < 2.0**24 else np.float64


def chunk_rows(row_elements, target=1 << 15):
    """Rows per chunk so that a chunk's scratch arrays stay in the L2 cache."""
    return max(1, target // max(1, row_elements))
