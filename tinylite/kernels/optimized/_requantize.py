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

Where the products stay exact in float64, the same floor takes float64
passes instead of int64 ones (measured 2x faster: numpy's int64 multiply and
float->int64 casts are not vectorized).  With the clamp's lower bound moved
into the constant,

    v' = acc * (M / 2**s) + (C / 2**s + zp - lo),   out = trunc(clip(v', 0, hi - lo)) + lo

acc * M is an integer below 2**53 when |acc| * 2**31 < 2**53, so acc * M / 2**s
is exact (a power-of-two scale); the constant is exact too (C < 2**(s+1), a
multiple of 2**-s plus an integer below 2**9 when s <= 44).  Their sum is a
multiple of 2**-s, exact while |v'| < 2**(53-s); every value inside the clamp
(0 <= v' <= hi - lo, checked: (hi - lo + 1) * 2**s <= 2**53) is then exact, and
outside it the one rounding of the sum cannot cross the clamp (rounding is
monotone and the bounds are representable), so clamp and floor see the exact
value.  The clamp bounds are integers, so clamp and floor commute, and on
[0, hi - lo] the truncating float->unsigned cast is the floor: the passes are
a float32->float64 copy, a multiply, an add, the clip, the cast into the
output's unsigned view and, where lo is not 0 modulo 256, lo added back by a
wrapping add on the bytes (two's complement: the int8 value is the byte).
That replaced a float64 floor pass and a mixed float32 x float64 multiply
(28 us per 32K values against 17 for the copy and an in-place multiply).
A per-channel bias (int32) rides in the constant as bias * M / 2**s under the
same bound (`acc_bound` covers |bias|).  gemmlowp's channels subtract 2**31
from the numerator where acc + bias < 0: that is -2**30 in the constant plus
copysign(2**30, acc + bias), both over 2**s, three more float passes (still
faster than the int64 path's masked subtract).

On arrays of more than a few thousand values the clamp and cast run on int16 where
|v - lo| stays below 2**15 (checked per channel from the accumulator's range), else on
int32: a truncating float64 -> int16 (int32) cast (exact on such values; a negative one
truncates to at most 0, which the clamp makes 0 like its floor), then one clamp casting
into the output (12 us per 32K values against 20 for the float64 clip and cast; with
int32, 15-17 us).  The integers may live in the accumulator's memory once it is read
(`acc_scratch`).  Channels whose shift passes the float
path's bounds (s > 44: nearly dead filters, a tiny multiplier with a large bias)
take it split where they can (_split_channels: a floor, then an integer added).

Byte outputs whose clamp's low end lo is not 0 modulo 256 keep v - lo + (lo mod 256)
under the integer clamp, whose bytes are v's (no pass adding lo back).  The multiply and
add broadcast per-channel constants repeated along rows of at least numpy's buffer
size (shorter rows run its buffered loop at half the speed).  Where the float path
needs only a multiply and an add, they can ride in a float64 product instead
(Requantizer.product_form: the weights scaled per channel over a row holding the
constant, see _gemm.scaled_product), leaving the clamp and the cast (finish_calls).
"""
from __future__ import annotations

from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip   # the ufunc: np.clip's wrapper costs 5 us a call


# Up to this many values one mixed float32 x float64 multiply beats a copy and a multiply.
MIXED_MULTIPLY_MAX = 4096
# Up to this many values, the float path clamps in float64 and casts (two calls, a third adding lo
# back where needed: 1.8 us for 512 values) rather than casting to int16 and clamping into the output
# (2.8 us: a clamp casting its output costs more than both at small sizes; 15 against 27 us at 32K).
NARROW_MIN = 4096
# Rows of at least this many values (numpy's buffer size) take per-channel constants repeated
# along them, filled at the first invoke (see Requantizer._long_rows).
LONG_ROW = np.getbufsize()


class _Tiled:
    """A requantizer's constants by name, tiled where used (Requantizer.tiled)."""

    __slots__ = ("rq",)

    def __init__(self, rq):
        self.rq = rq

    def __getitem__(self, name):
        return self.rq.tiled(name)


class Requantizer:
    """Per-channel constants and the calls that requantize one float array.

    `mult`, `shift`: per channel (LiteRT's QuantizeMultiplier); `gemmlowp`:
    per-channel bool, True where LiteRT rounds the shift half away from zero
    (gemmlowp / reference kernels), False where half up (ruy, NEON); `zp`,
    `lo`, `hi`: output zero point and clamp; `acc_bound`: a bound on |acc| and
    |acc + bias| (scalar or per channel); `acc_range`: a bound on |acc| alone where
    tighter (the range over which a channel with a tiny multiplier is checked constant).
    `tile` repeats the channel constants for arrays whose last axis is `tile`
    pixels of all channels: numpy's loops broadcasting a short row of
    constants run 2-5x slower than over rows of a few hundred elements.
    """

    def __init__(self, mult, shift, gemmlowp, zp, lo, hi, acc_bound, tile=1, bias=None, acc_range=None):
        base = _channel_constants(mult, shift, gemmlowp, zp, lo, hi, acc_bound, bias,
                                  acc_bound if acc_range is None else acc_range)
        self.__dict__.update(base)
        self.tile = tile
        self._tiled = {}

    def tiled(self, name):
        """The per-channel constant `name` repeated `tile` times (scalars and None as they are),
        made where a call uses it: a requantizer's calls use a few of its constants (c or c_wrap,
        the int64 path's or the float path's), and binding a model makes hundreds of requantizers."""
        got = self._tiled.get(name, self._tiled)
        if got is self._tiled:
            got = getattr(self, name)
            if isinstance(got, np.ndarray) and self.tile != 1:
                got = tile_last(got, self.tile)
            self._tiled[name] = got
        return got

    def _long_rows(self, acc, t, out, names):
        """({name: constants}, fill call or None, shape): the float path's per-channel constants
        repeated to rows of L >= LONG_ROW values (L a multiple of their period dividing acc's size),
        for calls on acc, t and out viewed as `shape` = [size / L, L]; None where acc is not
        contiguous, has no such L (up to 4 LONG_ROW), or is one row already.  A binary ufunc
        broadcasting a row of constants shorter than numpy's buffer (8192 values) runs its
        buffered loop, twice as slow as over rows at least that long (measured over 32K values:
        rows of 512 or 4096, 16 us a multiply or an add; rows of 8192, 8).  Repeating the constants
        over whole chunks would cost their memory (a quarter MB each per layer).  The repeated rows
        (`names`: those the calls use) are shared by a kernel's chunks of the same L and filled at
        the first invoke: at allocate, 50 layers' worth would add a few ms to a model's load."""
        if not (acc.flags.c_contiguous and t.flags.c_contiguous and out.flags.c_contiguous):
            return None
        # A kernel binds many chunks of one size: their layout is worked out once (bind time counts
        # in a model's load).
        seen = self.__dict__.setdefault("_long_sizes", {})
        key = (acc.size, names)
        if key in seen:
            got = seen[key]
            return None if got is None else (got[0], None, got[1])
        got = self._long_layout(acc.size, names)
        seen[key] = None if got is None else (got[0], got[2])
        return got

    def _long_layout(self, size, names):
        period = np.shape(self.m)[-1] if np.ndim(self.m) else 0
        if period < 2 or size <= period or size % period:
            return None
        rows = size // period
        want = -(-LONG_ROW // period)
        if rows < want:
            return None
        d = next((d for d in range(want, min(rows, 4 * want) + 1) if rows % d == 0), None)
        if d is None:
            return None
        length = d * period
        consts = self.__dict__.setdefault("_long", {}).setdefault(length, {})
        fill = OnceFill([])
        for name in names:
            if name not in consts:
                row = getattr(self, name)
                if isinstance(row, np.ndarray) and row.ndim == 1 and row.shape[-1] == period:
                    consts[name] = np.empty(length, row.dtype)
                    fill.pairs.append((consts[name].reshape(-1, period), row))     # the row repeated
                else:
                    consts[name] = row
        return consts, fill if fill.pairs else None, (size // length, length)

    def wraps(self, out_dtype, size) -> bool:
        """Whether f holds v - lo + (lo mod 256) for this output type (see _compute_constants), in
        arrays of up to `size` values: a byte output with lo not 0 modulo 256, whose bytes are then
        v's, so no pass adds lo back; not for arrays of up to NARROW_MIN values (see finish_calls)."""
        return (self.exact_float and self.narrow is not None and np.dtype(out_dtype).itemsize == 1 and self.c_wrap is not None
                and size > NARROW_MIN)

    def finish_calls(self, f, out, wrap, narrow):
        """Calls writing `out` from f (float64) holding v - lo, or v - lo + (lo mod 256) with `wrap`;
        `narrow`: a scratch of f's shape and type self.narrow where that is set (else None)."""
        # Clamped to [0, hi - lo], f's truncating cast is its floor; the unsigned view of `out` then
        # gets lo back by a wrapping add on bytes (a pass 5x cheaper than a float64 floor), or has it
        # already (wrap).
        unsigned = np.dtype(f"u{out.dtype.itemsize}")
        u = out.view(unsigned)
        if wrap or (self.narrow is not None and f.size > NARROW_MIN):
            # |v - lo| < 2**15 (or 2**31, checked): its truncating cast to int16 (int32) is exact, and
            # equals the floor wherever the clamp keeps the value (v - lo >= 0; a negative one truncates
            # to at most 0, which the clamp makes 0 like its floor).  Then the clamp runs on integers
            # straight into `out`: 12 us per 32K values against 20 for a float64 clamp and a cast.
            low, kind = (self.wrap if wrap else 0), self.narrow
            calls = [partial(np.copyto, narrow, f, casting="unsafe"),
                     partial(_clip, narrow, kind(low), kind(low + self.span), out=u, casting="unsafe")]
        else:
            calls = [partial(_clip, f, 0.0, self.span, out=f), partial(np.copyto, u, f, casting="unsafe")]
        lo_wrap = self.lo % (1 << (8 * unsigned.itemsize))
        if lo_wrap and not wrap:
            calls.append(partial(np.add, u, unsigned.type(lo_wrap), out=u))
        return calls

    def product_form(self, acc_range, wrap):
        """(m, c) per channel (float64), with which a float64 product sum(x * (w * m)) + 1 * c is f
        exactly (see finish_calls; with `wrap`, see wraps), summed in any order, for
        integer x * w whose sum of magnitudes is at most `acc_range` per channel; or None.  Every
        term is then a multiple of 2**-s (w * M < 2**39 is exact, x * w * M an integer, c's numerator
        an integer) and every partial sum below 2**(53 - s) in magnitude (checked): exact, so BLAS's
        order and fused multiply-adds cannot change it.  A constant channel (m = 0) gets its value
        from c alone.  None where the float path needs more passes (gemmlowp's sign, split channels)
        or is not taken, and for a tiled requantizer (its constants are repeated)."""
        if not self.exact_float or self.half_delta is not None or self.q is not None or self.tile != 1:
            return None
        c = self.c_wrap if wrap else self.c
        limit = np.ldexp(1.0 - 2.0**-20, 53 - self.s_float)
        if not np.all(np.asarray(acc_range, np.float64) * np.abs(self.m) + np.abs(c) < limit):
            return None
        return self.m, c

    @staticmethod
    def applies(shift) -> bool:
        return bool(np.all(np.asarray(shift) <= 0))

    def calls(self, acc, t, out, mask=None, acc_scratch=False):
        """Zero-argument calls: `out` (integer) from `acc` (exact integers in
        float32/64); `t` an int64 scratch of acc's shape (the float64 path uses
        its memory as float64), `mask` a bool one (needed with gemmlowp channels).
        With `acc_scratch`, the caller does not read `acc` after these calls:
        its memory may hold the int16 clamp's values (no scratch of their own)."""
        if self.exact_float:
            calls = []
            wrap = self.wraps(out.dtype, acc.size)
            names = ("m", "c_wrap" if wrap else "c") + (("half_delta", "bias_f") if self.half_delta is not None else ()) + (
                ("q",) if self.q is not None else ())
            k = self._long_rows(acc, t, out, names)
            if k is not None:
                consts, fill, shape = k
                acc, t, out = acc.reshape(shape), t.reshape(shape), out.reshape(shape)
                if fill is not None:
                    calls.append(fill)
            else:
                consts = _Tiled(self)
            f = t.view(np.float64)
            if acc.dtype == np.float32 and acc.size > MIXED_MULTIPLY_MAX:
                # A float32 -> float64 copy and an in-place multiply take 17 us per 32K values where one
                # mixed-type multiply takes 28 (numpy casts it in small buffered blocks); below a few
                # thousand values the call saved is worth more.
                calls += [partial(np.copyto, f, acc), partial(np.multiply, f, consts["m"], out=f)]
            else:
                calls.append(partial(np.multiply, acc, consts["m"], out=f))
            calls.append(partial(np.add, f, consts["c_wrap" if wrap else "c"], out=f))
            if self.half_delta is not None:
                # One scratch per shape, shared by the chunks (their calls run one after another).
                sign = self.__dict__.setdefault("_sign", {}).get(acc.shape)
                if sign is None:
                    sign = self._sign[acc.shape] = np.empty(acc.shape, np.float64)
                calls += [partial(np.add, acc, consts["bias_f"], out=sign),
                          partial(np.copysign, consts["half_delta"], sign, out=sign),
                          partial(np.add, f, sign, out=f)]
            if self.q is not None:
                # Split channels (see _split_channels): v - lo = floor(f) + q.
                calls += [partial(np.floor, f, out=f), partial(np.add, f, consts["q"], out=f)]
            if wrap or (self.narrow is not None and acc.size > NARROW_MIN):
                kind = np.dtype(self.narrow)
                if acc_scratch and acc.flags.c_contiguous and acc.dtype.itemsize >= kind.itemsize:
                    # acc was last read above (the multiply, gemmlowp's sign): its bytes are free.
                    narrow = acc.reshape(-1).view(kind)[:acc.size].reshape(acc.shape)
                else:
                    narrow = self.__dict__.setdefault("_narrow", {}).get(acc.shape)
                    if narrow is None:
                        narrow = self._narrow[acc.shape] = np.empty(acc.shape, kind)
            else:
                narrow = None
            return calls + self.finish_calls(f, out, wrap, narrow)
        # The bias, where it does not ride in the constant, is added in int64: acc's float type holds
        # acc exactly, not necessarily acc + bias.
        k = self.tiled
        calls = [partial(np.copyto, t, acc, casting="unsafe")]
        if self.bias is not None:
            calls.append(partial(np.add, t, k("bias"), out=t))
        if self.delta is not None:
            calls.append(partial(np.less, t if self.bias is not None else acc, k("sign_at"), out=mask))
        calls += [partial(np.multiply, t, k("m"), out=t), partial(np.add, t, k("c"), out=t)]
        if self.delta is not None:
            calls.append(partial(np.subtract, t, k("delta"), out=t, where=mask))
        calls.append(partial(np.right_shift, t, k("s"), out=t))
        if not self.fold:
            calls.append(partial(np.add, t, self.zp, out=t))
        # A clip casting into the output runs 4x slower than a clip in place and a casting copy.
        lo, hi = np.int64(self.lo), np.int64(self.hi)
        return calls + [partial(_clip, t, lo, hi, out=t), partial(np.copyto, out, t, casting="unsafe")]


_CONSTANTS: dict = {}


def _channel_constants(mult, shift, gemmlowp, zp, lo, hi, acc_bound, bias, acc_range):
    """Requantizer's per-channel constants (before tiling), memoized: a model's
    layers are bound at every allocate, and the numpy calls on these short
    arrays cost about 0.1 ms per requantizer."""
    arrays = [np.asarray(a) for a in (mult, shift, gemmlowp) + (() if bias is None else (bias,))]
    bounds = [np.asarray(a, np.float64) for a in (acc_bound, acc_range)]
    key = (tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays + bounds), int(zp), int(lo), int(hi), bias is None)
    got = _CONSTANTS.get(key)
    if got is None:
        if len(_CONSTANTS) > 4096:
            _CONSTANTS.clear()
        got = _CONSTANTS[key] = _compute_constants(mult, shift, gemmlowp, zp, lo, hi, acc_bound, bias, acc_range)
    return got


def _compute_constants(mult, shift, gemmlowp, zp, lo, hi, acc_bound, bias, acc_range):
    out = {}
    mult = np.asarray(mult, np.int64)
    r = -np.asarray(shift, np.int64)
    s = 31 + r
    c = (np.int64(1) << 30) + np.where(r > 0, np.int64(1) << np.maximum(s - 1, 0), 0)
    gemmlowp = np.broadcast_to(np.asarray(gemmlowp, bool), r.shape)
    delta = np.where(gemmlowp & (r > 0), np.int64(1) << 31, 0).astype(np.int64)
    out["lo"], out["hi"] = int(lo), int(hi)
    out["zp"] = zp = int(zp)
    smax = int(s.max()) if s.size else 31
    bound = np.asarray(acc_bound, np.float64)
    # float64 path (module docstring): products exact, constants exact, per channel.
    shape = np.broadcast_shapes(s.shape, bound.shape, np.shape(bias) if bias is not None else ())
    s_b, mult_b, bound_b = (np.broadcast_to(a, shape) for a in (s, mult, bound))
    c_b, delta_b = np.broadcast_to(c, shape), np.broadcast_to(delta, shape)
    exact = (s_b <= 44) & (bound_b * mult_b < 2.0**53) & ((hi - lo + 1) * np.ldexp(1.0, s_b) <= 2.0**53)
    # The constant's numerator C + bias * M + (zp - lo) * 2**s (- delta / 2), in int64, must be below 2**53
    # (|bias| * M < 2**62 and the rest below 2**53 where s <= 44: no int64 overflow).
    numerator = c_b + (np.int64(zp - lo) << np.where(exact, s_b, 0)) - delta_b // 2
    if bias is not None:
        numerator = numerator + np.broadcast_to(np.asarray(bias, np.int64), shape) * mult_b
    exact &= np.abs(numerator) < (np.int64(1) << 53)
    constant = split = None
    fixed = ~exact                        # the channels taken as constants (where `constant` is set)
    range_b = np.broadcast_to(np.asarray(acc_range, np.float64), shape)
    if not exact.all():
        args = (mult_b, np.broadcast_to(-r, shape), np.broadcast_to(gemmlowp, shape), zp, lo, hi, range_b, bias, shape)
        constant = _constant_channels(~exact, *args)
        if constant is None:
            # Each channel the plain path cannot take: a constant where it is one, else split.
            constant, fixed = np.zeros(shape, np.float64), np.zeros(shape, bool)
            for i in zip(*np.nonzero(~exact)):
                one = np.zeros(shape, bool)
                one[i] = True
                value = _constant_channels(one, *args)
                if value is not None:
                    constant[i], fixed[i] = value[i], True
            split = _split_channels(~exact & ~fixed, mult_b, s_b, c_b, delta_b, zp, lo, range_b, bias, shape)
            if split is None:
                constant = None
    exact_float = constant is not None or bool(exact.all())
    out["exact_float"] = exact_float
    out["q"], out["narrow"] = None, None
    if exact_float:
        scale = np.ldexp(1.0, -np.where(exact, s_b, 0))
        const = np.where(exact, numerator, 0) * scale       # exact: an integer below 2**53, scaled
        m = np.where(exact, mult_b * scale, 0.0)
        half_delta = np.where(exact, delta_b * scale / 2, 0.0)
        if constant is not None:
            # A channel whose output is one value over every accumulator it can take: v' = that value - lo + 1/2.
            const = np.where(fixed, constant - lo + 0.5, const)
        if split is not None:
            moving = ~exact & ~fixed
            m = np.where(moving, split[0], m)
            const = np.where(moving, split[1], const)
            half_delta = np.where(moving, split[3], half_delta)
            out["q"] = split[2]
        out["m"] = np.ascontiguousarray(m)
        out["c"] = np.asarray(const)
        out["s_float"] = np.where(exact, s_b, 0)       # f's unit is 2**-s_float (see product_form)
        # For byte outputs: v - lo + L with L = lo mod 256 (in [0, 255]) has v's byte as its own (L = lo
        # modulo 256), so the clamp to [L, L + span] casting into the byte view writes v with no pass
        # adding lo back.  The values stay nonnegative inside the clamp (the truncating cast is still
        # the floor there) and below 2**15 (the int16 clamp), and stay exact where the shifted
        # numerator and the shifted clamp range fit 53 bits like the unshifted ones.
        wrap = lo % 256
        out["wrap"], out["c_wrap"] = wrap, None
        if wrap and split is None:
            s_e = out["s_float"]
            fits = (np.abs(numerator + (np.int64(wrap) << s_e)) < (np.int64(1) << 53)) & (
                (hi - lo + 1 + wrap) * np.ldexp(1.0, s_e) <= 2.0**53)
            if np.all(fits | ~exact):
                out["c_wrap"] = np.asarray(const + wrap)
        out["span"] = float(hi - lo)
        # The largest |v - lo| (plus a margin) picks the integer type the clamp runs on (see calls); past
        # int32 (a split channel's large integer part) the clamp stays in float64.
        vmax = float(np.max(range_b * np.abs(m) + np.abs(const) + np.abs(half_delta)
                            + (0 if split is None else np.abs(split[2]) + 1), initial=0.0)) + 2
        reach = max(hi - lo, vmax) + 255
        out["narrow"] = np.int16 if reach < 2**15 else np.int32 if reach < 2**31 else None
        # gemmlowp: -delta where acc + bias < 0 is -delta/2 (in the constant) + copysign(delta/2, acc + bias);
        # acc + bias in float is +0.0 for a zero sum (-0.0 + 0.0 = +0.0), so zero counts as positive.
        out["half_delta"] = half_delta if half_delta.any() else None
        out["bias_f"] = 0.0 if bias is None else np.asarray(bias, np.float64)
        return out
    acc_bound = float(bound.max()) if bound.size else 0.0
    # zp * 2**s added before the shift is zp added after it (exact floor division).
    out["fold"] = fold = float(acc_bound) * 2.0**31 + 2.0**(smax + 9) < 2.0**62
    if fold:
        c = c + (np.int64(zp) << s)
    # A bias rides in the constant as bias * M (|acc + bias| * M < 2**62 under fold), else a pass on acc.
    out["bias"] = None
    # gemmlowp's rounding takes the sign of acc + bias: acc < -bias.
    out["sign_at"] = 0
    if bias is not None:
        if fold:
            c = c + np.asarray(bias, np.int64) * mult
            out["sign_at"] = -np.asarray(bias, np.float64)
        else:
            out["bias"] = np.asarray(bias, np.int64)
    out["m"] = mult
    out["c"] = np.asarray(c)
    out["s"] = int(s.reshape(-1)[0]) if np.all(s == s.reshape(-1)[0]) else s   # a scalar shift runs 4x faster
    out["delta"] = delta if delta.any() else None
    return out


def tile_last(v, times):
    """np.tile(v, times) (`times` copies along the last axis) in one broadcast copy: np.tile's
    reshapes and repeat cost ~10 us a call, and binding a model tiles a few hundred constants."""
    v = np.asarray(v)
    if v.ndim == 0:
        return np.tile(v, times)
    out = np.empty(v.shape[:-1] + (times, v.shape[-1]), v.dtype)
    out[...] = v[..., None, :]
    return out.reshape(v.shape[:-1] + (times * v.shape[-1],))


def _constant_channels(which, mult, shift, gemmlowp, zp, lo, hi, bound, bias, shape):
    """Per channel, where `which` holds: the one output the channel gives for every
    accumulator in [-bound, bound] (`bound`: the Requantizer's `acc_range`, without the
    bias), else None when one of them takes two.  The
    requantization is nondecreasing in the accumulator, so its values at the two
    ends decide; they are computed in Python integers (no overflow), by the
    floor formula of the module docstring.  Such channels are those whose
    multiplier is tiny (a dead filter: weight scale 1e-6): their shift or their
    bias can exceed the float path's bounds though their output never moves."""
    out = np.zeros(shape, np.float64)
    bias = np.broadcast_to(np.zeros((), np.int64) if bias is None else np.asarray(bias, np.int64), shape)
    for i in zip(*np.nonzero(which)):
        m, r, b = int(mult[i]), -int(shift[i]), int(bias[i])
        ends = []
        for acc in (-int(bound[i]) - 1, int(bound[i]) + 1):
            x = acc + b
            s = 31 + r
            num = x * m + (1 << 30) + ((1 << (s - 1)) if r > 0 else 0) - ((1 << 31) if gemmlowp[i] and r > 0 and x < 0 else 0)
            ends.append(min(max((num >> s) + zp, lo), hi))
        if ends[0] != ends[1]:
            return None
        out[i] = ends[0]
    return out


def _split_channels(which, mult, s, c, delta, zp, lo, bound, bias, shape):
    """(m, c, q) per channel for the float path with a floor, or None: where `which` holds, the
    numerator N = acc * M + C' (C' = C + bias * M + (zp - lo) * 2**s) is split as
    C' = Q * 2**s + R with 0 <= R < 2**s, so that floor(N / 2**s) = Q + floor((acc * M + R) / 2**s).
    The float path then computes y = acc * (M / 2**s) + R / 2**s, exact where
    |acc| * M + 2**s <= 2**53 (an integer below 2**53, scaled by a power of two), floors it and adds Q
    (an integer: exact).  This covers the channels whose shift is large (s up to 53: a tiny
    multiplier with a large bias, a filter nearly dead but not constant over the accumulator's
    range) where the plain float path's constant would need more than 53 bits.  Channels rounding
    gemmlowp's way take -delta/2 in C' and +-delta/2 (the sign of acc + bias) in y, as the plain
    path does (half_delta): then |acc| * M + 2**s + delta / 2 <= 2**53.  Elsewhere (`which` False)
    m, c, q and the half delta are 0: the plain path's channels take the floor unchanged (v - lo
    is exact there).  Returns (m, c, q, half delta)."""
    m = np.zeros(shape, np.float64)
    cf = np.zeros(shape, np.float64)
    q = np.zeros(shape, np.float64)
    hd = np.zeros(shape, np.float64)
    bias = np.broadcast_to(np.zeros((), np.int64) if bias is None else np.asarray(bias, np.int64), shape)
    c = np.broadcast_to(c, shape)
    for i in zip(*np.nonzero(which)):
        mi, si, di = int(mult[i]), int(s[i]), int(delta[i])
        if si > 53 or float(bound[i]) * mi + 2.0**si + di / 2 > 2.0**53:
            return None
        big_q, rem = divmod(int(c[i]) + int(bias[i]) * mi + ((zp - lo) << si) - di // 2, 1 << si)
        if abs(big_q) >= 2**52:
            return None
        m[i], cf[i], q[i] = np.ldexp(float(mi), -si), np.ldexp(float(rem), -si), float(big_q)
        hd[i] = np.ldexp(float(di // 2), -si)
    return m, cf, q, hd


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


def padded_buffer(shape, pad, value, dtype):
    """(buffer, fill): an empty buffer of `shape` ([n, h, w, ...]) whose border rows
    and columns of widths pad = (top, bottom, left, right) hold `value`, and None,
    or for a large buffer a call that sets that border the first time it runs
    (later: nothing).  Callers put `fill` first in their invoke calls: the
    interior, which every invoke overwrites, and the border are then touched by
    the first invoke, not at allocate (border columns lie on every page of the
    buffer: filling them at allocate faults in all of it).  The buffer is left
    empty, not zeroed: zeroing costs a pass over it at allocate (glibc's calloc
    clears reused memory), and every invoke writes the interior anyway."""
    buf = np.empty(shape, dtype)
    pt, pb, pl, pr = pad
    if not (pt or pb or pl or pr):
        return buf, None
    h, w = shape[1], shape[2]
    return buf, once_fill([buf[:, :pt], buf[:, h - pb:], buf[:, :, :pl], buf[:, :, w - pr:]], value, buf.nbytes)


# Buffers up to this size get their border at allocate: a call at every invoke costs more than their pages.
EAGER_FILL_BYTES = 256 << 10


def once_fill(regions, value, nbytes):
    """A call setting `regions` (views of a buffer of `nbytes`) to `value` on its
    first run (see padded_buffer), or None where they were set now (a small buffer)."""
    fill = OnceFill([(region, value) for region in regions])
    if nbytes <= EAGER_FILL_BYTES:
        fill()
        return None
    return fill


class OnceFill:
    """Sets each (view, value) of `pairs` (a value broadcasting over its view) on its first call only."""

    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = pairs

    def __call__(self):
        if self.pairs:
            for view, value in self.pairs:
                view[...] = value
            self.pairs = None
