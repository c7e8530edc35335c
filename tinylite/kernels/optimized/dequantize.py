"""Optimized DEQUANTIZE (int8/uint8/int16, per tensor): LiteRT's optimized
split (see kernels/dequantize.py) as bound calls without temporaries: the
blocks of 8 are float32(x) * scale + offset in float32, two passes writing
the output in place (the same two float32 roundings as the reference), or
for small tensors one lookup in the table of those values over the 256
inputs; the tail (fewer than 8 elements) is a lookup in the table of the
reference's formula over the 256 inputs (no kernel call)."""
from functools import partial

import numpy as np

from .. import dequantize as reference
from . import register
from ._cached import cached_calls


@register("DEQUANTIZE", dtypes=(np.int8, np.uint8),
          when=lambda node, ref: ref is reference.eval_affine_simd)
def prepare_fast(node, reference_fn):
    return eval_fast


# Up to this many values the blocks of 8 are one lookup too (a call less than the two float32 passes).
TABLE_MAX_SIZE = 4096


class _Buffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        xf, res = x.reshape(-1), out.reshape(-1)
        simd = len(xf) // 8 * 8
        self.calls = []
        values = np.arange(256, dtype=np.uint8).view(x.dtype)          # byte b encodes values[b]
        if simd and len(xf) <= TABLE_MAX_SIZE:
            table = np.empty(256, np.float32)
            np.multiply(values, node.data.scale32, out=table, dtype=np.float32)
            np.add(table, node.data.offset32, out=table)
            self.calls = [partial(np.take, table, xf[:simd].view(np.uint8), out=res[:simd], mode="clip")]
        elif simd:
            self.calls = [partial(np.multiply, xf[:simd], node.data.scale32, out=res[:simd], dtype=np.float32),
                          partial(np.add, res[:simd], node.data.offset32, out=res[:simd])]
        if simd < len(xf):
            # The tail's double formula, by the reference over the 256 values: a lookup.
            tail = np.empty(256, np.float32)
            reference.eval_affine(node, [values], [tail])
            if len(self.calls) == 1 and np.array_equal(table.view(np.uint32), tail.view(np.uint32)):
                # Both formulas agree on every byte (bit for bit): one lookup does the whole tensor.
                self.calls = [partial(np.take, tail, xf.view(np.uint8), out=res, mode="clip")]
                return
            self.calls.append(partial(np.take, tail, xf[simd:].view(np.uint8), out=res[simd:], mode="clip"))


eval_fast = cached_calls("opt_dequantize_bufs", _Buffers, "eval_fast")


# --- int16 ---

@register("DEQUANTIZE", dtypes=(np.int16,), when=lambda node, ref: ref is reference.eval_affine_simd)
def prepare_int16(node, reference_fn):
    return eval_int16


class _Int16Buffers:
    """The blocks of 8 as the 8-bit kernel's two float32 passes; the tail's double formula,
    (x - zero_point) * scale rounded once to float32, as two bound passes in float64 (the
    difference is exact) instead of the reference's int64 temporaries."""

    def __init__(self, node, x, out):
        self.x, self.out = x, out
        xf, res = x.reshape(-1), out.reshape(-1)
        simd = len(xf) // 8 * 8
        self.calls = []
        if simd:
            self.calls = [partial(np.multiply, xf[:simd], node.data.scale32, out=res[:simd], dtype=np.float32),
                          partial(np.add, res[:simd], node.data.offset32, out=res[:simd])]
        if simd < len(xf):
            tail = np.empty(len(xf) - simd, np.float64)
            self.calls += [partial(np.subtract, xf[simd:], np.float64(node.data.zero_point.reshape(-1)[0]), out=tail),
                           partial(np.multiply, tail, np.float64(node.data.scale.reshape(-1)[0]), out=res[simd:],
                                   casting="same_kind")]


eval_int16 = cached_calls("opt_dequantize16_bufs", _Int16Buffers, "eval_int16")
