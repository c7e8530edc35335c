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
import struct
from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip   # the ufunc: np.clip's wrapper costs ~2 us a call


class RowQuantizer:
    """Quantizes `x` ([rows, ...] float32, one row per image or batch row)
    into `dst` (same shape, float32/64) at each call, centered (q - zero
    point) unless `centered` is False; `sf` and `zp32` hold the rows' float32
    scaling factors and zero points afterwards.

    Six or seven passes over the values, each a fast numpy loop: the product; the
    signed half copysign(0.5, p) as two integer passes on the float32 bits
    (numpy's copysign has no SIMD loop: 8x slower); the add and the trunc; the
    clamp as maximum then minimum (np.clip's loop is 3x slower than both).
    The clamp of the centered values takes the bounds less the zero point:
    every value is an exact small integer in float32, so
    clip(r + zp, lo, 127) - zp = clip(r, lo - zp, 127 - zp).  It is skipped
    on an invoke where it changes nothing: the product and both roundings are
    monotonic, so the rows' rounded extremes (computed as scalars) bound every
    value; with a non-finite product the clamp runs.

    `non_negative` says every value of x is >= 0 or NaN (its producer clamps at 0:
    TensorSpec.non_negative): the rows' minima are then not computed but taken as 0,
    which gives the same parameters and path (the asymmetric range and the
    symmetric one start at 0 either way, and a NaN or infinity still shows in the
    maximum)."""

    def __init__(self, x, dst, asymmetric, centered=True, non_negative=False):
        rows = x.shape[0]
        self.x, self.dst = x, dst                 # dst may be a strided view (a padded buffer's interior)
        self.flat = x.reshape(rows, -1)           # x is an interpreter array: contiguous, a view
        self.row_shape = (rows,) + (1,) * (x.ndim - 1)
        self.asymmetric = asymmetric
        self.centered = centered
        self.ext = np.zeros((rows, 2), np.float32)
        self.extremes = (partial(np.maximum.reduce, self.flat, axis=1, out=self.ext[:, 1]),)
        if not non_negative:
            self.extremes += (partial(np.minimum.reduce, self.flat, axis=1, out=self.ext[:, 0]),)
        self.sf = np.ones(rows, np.float32)
        self.inv = np.ones(self.row_shape, np.float32)
        self.tail = self.flat.shape[1] % 8
        self.zp32 = np.zeros(self.row_shape, np.float32) if asymmetric else None
        # The clamp's bounds per row (less the zero point where the output is centered).
        self.lo = np.full(self.row_shape, -128.0 if asymmetric else -127.0, np.float32)
        self.hi = np.full(self.row_shape, 127.0, np.float32)
        self.shift_bounds = asymmetric and centered
        # Flat views the row parameters are written through (a reshape per invoke costs ~0.4 us).
        self.flat_params = (self.sf, self.inv.reshape(-1), self.lo.reshape(-1), self.hi.reshape(-1),
                            None if self.zp32 is None else self.zp32.reshape(-1))
        # The passes after the extremes run a slice of axis 1 at a time where x is large, so that
        # their scratch stays in cache (past the L2 cache every pass ran at memory speed).  The
        # last slice holds at least 8 values of each row: the rows' tails (n % 8) lie in it.
        length = x.shape[1] if x.ndim > 1 else 1
        inner = x.size // max(1, rows * length)          # values per row and index of axis 1
        step = length
        if x.ndim > 1 and x.size > QUANTIZE_CHUNK:
            step = max(1, QUANTIZE_CHUNK // max(1, rows * inner))
            if (length - (length - 1) // step * step) * inner < 8:
                step = length
        scratch = np.empty(2 * rows * step * inner, np.float32)
        self.slices = []
        for i0 in range(0, length, step):
            k = min(length, i0 + step) - i0
            shape = (rows, k) + x.shape[2:] if x.ndim > 1 else x.shape
            # Contiguous: a row's flat tail is its last values.
            t = scratch[:rows * k * inner].reshape(shape)
            a = scratch[rows * step * inner:rows * step * inner + rows * k * inner].reshape(shape)
            xs, ds = (x[:, i0:i0 + k], dst[:, i0:i0 + k]) if x.ndim > 1 else (x, dst)
            self.slices.append((xs, ds, t, a, t.view(np.int32), a.view(np.int32)))
        # One image, one slice, no tail, the values written as rounded: a non-negative image
        # that needs no clamp takes three bound passes (see __call__).
        self.plain = None
        if rows == 1 and len(self.slices) == 1 and not self.tail and not (asymmetric and not centered):
            xs, ds, t, a = self.slices[0][:4]
            self.plain = (partial(np.multiply, xs, self.inv, out=t), partial(np.add, t, _HALF, out=a),
                          partial(np.trunc, a, out=ds))

    def __call__(self):
        for extreme in self.extremes:
            extreme()
        ext_rows = self.ext.tolist()
        if self.plain is not None and ext_rows[0][0] >= 0.0 and not self._non_negative_params(ext_rows[0][1]):
            for call in self.plain:
                call()
            return
        clamp = self._row_params(ext_rows)
        # With no negative value (after a ReLU, most often) copysign(0.5, p) is 0.5: two passes
        # fewer.  A -0.0 then rounds to 0.0 instead of -0.0: the products that read the values
        # sum from +0 (BLAS, einsum), where a zero's sign cannot show.  NaN takes the full path.
        signed = not all(lo >= 0.0 for lo, _ in ext_rows)
        last = len(self.slices) - 1
        for i, (x, dst, tmp, a, tmp_bits, a_bits) in enumerate(self.slices):
            np.multiply(x, self.inv, out=tmp)
            if signed:
                np.bitwise_and(tmp_bits, _SIGN_BIT, out=a_bits)
                np.bitwise_or(a_bits, _HALF_BITS, out=a_bits)     # copysign(0.5, p)
                np.add(tmp, a, out=a)
            else:
                np.add(tmp, _HALF, out=a)
            tail = self.tail if i == last else 0
            if not (clamp or tail):
                # Nothing between the rounding and dst: write it there.
                if self.asymmetric and not self.centered:
                    np.trunc(a, out=a)
                    np.add(a, self.zp32, out=dst)
                else:
                    np.trunc(a, out=dst)
                continue
            np.trunc(a, out=a)
            if tail:
                # Past the last whole block of 8 of a row, C's round(): exact in float64.
                t = tmp.reshape(len(tmp), -1)[:, -tail:].astype(np.float64)
                a.reshape(len(a), -1)[:, -tail:] = np.trunc(t + np.copysign(0.5, t))
            if self.asymmetric and not self.centered:
                np.add(a, self.zp32, out=a)
            if clamp:
                _clip(a, self.lo, self.hi, out=dst)
            else:
                np.copyto(dst, a)

    def _non_negative_params(self, hi):
        """_row_params for one row whose minimum is >= 0 (hi its maximum), in fewer steps
        (the same values: rmin is 0, so the asymmetric zero point is -128 and the clamp's
        lower bound cannot be reached); returns whether the clamp can change a value."""
        if not (hi > 0.0 and math.isfinite(hi)):
            return self._row_params([[0.0, hi]])
        sf = _f32(hi / 255.0 if self.asymmetric else hi / 127.0)
        if not sf:
            return self._row_params([[0.0, hi]])
        r = _f32(1.0 / sf) if self.asymmetric else _f32(127.0 / hi)
        params = self.flat_params
        params[0][0] = sf
        params[1][0] = r
        if self.asymmetric:
            params[4][0] = -128.0
            if self.shift_bounds:
                params[2][0], params[3][0] = 0.0, 255.0
        p_hi = _f32(hi * r)
        return not (math.isfinite(p_hi) and math.trunc(_f32(p_hi + 0.5)) <= (255.0 if self.asymmetric else 127.0))

    def _row_params(self, ext):
        """Sets the rows' scale factors, reciprocals, zero points and clamp bounds from their
        extremes (scalar arithmetic per row: the reference's array formulas cost 50 us on two
        values); returns whether the clamp can change a value on this invoke."""
        sf, inv, lo, hi, zps = self.flat_params
        if len(ext) == 1 and self.asymmetric:
            (rlo, rhi), = ext
            sf[0], r, zp = asymmetric_params(rlo, rhi)
            inv[0] = r
            zps[0] = zp
            bottom, top = -128.0 - zp, 127.0 - zp
            if self.shift_bounds:
                lo[0], hi[0] = bottom, top
            return not _rounds_within(rlo, rhi, r, bottom, top)
        clamp = False
        if not self.asymmetric:
            for i, (rlo, rhi) in enumerate(ext):
                sf[i], r, _ = symmetric_params(rlo, rhi)
                inv[i] = r
                clamp = clamp or not _rounds_within(rlo, rhi, r, -127.0, 127.0)
            return clamp
        for i, (rlo, rhi) in enumerate(ext):
            sf[i], r, zp = asymmetric_params(rlo, rhi)
            inv[i] = r
            zps[i] = zp
            if self.shift_bounds:
                lo[i], hi[i] = -128.0 - zp, 127.0 - zp
            clamp = clamp or not _rounds_within(rlo, rhi, r, -128.0 - zp, 127.0 - zp)
        return clamp


def _rounds_within(lo, hi, inv, bottom, top):
    """Whether every value of a row with extremes lo, hi, times inv (> 0) in float32 and
    rounded (LiteRT's block rounding or C's round()), lies in [bottom <= 0, top >= 0].
    Only a product's sign side can pass a bound, and there the block rounding reaches at
    least as far as C's (the float32 sum p +- 0.5 rounds away from p no less than to it
    across an integer), so it alone decides."""
    p_lo, p_hi = _f32(lo * inv), _f32(hi * inv)
    if not (math.isfinite(p_lo) and math.isfinite(p_hi)):
        return False
    return (p_lo >= 0 or bottom <= math.trunc(_f32(p_lo - 0.5))) and (p_hi <= 0 or math.trunc(_f32(p_hi + 0.5)) <= top)


# Values per slice of RowQuantizer's passes (its two scratch buffers and the slices of x and dst
# then take 1 MiB).
QUANTIZE_CHUNK = 1 << 16

# The sign bit of a float32, and the bits of 0.5, as int32 (copysign(0.5, p) = (p & sign) | half).
_SIGN_BIT = np.int32(-2**31)
_HALF_BITS = np.int32(0x3F000000)
_HALF = np.float32(0.5)


def _f32(v):
    """v rounded to float32, as a Python float (float32 +, -, / of float32 values computed in
    double and rounded once give float32's results: 53 >= 2 * 24 + 2 bits)."""
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(v))[0]
    except OverflowError:           # a finite v rounding past float32's largest value
        return math.copysign(math.inf, v)


_FLOAT32 = struct.Struct("f")          # packing rounds to float32 (3x faster than np.float32(v))



# A row holding a NaN or an infinity: NaN parameters make every value quantized from it, and every
# output, NaN (the reference's definition: _quantization._non_finite_rows).
_NON_FINITE_ROW = (math.nan, math.nan, 0.0)


def asymmetric_params(lo, hi):
    """(scale factor, reciprocal, zero point) of AsymmetricQuantizeFloats for a row with
    float32 extremes lo, hi: _quantization._asymmetric_quantize_rows' formulas on scalars."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _NON_FINITE_ROW
    rmin, rmax = min(lo, 0.0), max(hi, 0.0)
    if rmin == rmax:
        return 1.0, 1.0, 0.0
    scale = _f32(rmax - rmin) / 255.0               # the float32 difference, divided in double
    zp_min, zp_max = -128.0 - rmin / scale, 127.0 - rmax / scale
    zp = zp_min if 128.0 + abs(rmin / scale) < 127.0 + abs(rmax / scale) else zp_max
    nudged = -128.0 if zp <= -128 else 127.0 if zp >= 127 else math.copysign(math.floor(abs(zp) + 0.5), zp)
    sf = _f32(scale)
    return sf, _f32(1.0 / sf) if sf else math.inf, nudged     # 1.0 / scale in double, as the NEON code


def symmetric_params(lo, hi):
    """(scale factor, reciprocal, 0) of SymmetricQuantizeFloats for a row with float32 extremes lo, hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _NON_FINITE_ROW
    rng = max(abs(lo), abs(hi))
    if rng == 0:
        return 1.0, 127.0, 0.0
    return _f32(rng / 127.0), _f32(127.0 / rng), 0.0


def product_dtype(weights, axis):
    """float32 where every sum of products of quantized values (|q| <= 255
    centered) with the exact int8 `weights` over `axis` stays below 2**24,
    so is exact in it; else float64."""
    bound = 255.0 * float(np.abs(weights).sum(axis=axis).max(initial=0))
    return np.float32 if bound < 2.0**24 else np.float64


def rescale_calls(dst, scale, bias, clamp):
    """The reference's float32 epilogue on the products in `dst`, in place:
    times the (row factor x weight scale) `scale` (None: already scaled), plus
    the float32 `bias` (or None), clamped to `clamp` (lo, hi, or None)."""
    calls = [] if scale is None else [partial(np.multiply, dst, scale, out=dst)]
    if bias is not None:
        calls.append(partial(np.add, dst, bias, out=dst))
    if clamp is not None:
        calls.append(partial(_clip, dst, *clamp, out=dst))
    return calls
