"""The input side of LiteRT's hybrid (dynamic-range) kernels: float32 rows
quantized to int8 on the fly, written centered (q - zero point) as exact
small integers into a float buffer the integer product then reads.

The per-row parameters (scale, zero point, reciprocal) follow the
reference's formulas (_quantization._asymmetric_quantize_rows and
_symmetric_quantize_rows) on each row's extremes as scalars, and the
elements take the reference's float32 operations in its order, as bound
passes into preallocated buffers:

    asymmetric: q = clip(neon_round(x * inv) + zp, -128, 127) - zp
    symmetric:  q = clip(neon_round(x * inv), -127, 127)

with neon_round as the reference's _quantization._neon_round_rows (LiteRT's
x86 build runs its NEON code through NEON_2_SSE): in the whole blocks of 8
values of a row, trunc(p + copysign(0.5, p)) in float32, so a product just
under a half can round up; the last n % 8 values round half away from zero
exactly (in float64).  The zero point is added after rounding, and the
asymmetric reciprocal is 1.0 / scale in double, as there.  The products of
the kernels are then exact in float32 while 255 * sum|w| < 2**24 (float64
past it), so they equal the reference's float64 products rounded.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip



class RowQuantizer:
    """Quantizes `x` ([rows, ...] float32, one row per image or batch row)
    into `dst` (same shape, float32/64) at each call, centered (q - zero
    point) unless `centered` is False; `sf` and `zp32` hold the rows' float32
    scaling factors and zero points afterwards."""

    def __init__(self, x, dst, asymmetric, centered=True):
        rows = x.shape[0]
        self.x, self.dst = x, dst                 # dst may be a strided view (a padded buffer's interior)
        self.flat = x.reshape(rows, -1)           # x is an interpreter array: contiguous, a view
        self.axes = tuple(range(1, x.ndim))
        self.row_shape = (rows,) + (1,) * (x.ndim - 1)
        self.asymmetric = asymmetric
        self.tmp = np.empty(x.shape, np.float32)
        self.ext = np.empty((rows, 2), np.float32)
        self.sf = np.ones(rows, np.float32)
        self.lo = np.float32(-128 if asymmetric else -127)
        self.rounded = np.empty(x.shape, np.float32)     # contiguous: its flat tail is the row's last values
        self.flat_tmp, self.flat_rounded = self.tmp.reshape(rows, -1), self.rounded.reshape(rows, -1)
        self.tail = self.flat.shape[1] % 8
        self.zp32 = np.zeros(self.row_shape, np.float32) if asymmetric else None
        self.centered = centered

    def __call__(self):
        x, tmp, ext, a = self.x, self.tmp, self.ext, self.rounded
        np.minimum.reduce(self.flat, axis=1, out=ext[:, 0])
        np.maximum.reduce(self.flat, axis=1, out=ext[:, 1])
        np.multiply(x, self._scales(ext).reshape(self.row_shape), out=tmp)
        np.copysign(np.float32(0.5), tmp, out=a)
        np.add(a, tmp, out=a)
        np.trunc(a, out=a)
        if self.tail:
            # Past the last whole block of 8, C's round(): exact in float64.
            t = self.flat_tmp[:, -self.tail:].astype(np.float64)
            self.flat_rounded[:, -self.tail:] = np.trunc(t + np.copysign(0.5, t))
        if self.zp32 is not None:
            np.add(a, self.zp32, out=a)
        _clip(a, self.lo, np.float32(127), out=a)
        if self.zp32 is not None and self.centered:
            np.subtract(a, self.zp32, out=self.dst)
        else:
            np.copyto(self.dst, a)

    def _scales(self, ext):
        """The rows' reciprocal scales (float32); sets sf and the zero points.  Scalar
        arithmetic per row (the reference's array formulas cost 50 us on two values)."""
        inv = np.empty(len(ext), np.float32)
        zps = self.zp32.reshape(-1) if self.asymmetric else np.empty(len(ext), np.float32)
        for i, (lo, hi) in enumerate(ext.tolist()):
            self.sf[i], inv[i], zps[i] = (asymmetric_params if self.asymmetric else symmetric_params)(lo, hi)
        return inv


_F1, _F127 = np.float32(1), np.float32(127)


def asymmetric_params(lo, hi):
    """(scale factor, reciprocal, zero point) of AsymmetricQuantizeFloats for a row with
    extremes lo, hi: _quantization._asymmetric_quantize_rows' formulas on scalars."""
    rmin32, rmax32 = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    rmin, rmax = float(rmin32), float(rmax32)
    if rmin == rmax:
        return _F1, _F1, 0.0
    scale = float(rmax32 - rmin32) / 255.0          # the float32 difference, divided in double
    zp_min, zp_max = -128.0 - rmin / scale, 127.0 - rmax / scale
    zp = zp_min if 128.0 + abs(rmin / scale) < 127.0 + abs(rmax / scale) else zp_max
    nudged = -128 if zp <= -128 else 127 if zp >= 127 else math.copysign(math.floor(abs(zp) + 0.5), zp)
    sf = np.float32(scale)
    return sf, np.float32(1.0 / float(sf)), float(nudged)      # 1.0 / scale in double, as the NEON code


def symmetric_params(lo, hi):
    """(scale factor, reciprocal, 0) of SymmetricQuantizeFloats for a row with extremes lo, hi."""
    rng = np.float32(max(abs(lo), abs(hi)))
    if rng == 0:
        return _F1, _F127, 0.0
    return rng / _F127, _F127 / rng, 0.0


def product_dtype(weights, axis):
    """float32 where every sum of products of quantized values (|q| <= 255
    centered) with the exact int8 `weights` over `axis` stays below 2**24,
    so is exact in it; else float64."""
    bound = 255.0 * float(np.abs(weights).sum(axis=axis).max(initial=0))
    return np.float32 if bound < 2.0**24 else np.float64


def rescale_calls(dst, scale, bias, clamp):
    """The reference's float32 epilogue on the products in `dst`, in place:
    times the (row factor x weight scale) `scale`, plus the float32 `bias`
    (or None), clamped to `clamp` (lo, hi, or None)."""
    calls = [partial(np.multiply, dst, scale, out=dst)]
    if bias is not None:
        calls.append(partial(np.add, dst, bias, out=dst))
    if clamp is not None:
        calls.append(partial(np.clip, dst, *clamp, out=dst))
    return calls
