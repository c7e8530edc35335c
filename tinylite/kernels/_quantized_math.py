"""Quantized RSQRT (int8: gemmlowp's Newton-Raphson inverse square root and two
requantizations; int16: TFLite's interpolated 513-entry table), LOG_SOFTMAX
int8/uint8 (output on the fixed 16/256 grid, zero point 127 / 255), SQRT
int8/int16 (float32 per element, truncated) and SQUARED_DIFFERENCE int8 (both
inputs on a common grid 2**7 finer, the squared difference requantized).
Re-exported by _quantized.

RSQRT, SQRT and SQUARED_DIFFERENCE run the same code in LiteRT's default and
reference kernels.  LOG_SOFTMAX does not: the default kernel works in float32 (an exp table over
the 256 possible differences, logf of their sum, rint), the reference one in
gemmlowp fixed point (Q5.26 differences, Q12 sum, a rational log).  tinylite
follows the default; ``LOG_SOFTMAX_INT8 = "reference"`` switches int8 to the
fixed-point kernel.  The table path takes logf/expf as correctly rounded
float32 results, as the C library gives them in all but rare cases.
"""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantized import _f32, _require, _unsupported
from ._quantized_elementwise import _mbqm_small

_INT8 = np.dtype(np.int8)
_INT16 = np.dtype(np.int16)


def _check_unary(node, dtypes):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in dtypes:
        _unsupported(node)
    if x.dtype != out.dtype:
        node.fail(f"input type {x.dtype.name} differs from output type {out.dtype.name}")
    if x.dtype == _INT16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    return x, out


def _require_non_negative(node, q, zero_point, what):
    if np.any(q < zero_point):
        node.fail(f"{what} is only defined for non-negative inputs; got a quantized value "
                  f"{int(q.min())} below the zero point {zero_point}")


# --- RSQRT ---

_RSQRT_SHIFT = 20       # TFLite's headroom: 1/sqrt(v) is first brought to a 2**20 grid


def prepare_rsqrt(node):
    x, out = _check_unary(node, (_INT8, _INT16))
    node.q_x_zp, node.q_out_zp = x.zero_point, out.zero_point
    if x.dtype == _INT16:
        so = _f32(out.scale)
        # Non-positive samples (the table covers negative inputs too) map to the largest output.
        big = np.float32(32767) * so

        def rsqrt32(v):
            v = np.asarray(v, np.float32)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.float32(1) / np.sqrt(v)
            return np.where(v <= 0, big, r).astype(np.float32)

        node.q_lut16 = fx.lut_int16(rsqrt32, _f32(x.scale), 0, so, 0, float_type=np.float32)
        return _eval_rsqrt16
    # 1 / (sqrt(input scale) * output scale): sqrt and product in float32, the quotient in double.
    real = 1.0 / float(np.sqrt(_f32(x.scale)) * _f32(out.scale))
    node.q_mult, node.q_shift = fx.quantize_multiplier(real)
    values = np.arange(-128, 128, dtype=np.int64)
    node.q_lut = _rsqrt8(node, values)
    return _eval_rsqrt8


def _rsqrt8(node, q):
    """int8 RSQRT of every value q >= zero point (below it the table entry is never read)."""
    v = np.maximum(q - node.q_x_zp, 0)
    inv, inv_shift = fx.inv_sqrt_quantized_multiplier_exp(v, -1)
    data = fx.multiply_by_quantized_multiplier(np.ones_like(v), inv, inv_shift + _RSQRT_SHIFT)
    res = fx.multiply_by_quantized_multiplier(data, node.q_mult, node.q_shift - _RSQRT_SHIFT) + node.q_out_zp
    # A zero input (anything that rounds to it) is the largest representable output.
    return np.where(v == 0, 127, np.clip(res, -128, 127)).astype(np.int8)


def _eval_rsqrt8(node, inputs, outputs):
    q = inputs[0].astype(np.int64)
    _require_non_negative(node, q, node.q_x_zp, "RSQRT")
    np.take(node.q_lut, q + 128, out=outputs[0])


def _eval_rsqrt16(node, inputs, outputs):
    q = inputs[0]
    _require_non_negative(node, q, 0, "RSQRT")
    outputs[0][...] = fx.lut_lookup_int16(q, node.q_lut16)


# --- SQRT ---

def prepare_sqrt(node):
    x, out = _check_unary(node, (_INT8, _INT16))
    node.q_x_zp, node.q_out_zp = x.zero_point, out.zero_point
    node.q_scales = _f32(x.scale), _f32(out.scale)
    return _eval_sqrt


def _eval_sqrt(node, inputs, outputs):
    q = inputs[0].astype(np.int64)
    _require_non_negative(node, q, node.q_x_zp, "SQRT")
    sx, so = node.q_scales
    root = np.sqrt(sx * (q - node.q_x_zp).astype(np.float32))
    # TFLite truncates toward zero here (a C cast), it does not round.
    res = np.trunc(root / so).astype(np.int64) + node.q_out_zp
    info = np.iinfo(outputs[0].dtype)
    outputs[0][...] = np.clip(res, info.min, info.max)


# --- SQUARED_DIFFERENCE ---

_SQDIFF_SHIFT = 7       # TFLite's headroom: inputs move to a grid 2**7 finer than twice the larger scale


def prepare_squared_difference(node):
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, y, out)
    if not (x.dtype == y.dtype == out.dtype == _INT8):
        _unsupported(node, "only int8 inputs and output have a quantized kernel in TFLite")
    twice_max = float(2 * max(_f32(x.scale), _f32(y.scale)))
    node.q_tables = []
    values = np.arange(-128, 128, dtype=np.int64)
    for s in (x, y):
        mult, shift = fx.quantize_multiplier(float(s.scale) / twice_max)
        # 256 possible values per input: rescale each once.
        node.q_tables.append(_mbqm_small((values - s.zero_point) << _SQDIFF_SHIFT, mult, shift))
    real_out = twice_max * twice_max / float(_f32((1 << 2 * _SQDIFF_SHIFT) * _f32(out.scale)))
    node.q_out_mult, node.q_out_shift = fx.quantize_multiplier(real_out)
    if node.q_out_shift > 0:
        _unsupported(node, "an output scale finer than (2 * the larger input scale)**2 / 2**14")
    node.q_out_zp = out.zero_point
    return _eval_squared_difference


def _eval_squared_difference(node, inputs, outputs):
    a = node.q_tables[0][inputs[0].astype(np.intp) + 128]
    b = node.q_tables[1][inputs[1].astype(np.intp) + 128]
    d = a - b
    res = _mbqm_small(d * d, node.q_out_mult, node.q_out_shift) + node.q_out_zp
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), -128, 127)


# --- LOG_SOFTMAX ---

# "optimized" (LiteRT's default kernel: float32 exp table, logf, rint) or "reference" (the
# gemmlowp fixed-point kernel of LiteRT's reference op resolver; int8 only).
LOG_SOFTMAX_INT8 = "optimized"

_IN_BITS, _ACC_BITS, _OUT_BITS = 5, 12, 4     # Q5.26 scaled differences, Q12 sum, Q4 output


def prepare_log_softmax(node):
    x, out = _check_unary(node, (_INT8, np.dtype(np.uint8)))
    zp = 127 if x.dtype == _INT8 else 255
    if float(_f32(out.scale)) != 16.0 / 256 or out.zero_point != zp:
        node.fail(f"{x.dtype.name} LOG_SOFTMAX needs output scale 16/256 and zero point {zp} (TFLite's fixed "
                  f"grid for [-16, 0]); got scale {float(out.scale)} and zero point {out.zero_point}")
    if (LOG_SOFTMAX_INT8 == "optimized" and not node.reference) or x.dtype != _INT8:
        from ._quantized import _expf

        sx = _f32(x.scale)
        # exp(-scale * d) for d = max - x in 0..255 (beta is 1).
        node.q_table = _expf(-sx * np.arange(256, dtype=np.float32))
        node.q_in_scale = sx
        node.q_ratio = sx / _f32(out.scale)
        node.q_out_scale, node.q_out_zp = _f32(out.scale), zp
        return _eval_log_softmax_table
    # PreprocessLogSoftmaxScalingExp with beta 1: the multiplier of the differences into Q5.26,
    # and its inverse (to map the log-sum back onto the input grid).
    real = min(float(x.scale) * (1 << (31 - _IN_BITS)), (1 << 31) - 1.0)
    node.q_mult, node.q_shift = fx.quantize_multiplier(real)
    reverse = (1 << (31 - node.q_shift)) / float(node.q_mult)
    node.q_rev_mult, node.q_rev_shift = fx.quantize_multiplier(reverse)
    node.q_diff_min = -fx.calculate_input_radius(_IN_BITS, node.q_shift)
    return _eval_log_softmax8


def _eval_log_softmax_table(node, inputs, outputs):
    x = inputs[0].astype(np.int64)
    top = x.max(axis=-1, keepdims=True)
    e = node.q_table[top - x]
    # The C++ loop sums in float32, in order; cumulative sums keep that order.
    total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
    log_sum = np.log(total.astype(np.float64)).astype(np.float32)
    shift = (node.q_in_scale * top.astype(np.float32) + log_sum) / node.q_out_scale
    log_prob = node.q_ratio * x.astype(np.float32) - shift
    info = np.iinfo(outputs[0].dtype)
    # std::rint: ties to even, as np.rint.
    outputs[0][...] = np.clip(np.rint(log_prob).astype(np.int64) + node.q_out_zp, info.min, info.max)


def _eval_log_softmax8(node, inputs, outputs):
    x = inputs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= node.q_diff_min
    scaled = fx.multiply_by_quantized_multiplier(np.where(live, diff, 0), node.q_mult, node.q_shift)
    exps = fx.rounding_divide_by_pot(fx.exp_on_negative_values(scaled, _IN_BITS), _ACC_BITS)
    sum_q12 = fx.wrap32(np.where(live, exps, 0).sum(axis=-1, keepdims=True))
    log_sum_q5 = log_x_for_x_ge_1(sum_q12, _ACC_BITS, _IN_BITS)
    # Differences at or below this one would fall under the int32 range once the log-sum is
    # subtracted: they give the type's minimum.
    floor = fx.multiply_by_quantized_multiplier(fx.wrap32(log_sum_q5 + fx.INT32_MIN), node.q_rev_mult,
                                                node.q_rev_shift)
    adjusted_min = np.maximum(node.q_diff_min - 1, floor)
    res = fx.rounding_divide_by_pot(fx.wrap32(scaled - log_sum_q5), 31 - _IN_BITS - _OUT_BITS) + 127
    res = np.where(diff > adjusted_min, np.clip(res, -128, 127), -128)
    outputs[0][...] = res


# --- gemmlowp-style log ---

_LOG_2 = 1488522236
_SQRT_SQRT_HALF = 1805811301
_SQRT_HALF = 1518500250
_ONE_QUARTER = 536870912
_ALPHA_N, _ALPHA_D, _ALPHA_I, _ALPHA_F = 117049297, 127690142, 1057819769, 638450708


def _mul(a, b):
    return fx.saturating_rounding_doubling_high_mul(a, b)


def _sat_shift_left(x, exponent):
    """SaturatingRoundingMultiplyByPOTParam for exponents >= 0 (elementwise arrays)."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    threshold = (np.int64(1) << (31 - exponent)) - 1
    res = fx.wrap32(x << exponent)
    res = np.where(x > threshold, fx.INT32_MAX, res)
    res = np.where(x < -threshold, fx.INT32_MIN, res)
    return np.where(exponent == 0, x, res)


def _sat32(x):
    return np.clip(x, fx.INT32_MIN, fx.INT32_MAX)


def log_x_for_x_ge_1(x, input_bits: int, output_bits: int):
    """TFLite's log_x_for_x_greater_than_or_equal_to_1: x raw in Q<input_bits>, log(x) raw in
    Q<output_bits>.  The input is normalized to [sqrt(1/2), sqrt(2)) * 2**k (two candidate
    normalizations, the better one kept), and log of the mantissa is a rational approximation."""
    acc_bits = output_bits + 1
    shifted_quarter = int(fx.rounding_divide_by_pot(np.int64(_ONE_QUARTER), acc_bits))
    z_a = np.asarray(x, np.int64)
    hp1_a = fx.count_leading_zeros32(z_a)
    r_a_tmp = _sat_shift_left(z_a, hp1_a - 1)
    r_a = _sat_shift_left(_mul(r_a_tmp, _SQRT_HALF), 1)
    pow_a = _sat32(_sat_shift_left(input_bits - hp1_a, 31 - acc_bits) + shifted_quarter)
    z_b = _mul(z_a, _SQRT_HALF)
    head_b = fx.count_leading_zeros32(z_b) - 1
    r_b = _sat_shift_left(z_a, head_b)
    pow_b = _sat32(_sat_shift_left(input_bits - head_b, 31 - acc_bits) - shifted_quarter)
    r = np.minimum(r_a, r_b)
    z_pow_2_adj = np.maximum(pow_a, pow_b)

    p = fx._rounding_half_sum(r, _SQRT_SQRT_HALF)
    q = fx.wrap32(r - _SQRT_SQRT_HALF)
    q = fx.wrap32(q + q)
    common_sq = _mul(q, q)
    num = fx.wrap32(_mul(q, r) + _mul(_mul(q, common_sq), _ALPHA_N))
    inner = fx.wrap32(fx.wrap32(_ALPHA_I + q) + _mul(_ALPHA_D, common_sq))
    denom_minus_one = fx.wrap32(_mul(p, inner) + _mul(_ALPHA_F, q))
    recip_denom = fx.one_over_one_plus_x_for_x_in_0_1(denom_minus_one)
    num_scaled = fx.rounding_divide_by_pot(num, acc_bits)
    total = fx.wrap32(_mul(z_pow_2_adj, _LOG_2) + _mul(num_scaled, recip_denom))
    return fx.saturating_rounding_multiply_by_pot(total, acc_bits - output_bits)
