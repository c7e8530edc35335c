"""Optimized SOFTMAX.  float32: views and the row buffer kept across
invokes, the reductions as ufunc calls into that buffer, and one row
skipping the shift by its max when its sum allows (within float32
rounding of the reference's values)."""
from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import softmax as reference
from .._base import binds
from . import register
from ._cached import cached_calls

_max = np.maximum.reduce
_sum = np.add.reduce

# One row (a classifier's output at batch 1) skips the shift by its max when
# the unshifted exponentials sum into [2**-20, inf): then none overflowed,
# and any that underflowed is below 2**-100 of the total, under float32's
# resolution.  The shift is two of the five numpy calls of such a softmax.
_UNSHIFTED_MIN_SUM = 2.0 ** -20
_INF = float("inf")



@register("SOFTMAX", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_fast(node, reference_fn):
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    v = node.cache.get("row")
    if v is None or v[0] is not x or v[1] is not out:
        v = node.cache["row"] = _views(x, out)
    _, _, xv, ov, row, axis, keep = v
    if axis == 0 and _unshifted(xv, ov, row, data.beta):
        return
    _shifted(xv, ov, row, axis, keep, data.beta)


def _views(x, out):
    """Kept views and a buffer for the row max and sum.  One row runs on 1-D
    views with a 0-d buffer: numpy's broadcasting loops cost twice its plain
    ones there."""
    if x.size == x.shape[-1]:
        return (x, out, x.reshape(-1), out.reshape(-1), np.empty((), np.float32), 0, False)
    return (x, out, x, out, np.empty(x.shape[:-1] + (1,), np.float32), -1, True)


def _unshifted(xv, ov, row, beta, exp=np.exp, multiply=np.multiply, divide=np.divide) -> bool:
    """exp(beta * x) / sum for one row, if its sum allows (else False, `ov` scratch)."""
    exp(xv if beta == 1 else multiply(xv, beta, out=ov), out=ov)
    _sum(ov, 0, None, row, False)
    if _UNSHIFTED_MIN_SUM <= row.item() < _INF:
        divide(ov, row, out=ov)
        return True
    return False


def _shifted(xv, ov, row, axis, keep, beta):
    # The ufunc reductions straight, into the kept buffer: x.max()/sum() cost a
    # Python wrapper and an allocation each, a good part of a small softmax.
    _max(xv, axis, None, row, keep)
    np.subtract(xv, row, out=ov)
    if beta != 1:
        ov *= beta
    np.exp(ov, out=ov)
    _sum(ov, axis, None, row, keep)
    np.divide(ov, row, out=ov)


@binds(eval_float_fast)
def _bind_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    _, _, xv, ov, row, axis, keep = node.cache["row"] = _views(x, out)
    beta = node.data.beta
    shifted = partial(_shifted, xv, ov, row, axis, keep, beta)
    if axis != 0:
        return [shifted]

    def one_row(unshifted=_unshifted):
        if not unshifted(xv, ov, row, beta):
            shifted()
    return [one_row]


# --- int16 (LiteRT's one 16-bit kernel, see kernels/softmax.py) ---

@register("SOFTMAX", dtypes=(np.int16,), when=lambda node, ref: ref is reference._eval_softmax16)
def prepare_int16(node, reference_fn):
    return eval_int16


_EXP16: dict = {}


def exp_table16(mult, shift, lut):
    """The reference's exponential of every difference d = max - x in 0..65535 (its requantized
    difference looked up in the interpolated table), by the reference's own fixed-point
    functions, as float64 (exact: integers below 2**15); memoized per (mult, shift)."""
    from .. import _fixedpoint as fx

    key = (int(mult), int(shift), lut.tobytes())
    got = _EXP16.get(key)
    if got is None:
        scaled = fx.multiply_by_quantized_multiplier(-np.arange(65536, dtype=np.int64), mult, shift)
        got = fx.lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), lut).astype(np.float64)
        if len(_EXP16) > 64:
            _EXP16.clear()
        _EXP16[key] = got
    return got


class _Int16Buffers:
    """The reference's int16 softmax as bound calls: e = table[max - x] (exp_table16); each
    row's sum (exact in float64: below 2**31); the row's reciprocal from its sum by the
    reference's integer steps (a few values: one call); then out = (e * recip + 2**(r-1)) >> r
    as floor(e * (recip / 2**r) + 1/2): e * recip < 2**30 and r <= 31, so every float64 value is
    exact; the clip to [0, 32767] before the truncating cast (its floor on values >= 0)."""

    def __init__(self, node, x, out):
        self.x, self.out = x, out
        data = node.data
        last = x.shape[-1] if x.ndim else 1
        x2, o2 = x.reshape(-1, last), out.reshape(-1, last)
        rows = x2.shape[0]
        table = exp_table16(data.q_mult, data.q_shift, data.q_exp_lut)
        m = np.empty((rows, 1), x.dtype)
        idx = np.empty(x2.shape, np.intp)
        e = np.empty(x2.shape, np.float64)
        total = np.empty((rows, 1), np.float64)
        factor = np.empty((rows, 1), np.float64)
        recip_lut = data.q_recip_lut
        self.calls = [partial(np.maximum.reduce, x2, axis=1, keepdims=True, out=m),
                      partial(np.subtract, m, x2, out=idx, dtype=np.intp),
                      partial(np.take, table, idx, out=e, mode="clip"),
                      partial(np.add.reduce, e, axis=1, keepdims=True, out=total),
                      partial(_row_factors, total, factor, recip_lut),
                      partial(np.multiply, e, factor, out=e),
                      partial(np.add, e, 0.5, out=e),
                      partial(_clip, e, 0.0, 32767.0, out=e),
                      partial(np.copyto, o2, e, casting="unsafe")]


def _row_factors(total, factor, recip_lut):
    """recip / 2**(31 - headroom) per row, as the reference derives them from the row's sum
    (a few rows in Python integers: a dozen numpy calls on one value cost ten times as much)."""
    from .. import _fixedpoint as fx

    if total.size <= 4 and float(total.max()) < 2.0**31:
        lut = recip_lut.tolist() if isinstance(recip_lut, np.ndarray) else recip_lut
        for i, t in enumerate(total.reshape(-1).tolist()):
            t = int(t)
            headroom_plus_one = 32 - t.bit_length()
            shifted = ((t << (headroom_plus_one - 1)) + (1 << 13)) >> 14
            sym = min(max(shifted - ((1 << 15) + (1 << 16)), -32768), 32767)
            index, offset = 256 + (sym >> 7), sym & 0x7F
            base = lut[index]
            recip = ((base + (((lut[index + 1] - base) * offset + 64) >> 7) + 32768) & 0xFFFF) - 32768
            factor.reshape(-1)[i] = recip * 2.0 ** (headroom_plus_one - 31)
        return
    t = total.astype(np.int64)
    headroom_plus_one = fx.count_leading_zeros32(t)
    shifted = ((t << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
    recip = fx.lut_lookup_int16(sym, recip_lut)
    np.ldexp(recip.astype(np.float64), headroom_plus_one - 31, out=factor)


eval_int16 = cached_calls("opt_softmax16", _Int16Buffers, "eval_int16")


# --- int8 / uint8 input (LiteRT's optimized table kernel, see kernels/softmax.py) ---

@register("SOFTMAX", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_softmax8_table)
def prepare_table(node, reference_fn):
    return eval_table


class _TableBuffers:
    """The reference's table softmax as bound calls into buffers kept across invokes:
    e = table[max - x]; the float32 running sum in order (cumsum); prob = e / (sum * scale);
    q = floor(prob + 0.5) (+ zero point), which is round-half-away for prob >= 0."""

    def __init__(self, node, x, out):
        self.x, self.out = x, out
        last = x.shape[-1] if x.ndim else 1
        x2, o2 = x.reshape(-1, last), out.reshape(-1, last)
        rows = x2.shape[0]
        m = np.empty((rows, 1), x.dtype)
        idx = np.empty(x2.shape, np.intp)
        e = np.empty(x2.shape, np.float32)
        cs = np.empty(x2.shape, np.float32)
        inv = np.empty((rows, 1), np.float32)
        info = np.iinfo(out.dtype)
        zp = 0 if out.dtype == np.uint8 else node.data.q_out_zp
        self.calls = [partial(np.maximum.reduce, x2, axis=1, keepdims=True, out=m),
                      partial(np.subtract, m, x2, out=idx, dtype=np.intp),
                      partial(np.take, node.data.q_table, idx, out=e, mode="clip"),
                      partial(np.cumsum, e, axis=1, dtype=np.float32, out=cs)]
        if rows == 1:
            # One row (a classifier at batch 1): its reciprocal in float32 scalars, one call for two.
            self.calls.append(partial(_one_row_reciprocal, cs.reshape(-1), np.float32(node.data.q_out_scale),
                                      inv.reshape(-1)))
        else:
            self.calls += [partial(np.multiply, cs[:, -1:], node.data.q_out_scale, out=inv),
                           partial(np.divide, np.float32(1), inv, out=inv)]
        self.calls += [partial(np.multiply, e, inv, out=e),
                       partial(np.add, e, np.float32(0.5), out=e)]
        if out.dtype.itemsize == 1 and zp == info.min:
            # The usual 8-bit output (zero point at the bottom of the range): q - zp = floor(prob + 0.5)
            # clamped to [0, 255] is the output's byte less zp's; prob + 0.5 >= 0, so the truncating
            # cast into the unsigned view is that floor, and a wrapping add puts zp back (int8).
            u = o2.view(np.uint8)
            self.calls += [partial(_clip, e, np.float32(0), np.float32(255), out=e),
                           partial(np.copyto, u, e, casting="unsafe")]
            if zp:
                self.calls.append(partial(np.add, u, np.uint8(zp % 256), out=u))
            return
        self.calls.append(partial(np.floor, e, out=e))
        if zp:
            self.calls.append(partial(np.add, e, np.float32(zp), out=e))
        self.calls += [partial(_clip, e, np.float32(info.min), np.float32(info.max), out=e),
                       partial(np.copyto, o2, e, casting="unsafe")]


def _one_row_reciprocal(running, scale, inv):
    """inv[0] = 1 / (sum * scale) in float32, the sum the running sum's last value: the same two
    float32 operations as the array calls, on numpy float32 scalars (0.2 us each, not 0.9)."""
    inv[0] = np.float32(1) / (running[-1] * scale)


eval_table = cached_calls("opt_softmax8", _TableBuffers, "eval_table")
