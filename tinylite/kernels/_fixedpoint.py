"""TFLite's integer arithmetic, vectorized over numpy int64 arrays that hold
int32 values: QuantizeMultiplier, MultiplyByQuantizedMultiplier (gemmlowp's
double rounding), the gemmlowp fixed-point helpers (exp on negative values,
1/(1+x)) and the lookup tables of the int8/int16 activation kernels.

Every helper takes and returns int64 arrays (or Python ints); results that
C++ would keep in an int32 are wrapped to int32 where TFLite could wrap.
"""
from __future__ import annotations

import functools
import math

import numpy as np


INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x):
    """C's round()/TfLiteRound: halves go away from zero (numpy rounds to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def wrap32(x):
    """Two's-complement wrap of int64 values to the int32 range."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier, shift) with real ~= multiplier * 2**(shift - 31), multiplier in [2**30, 2**31)."""
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real):
        # Scales near float32's limits make the op's combined scale overflow.
        raise ValueError(f"the quantization scales of the op's tensors combine into a rescaling factor of {real}, "
                         "which no fixed-point multiplier represents: a tensor's scale is implausibly large or "
                         "small; requantize the model")
    q, shift = math.frexp(real)
    q_fixed = int(round_half_away(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multipliers(reals):
    """Per-channel quantize_multiplier: (int64 multipliers, int64 shifts)."""
    # Vectorized quantize_multiplier (a per-channel Python loop cost 2 us a channel at load).
    reals = np.atleast_1d(np.asarray(reals, np.float64))
    q, shift = np.frexp(reals)
    shift = shift.astype(np.int64)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    # The masked updates only where needed: a model's layers call this at every allocate.
    carry = q_fixed == (1 << 31)
    if carry.any():
        q_fixed[carry] //= 2
        shift[carry] += 1
    zero = (reals == 0.0) | (shift < -31)
    if zero.any():
        q_fixed[zero] = 0
        shift[zero] = 0
    return q_fixed, shift


def _trunc_div_pow2(x, bits):
    """C integer division of int64 x by 2**bits (rounds toward zero)."""
    return np.where(x >= 0, x >> bits, -((-x) >> bits))


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul for int32 values."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    # gemmlowp nudges negative products by 1 - 2**30 and truncates toward zero: both signs then round
    # half up, floor((ab + 2**30) / 2**31), one shift.
    res = (a * b + (1 << 30)) >> 31
    if np.any(a == INT32_MIN) and np.any(b == INT32_MIN):
        res = np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, res)
    return res


def rounding_divide_by_pot(x, exponent):
    """Rounding arithmetic right shift (ties away from zero), as gemmlowp's."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def saturating_rounding_multiply_by_pot(x, exponent: int):
    """x * 2**exponent: saturating for exponent > 0, rounding for exponent < 0."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    res = x << exponent
    res = np.where(x > threshold, INT32_MAX, res)
    return np.where(x < -threshold, INT32_MIN, res)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier(int32 x, ...), double rounding.

    `multiplier` and `shift` may be arrays (per channel) broadcasting with x.
    """
    x = np.asarray(x, np.int64)
    shift = np.asarray(shift, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    # Callers hand int64 sums: C++ holds them in an int32 (wrapped).
    x = wrap32(x << np.maximum(shift, 0))
    right = np.maximum(-shift, 0)
    if np.any(multiplier == INT32_MIN) or np.any(right > 31):      # outside the int64 headroom below
        return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right)
    # The two roundings as one floor (see kernels/optimized/_requantize.py): the high multiply rounds
    # half up, floor((ab + 2**30) / 2**31); the shift adds 2**(r-1), less one where that high part is
    # negative (ties away from zero); floor(floor(a / 2**31) / 2**r) = floor(a / 2**(31 + r)).  Five
    # passes instead of some fifteen.
    t = x * multiplier + (1 << 30)
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right + 30, 0), 0)
    if np.any(right > 0):
        t = t + nudge - np.where((t < 0) & (right > 0), np.int64(1) << 31, 0)
    return t >> (31 + right)


def vqrdmulh(a, b):
    """NEON's vqrdmulh (and NEON_2_SSE's emulation on x86): the doubled high half of
    a * b with ties rounded up, saturating only for INT32_MIN * INT32_MIN
    (gemmlowp's scalar version rounds ties away from zero)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, (a * b + (1 << 30)) >> 31)


def multiply_by_quantized_multiplier_ruy(x, multiplier, shift):
    """The requantization of ruy's x86 (AVX2/AVX-512) kernels, which LiteRT's optimized
    per-channel GEMMs use: a high multiply rounding half up, then a rounding right
    shift that also rounds half up (gemmlowp rounds both half away from zero)."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    high = (wrap32(np.asarray(x, np.int64) << left) * np.asarray(multiplier, np.int64) + (1 << 30)) >> 31
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return np.where(high > INT32_MAX - nudge, np.int64(1) << (31 - right), (high + nudge) >> right)


def multiply_by_quantized_multiplier_64(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier(int64 x, ...): a 16-bit multiplier, one rounding."""
    x = np.asarray(x, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - np.asarray(shift, np.int64)
    return wrap32((x * reduced + (np.int64(1) << (total_shift - 1))) >> total_shift)


def count_leading_zeros32(x):
    """Leading zeros of x seen as uint32 (x in [0, 2**32))."""
    x = np.asarray(x, np.int64)
    _, e = np.frexp(x.astype(np.float64))     # exact: x < 2**53; e is the bit length
    return np.where(x == 0, 32, 32 - e).astype(np.int64)


# --- gemmlowp fixed point (int32 raw values; Fn = n integer bits) ---

def _fmul(a, b):
    return saturating_rounding_doubling_high_mul(a, b)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), F0 in and out."""
    constant_term = 1895147668                 # exp(-1/8) in F0
    constant_1_over_3 = 715827883
    x = wrap32(a + (1 << 28))                  # a + 1/8
    x2 = _fmul(x, x)
    x3 = _fmul(x2, x)
    x4 = _fmul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(wrap32(_fmul(wrap32(x4_over_4 + x3), constant_1_over_3) + x2), 1)
    return wrap32(constant_term + _fmul(constant_term, wrap32(x + poly)))


# exp(-2**k) in F0 for the barrel shifter of exp_on_negative_values, k = -2..4.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int):
    """gemmlowp exp_on_negative_values: a is F<integer_bits> (<= 0), result F0."""
    a = np.asarray(a, np.int64)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod = wrap32((a & mask) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod, integer_bits))
    remainder = wrap32(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where(remainder & bit, _fmul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _rounding_half_sum(a, b):
    s = np.asarray(a, np.int64) + b
    return _trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1)


def one_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: F0 in, F0 out (Newton-Raphson)."""
    half_denominator = _rounding_half_sum(a, INT32_MAX)
    x = wrap32(1515870810 + _fmul(half_denominator, -1010580540))    # 48/17 - 32/17 * d, in F2
    one_f2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = _fmul(half_denominator, x)
        one_minus = wrap32(one_f2 - half_denominator_times_x)
        x = wrap32(x + saturating_rounding_multiply_by_pot(_fmul(x, one_minus), 2))
    return saturating_rounding_multiply_by_pot(x, 1)     # ExactMulByPot<-1> then Rescale<0>


def get_reciprocal(x, x_integer_digits: int):
    """TFLite GetReciprocal: (F0 raw of 1/x scaled into [0.5, 1), num_bits_over_unit)."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_sum_minus_one = wrap32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


def calculate_input_radius(input_integer_bits, input_left_shift, total_signed_bits=31):
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * (1 << (total_signed_bits - input_integer_bits))
                          / (1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


# --- lookup tables ---

def lut_int8(func, input_scale, input_zero_point, output_scale, output_zero_point, dtype):
    """TFLite's LUTPopulate<int8/uint8>, in float32 like the C++: table[q - min] = f(q)."""
    info = np.iinfo(dtype)
    q = np.arange(info.min, info.max + 1, dtype=np.int64)
    x = np.float32(input_scale) * (q - input_zero_point).astype(np.float32)
    with np.errstate(over="ignore"):
        y = func(x.astype(np.float32)).astype(np.float32)
    rescaled = round_half_away(y * (np.float32(1) / np.float32(output_scale)))
    out = rescaled.astype(np.float64) + output_zero_point
    return np.clip(out, info.min, info.max).astype(dtype)


def lut_int16(func, input_scale, input_zero_point, output_scale, output_zero_point, float_type=np.float64):
    """TFLite's LUTPopulate<int16>: 513 samples, each biased by half the midpoint interpolation error."""
    ft = float_type
    input_min = ft(input_scale) * ft(-32768 - input_zero_point)
    input_max = ft(input_scale) * ft(32767 - input_zero_point)
    output_min = ft(output_scale) * ft(-32768 - output_zero_point)
    output_max = ft(output_scale) * ft(32767 - output_zero_point)
    step = ft((input_max - input_min) / ft(512))
    half_step = ft(step / ft(2))
    inv = ft(ft(65536) / ft(output_max - output_min))
    i = np.arange(512).astype(ft)
    val = func(ft(input_min) + i * step).astype(ft)
    val_mid = func(ft(input_min) + i * step + half_step).astype(ft)
    val_next = func(ft(input_min) + (i + 1) * step).astype(ft)
    sample = round_half_away(val * inv).astype(ft)
    mid_interp = round_half_away((val_next * inv + round_half_away(val * inv)) / ft(2)).astype(ft)
    mid_val = round_half_away(val_mid * inv).astype(ft)
    bias = round_half_away((mid_interp - mid_val) / ft(2)).astype(ft)
    lut = np.empty(513, np.int64)
    lut[:512] = np.clip(sample - bias, -32768, 32767)
    lut[512] = np.clip(round_half_away(func(np.array([input_max], ft))[0] * inv), -32768, 32767)
    return lut


def lut_lookup_int16(value, lut):
    """TFLite's interpolating LUTLookup for int16 (513-entry table)."""
    value = np.asarray(value, np.int64)
    index = 256 + (value >> 7)
    offset = value & 0x7F
    base = lut[index]
    slope = lut[index + 1] - base
    delta = (slope * offset + 64) >> 7
    return ((base + delta + 32768) & 0xFFFF) - 32768


# sigmoid(i / 24) in unsigned Q0.16 (saturating at 65535), i = 0..255: the table TFLite's int16
# LOGISTIC and TANH kernels interpolate in (tanh(x) = 2 * sigmoid(2x) - 1).
SIGMOID_TABLE_UINT16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498,
    40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255,
    46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865,
    52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174,
    56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288,
    59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441,
    61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886,
    62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835,
    63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450,
    64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
    64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097,
    65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508,
    65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518,
    65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525,
    65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
    65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531,
    65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533,
    65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65535], np.int64)


# --- 16-bit gemmlowp fixed point (int16 raw values held in int64 arrays), as the integer LSTM uses ---

INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1


def wrap16(x):
    """Two's-complement wrap to int16 (C's static_cast<int16_t>)."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)


def saturate16(x):
    return np.clip(np.asarray(x, np.int64), INT16_MIN, INT16_MAX)


def saturating_rounding_doubling_high_mul16(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul for int16 values."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    res = wrap16(_trunc_div_pow2(ab + nudge, 15))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, res)


def saturating_rounding_multiply_by_pot16(x, exponent: int):
    """x * 2**exponent on int16: saturating for exponent > 0, rounding for exponent < 0."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (15 - exponent)) - 1
    res = wrap16(x << exponent)
    res = np.where(x > threshold, INT16_MAX, res)
    return np.where(x < -threshold, INT16_MIN, res)


def _constant16(raw32):
    """GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT for int16: the int32 constant rounded right by 16 bits."""
    return int(rounding_divide_by_pot(np.int64(raw32), 16))


def _fmul16(a, b):
    return saturating_rounding_doubling_high_mul16(a, b)


def _exp_on_interval_between_negative_one_quarter_and_0_excl16(a):
    constant_term = _constant16(1895147668)
    constant_1_over_3 = _constant16(715827883)
    x = wrap16(a + (1 << 12))                  # a + 1/8 in F0
    x2 = _fmul16(x, x)
    x3 = _fmul16(x2, x)
    x4 = _fmul16(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(wrap16(_fmul16(wrap16(x4_over_4 + x3), constant_1_over_3) + x2), 1)
    return saturate16(constant_term + _fmul16(constant_term, wrap16(x + poly)))


def exp_on_negative_values16(a, integer_bits: int):
    """gemmlowp exp_on_negative_values on int16: a is F<integer_bits> (<= 0), result F0."""
    a = np.asarray(a, np.int64)
    frac_bits = 15 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod = wrap16((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl16(
        saturating_rounding_multiply_by_pot16(a_mod, integer_bits))
    remainder = wrap16(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where(remainder & bit, _fmul16(result, _constant16(multiplier)), result)
    if integer_bits > 5:
        clamp = _constant16(-(1 << (36 - integer_bits)))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT16_MAX, result)


def _newton_reciprocal16(half_denominator):
    """The three Newton-Raphson steps shared by 1/(1+x) and (1-x)/(1+x): x ~ 1/(2 d) in F2."""
    x = wrap16(_constant16(1515870810) + _fmul16(half_denominator, _constant16(-1010580540)))
    one_f2 = 1 << 13
    for _ in range(3):
        one_minus = wrap16(one_f2 - _fmul16(half_denominator, x))
        x = wrap16(x + saturating_rounding_multiply_by_pot16(_fmul16(x, one_minus), 2))
    return x


def _rounding_half_sum16(a, b):
    s = np.asarray(a, np.int64) + b
    return wrap16(_trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1))


def logistic16(a, integer_bits: int):
    """gemmlowp::logistic on int16 raw values: F<integer_bits> in, F0 (Q0.15) out."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, wrap16(-a))          # -(-32768) wraps, as in C++
    e = exp_on_negative_values16(wrap16(-abs_input), integer_bits)
    x = _newton_reciprocal16(_rounding_half_sum16(e, INT16_MAX))
    if_positive = saturating_rounding_multiply_by_pot16(x, 1)   # ExactMulByPot<-1>, Rescale<0>
    if_negative = wrap16(INT16_MAX - if_positive)
    return np.where(a == 0, 1 << 14, np.where(positive, if_positive, if_negative))


@functools.lru_cache(maxsize=None)
def _table16(func, integer_bits: int):
    return func(np.arange(-32768, 32768, dtype=np.int64), integer_bits)


def logistic16_lut(a, integer_bits: int):
    """logistic16 of int16 values (any int array within int16) by a 65536-entry table of it."""
    return _table16(logistic16, integer_bits)[np.asarray(a) + 32768]


def tanh16_lut(a, integer_bits: int):
    """tanh16 of int16 values by a 65536-entry table of it."""
    return _table16(tanh16, integer_bits)[np.asarray(a) + 32768]


def tanh16(a, integer_bits: int):
    """gemmlowp::tanh on int16 raw values: F<integer_bits> in, F0 (Q0.15) out."""
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap16(-a))
    e = exp_on_negative_values16(n, integer_bits + 1)       # ExactMulByPot<1>: 2 |a|
    x = _newton_reciprocal16(_rounding_half_sum16(e, INT16_MAX))
    t = saturating_rounding_multiply_by_pot16(wrap16(x - (1 << 13)), 2)
    return np.where(a == 0, 0, np.where(negative, wrap16(-t), t))


def _inv_sqrt_scalar(x: int) -> tuple[int, int]:
    """inv_sqrt_quantized_multiplier_exp of one value in Python integers (the same operations; a
    batch-1 layer norm makes a few of these per step, where numpy's per-call cost dominated)."""
    def srdhm(a, b):
        return INT32_MAX if a == b == INT32_MIN else (a * b + (1 << 30)) >> 31

    def srmpot(v, e):          # saturating_rounding_multiply_by_pot, e > 0
        t = (1 << (31 - e)) - 1
        return INT32_MAX if v > t else INT32_MIN if v < -t else v << e

    def w32(v):
        return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)

    if x <= 1:
        return INT32_MAX, 0
    shift = 11
    while x >= (1 << 29):
        x //= 4
        shift += 1
    pairs = (32 - x.bit_length() - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    fixed = x >> 1
    half = (fixed >> 1) + ((fixed & 1) > (0 + (fixed < 0)))
    half_three = (1 << 28) + (1 << 27)
    r = 1 << 28
    for _ in range(5):
        r3 = srmpot(srdhm(srdhm(r, r), r), 6)
        r = srmpot(w32(srdhm(half_three, r) - srdhm(half, r3)), 3)
    r = srdhm(r, 1518500250)
    if shift < 0:
        r, shift = w32(r << -shift), 0
    return r, shift


def inv_sqrt_quantized_multiplier_exp(x, reverse_shift: int):
    """TFLite's GetInvSqrtQuantizedMultiplierExp, vectorized: (multiplier, shift) with
    1/sqrt(x) ~ multiplier * 2**(shift - 31) (reverse_shift -1 turns TFLite's right shift into a left one)."""
    x = np.asarray(x, np.int64)
    if x.size <= 8:
        pairs = [_inv_sqrt_scalar(int(v)) for v in x.reshape(-1)]
        return (np.array([p[0] for p in pairs], np.int64).reshape(x.shape),
                np.array([p[1] * reverse_shift for p in pairs], np.int64).reshape(x.shape))
    x = x.copy()
    small = x <= 1
    x = np.where(small, 2, x)
    shift = np.full(x.shape, 11, np.int64)
    while np.any(x >= (1 << 29)):
        big = x >= (1 << 29)
        x = np.where(big, x // 4, x)
        shift += big
    pairs = (count_leading_zeros32(x) - 1) // 2 - 1
    shift -= pairs
    x = x << (2 * pairs)
    fixed_input = x >> 1                                       # F3
    half_input = rounding_divide_by_pot(fixed_input, 1)
    half_three = (1 << 28) + (1 << 27)
    r = np.full(x.shape, 1 << 28, np.int64)                   # F3 one
    for _ in range(5):
        r3 = saturating_rounding_multiply_by_pot(_fmul(_fmul(r, r), r), 6)
        r = saturating_rounding_multiply_by_pot(wrap32(_fmul(half_three, r) - _fmul(half_input, r3)), 3)
    r = _fmul(r, 1518500250)                                   # * sqrt(2) / 2
    neg = shift < 0
    r = np.where(neg, wrap32(r << np.where(neg, -shift, 0)), r)
    shift = np.where(neg, 0, shift)
    r = np.where(small, INT32_MAX, r)
    shift = np.where(small, 0, shift)
    return r, shift * reverse_shift


def expf32(v):
    # Evaluated in float64 and rounded once: the correctly rounded float32 result, as the
    # C library's expf/tanhf give in all but rare cases (numpy's float32 SIMD ones may not).
    return np.exp(v.astype(np.float64)).astype(np.float32)


def tanhf32(v):
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def sigmoidf32(v):
    return np.float32(1) / (np.float32(1) + expf32(-v.astype(np.float32)))


def multiply_by_quantized_multiplier_smaller_than_one(x, mult, shift):
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0; for shift > 0 see
    rounding_divide_by_negative_pot_x86)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(wrap32(x), mult), -shift)


def rounding_divide_by_negative_pot_x86(x, s: int, vector=None):
    """gemmlowp's RoundingDivideByPOT(x, -s) for 1 <= s <= 31, as LiteRT 2.3's x86-64 wheel computes
    it.  C++ leaves a negative shift undefined; x86 gives: in scalar code (shift counts masked to 5
    or 6 bits) a mask of all ones and x shifted right by 32 - s; in the compiler's 4-wide SSE loop
    (`vector`: a bool array, True where that loop computes the element) shifts past the width, so
    x >> 31.  The rounding term then adds 1 to every x >= 0.  LiteRT's quantized SUB reaches this
    where the output scale is so much finer than the inputs' that its multiplier passes 1 (a range
    calibrated to 0, as keras.ops.logsumexp's x - x gives).  Measured against LiteRT on x86-64."""
    x = np.asarray(x, np.int64)
    shifted = x >> (32 - s)
    if vector is not None:
        shifted = np.where(vector, x >> 31, shifted)
    return shifted + (x >= 0)


def checked_log2(scale):
    """TFLite's CheckedLog2: (rounded log2, whether the scale is a power of two)."""
    log2 = float(np.log(np.float32(scale)) * (np.float32(1) / np.log(np.float32(2))))
    rounded = float(round_half_away(log2))
    return int(rounded), abs(log2 - rounded) < 1e-3


def srdhm16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int16 values."""
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    res = _trunc_div_pow2(ab + nudge, 15)
    return np.where((a == -32768) & (b == -32768), 32767, res)


def downscale_multiplier16(m):
    """DownScaleInt32ToInt16Multiplier."""
    return 32767 if m >= (1 << 31) - 1 - (1 << 15) else (m + (1 << 15)) >> 16


def multiply_by_quantized_multiplier_neon(acc, mult, shift):
    """NEON's vshl / vqrdmulh / vrshl requantization: ties rounded up in both steps."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = wrap32(np.asarray(acc, np.int64) << left)
    mult = np.asarray(mult, np.int64)
    high = np.where((x == INT32_MIN) & (mult == INT32_MIN), INT32_MAX, (x * mult + (1 << 30)) >> 31)
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (high + nudge) >> right      # vrshl rounds in wider precision: no overflow


_LOG_2 = 1488522236


_SQRT_SQRT_HALF = 1805811301


_SQRT_HALF = 1518500250


_ONE_QUARTER = 536870912


_ALPHA_N, _ALPHA_D, _ALPHA_I, _ALPHA_F = 117049297, 127690142, 1057819769, 638450708


def _mul(a, b):
    return saturating_rounding_doubling_high_mul(a, b)


def _sat_shift_left(x, exponent):
    """SaturatingRoundingMultiplyByPOTParam for exponents >= 0 (elementwise arrays)."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    threshold = (np.int64(1) << (31 - exponent)) - 1
    res = wrap32(x << exponent)
    res = np.where(x > threshold, INT32_MAX, res)
    res = np.where(x < -threshold, INT32_MIN, res)
    return np.where(exponent == 0, x, res)


def _sat32(x):
    return np.clip(x, INT32_MIN, INT32_MAX)


def log_x_for_x_ge_1(x, input_bits: int, output_bits: int):
    """TFLite's log_x_for_x_greater_than_or_equal_to_1: x raw in Q<input_bits>, log(x) raw in
    Q<output_bits>.  The input is normalized to [sqrt(1/2), sqrt(2)) * 2**k (two candidate
    normalizations, the better one kept), and log of the mantissa is a rational approximation."""
    acc_bits = output_bits + 1
    shifted_quarter = int(rounding_divide_by_pot(np.int64(_ONE_QUARTER), acc_bits))
    z_a = np.asarray(x, np.int64)
    hp1_a = count_leading_zeros32(z_a)
    r_a_tmp = _sat_shift_left(z_a, hp1_a - 1)
    r_a = _sat_shift_left(_mul(r_a_tmp, _SQRT_HALF), 1)
    pow_a = _sat32(_sat_shift_left(input_bits - hp1_a, 31 - acc_bits) + shifted_quarter)
    z_b = _mul(z_a, _SQRT_HALF)
    head_b = count_leading_zeros32(z_b) - 1
    r_b = _sat_shift_left(z_a, head_b)
    pow_b = _sat32(_sat_shift_left(input_bits - head_b, 31 - acc_bits) - shifted_quarter)
    r = np.minimum(r_a, r_b)
    z_pow_2_adj = np.maximum(pow_a, pow_b)

    p = _rounding_half_sum(r, _SQRT_SQRT_HALF)
    q = wrap32(r - _SQRT_SQRT_HALF)
    q = wrap32(q + q)
    common_sq = _mul(q, q)
    num = wrap32(_mul(q, r) + _mul(_mul(q, common_sq), _ALPHA_N))
    inner = wrap32(wrap32(_ALPHA_I + q) + _mul(_ALPHA_D, common_sq))
    denom_minus_one = wrap32(_mul(p, inner) + _mul(_ALPHA_F, q))
    recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one)
    num_scaled = rounding_divide_by_pot(num, acc_bits)
    total = wrap32(_mul(z_pow_2_adj, _LOG_2) + _mul(num_scaled, recip_denom))
    return saturating_rounding_multiply_by_pot(total, acc_bits - output_bits)
