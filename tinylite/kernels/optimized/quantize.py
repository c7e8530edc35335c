"""Optimized QUANTIZE, float32 -> int8/uint8/int16 per tensor: LiteRT's
optimized split (see kernels/quantize.py) as bound float32 passes; and
8-bit -> integer requantization as lookups in 256-entry tables.

The blocks of 8 are rint(x * (1/scale)) in float32, plus the zero point,
clamped, cast: the sum with the zero point is exact below 2**24 and beyond
that both sides of it clamp alike (rounding is monotone), so a float32
buffer replaces the reference's float64 temporaries.  The tail (fewer than
8 elements) takes the reference's double-precision formula as bound float64
passes (see _tail_calls)."""
import math
from functools import lru_cache, partial
from types import SimpleNamespace

import numpy as np
from numpy._core.umath import clip as _clip

from .. import quantize as reference
from . import register
from ._cached import cached_calls
from .._base import op_data


@op_data
class OpData(reference.OpData):
    """The reference QUANTIZE's op data and what this module's kernels add."""

    opt_tables: tuple = None        # 8-bit requantization: (table of the SIMD blocks, table of the tail)


@register("QUANTIZE", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_quantize and node.data.simd_block == 8)
def prepare_fast(node, reference_fn):
    return eval_fast


class _Buffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        xf, res = x.reshape(-1), out.reshape(-1)
        simd = len(xf) // 8 * 8
        info = np.iinfo(out.dtype)
        buf = np.empty(simd, np.float32)
        zp = np.float32(node.data.zero_point.reshape(-1)[0])
        self.calls = []
        if simd:
            self.calls = [partial(np.multiply, xf[:simd], node.data.inv_scale, out=buf),
                          partial(np.rint, buf, out=buf), partial(np.add, buf, zp, out=buf),
                          partial(_clip, buf, np.float32(info.min), np.float32(info.max), out=buf),
                          partial(np.copyto, res[:simd], buf, casting="unsafe")]
        if simd < len(xf):
            self.calls.append(_ScalarTail(xf[simd:], res[simd:], _tail_calls(node, xf[simd:], res[simd:]),
                                          float(node.data.scale.reshape(-1)[0]),
                                          int(node.data.zero_point.reshape(-1)[0]), np.iinfo(out.dtype)))


class _ScalarTail:
    """The tail (at most 7 values) in Python floats, which are IEEE doubles like the float64
    passes of _tail_calls, and in the same operations: one call where those take seven (1-2 us
    against 5-7 at every invoke of a small model).  A non-finite value (whose cast to an integer
    type numpy defines and Python does not) takes the passes."""

    __slots__ = ("xt", "rt", "passes", "scale", "zp", "lo", "hi")

    def __init__(self, xt, rt, passes, scale, zp, info):
        self.xt, self.rt, self.passes = xt, rt, passes
        self.scale, self.zp, self.lo, self.hi = scale, zp, int(info.min), int(info.max)

    def __call__(self, trunc=math.trunc, copysign=math.copysign):
        scale, zp, lo, hi = self.scale, self.zp, self.lo, self.hi
        try:
            # (trunc raises on a NaN or an infinity)
            got = [min(max(trunc(v + copysign(0.5, v)) + zp, lo), hi) for v in [x / scale for x in self.xt.tolist()]]
        except (ValueError, OverflowError):
            for call in self.passes:
                call()
            return
        self.rt[:] = got


def _tail_calls(node, xt, rt):
    """LiteRT's scalar tail past the blocks of 8, TfLiteRound(x / scale) + zero point with the
    division in double, as bound float64 passes: trunc(v + copysign(1/2, v)) is the reference's
    sign(v) * floor(|v| + 1/2) (the rounding of a sum is symmetric), then the zero point and
    the clamp to the output type, whose cast is then exact."""
    info = np.iinfo(rt.dtype)
    zp = float(node.data.zero_point.reshape(-1)[0])
    v = np.empty(len(xt), np.float64)
    half = np.empty(len(xt), np.float64)
    # A float64 scalar: a Python float would leave the division in float32 (NEP 50).
    return [partial(np.divide, xt, np.float64(node.data.scale.reshape(-1)[0]), out=v),
            partial(np.copysign, 0.5, v, out=half), partial(np.add, v, half, out=v), partial(np.trunc, v, out=v),
            partial(np.add, v, zp, out=v), partial(_clip, v, float(info.min), float(info.max), out=v),
            partial(np.copyto, rt, v, casting="unsafe")]


eval_fast = cached_calls("opt_quantize_bufs", _Buffers, "eval_fast")


# --- 8-bit requantization: a table lookup ---

@register("QUANTIZE", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference.eval_requantize)
def prepare_table(node, reference_fn):
    """An 8-bit input takes 256 values, so the reference's result for each, one
    table for the SIMD blocks of 16 (ties rounded up) and one for the scalar
    tail (gemmlowp's rounding), is the kernel, bit-exact by construction: an
    invoke is one lookup (0.2 ms for a 224x224x3 image where the reference's
    int64 passes took 1.7)."""
    d = node.draft(OpData)
    d.opt_tables = _tables(node.inputs[0].dtype.str, node.outputs[0].dtype.str, d.mult, d.shift, d.in_zp, d.out_zp)
    return eval_table


@lru_cache(maxsize=256)
def _tables(in_dtype, out_dtype, mult, shift, in_zp, out_zp):
    """The two tables of prepare_table, read-only: shared by the nodes (and interpreters) requantizing
    alike (each costs ~0.1 ms of the reference's int64 passes, at every load)."""
    values = np.arange(256, dtype=np.uint8).view(in_dtype)       # index k holds the byte k
    tables = []
    for block in (16, 0):       # 256 values = 16 SIMD blocks; no blocks: the scalar tail's formula
        params = SimpleNamespace(simd_block=block, mult=mult, shift=shift, in_zp=in_zp, out_zp=out_zp)
        tables.append(np.empty(256, out_dtype))
        reference.eval_requantize(SimpleNamespace(data=params), [values], [tables[-1]])
        tables[-1].setflags(write=False)
    return tuple(tables)


class _TableBuffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        simd_table, tail_table = node.data.opt_tables
        xb, res = x.reshape(-1).view(np.uint8), out.reshape(-1)
        simd = len(xb) // 16 * 16 if node.data.simd_block else 0
        offset = _byte_offset(simd_table, tail_table)
        if offset is not None:
            # uint8 <-> int8 at equal scales: the tables shift bytes cyclically, a wrapping add (25x faster).
            self.calls = [partial(np.add, xb, np.uint8(offset), out=res.view(np.uint8))]
            return
        self.calls = []
        if simd:
            self.calls.append(partial(np.take, simd_table, xb[:simd], out=res[:simd], mode="clip"))
        if simd < len(xb):
            self.calls.append(partial(np.take, tail_table, xb[simd:], out=res[simd:], mode="clip"))


def _byte_offset(simd_table, tail_table):
    """k where both tables map the byte b to the byte (b + k) mod 256, else None."""
    if simd_table.dtype.itemsize != 1 or not np.array_equal(simd_table, tail_table):
        return None
    k = int(simd_table.view(np.uint8)[0])
    rotated = (np.arange(256) + k) % 256
    return k if np.array_equal(simd_table.view(np.uint8), rotated) else None


eval_table = cached_calls("opt_requantize_bufs", _TableBuffers, "eval_table")
