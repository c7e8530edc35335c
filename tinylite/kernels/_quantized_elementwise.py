"""Quantized elementwise kernels: ADD, SUB, MUL (TFLite's rescaling to a
common 2**-20 / 2**-15 grid, per-input multipliers), the standalone RELU
family, LEAKY_RELU, HARD_SWISH (TFLite's int16 fixed-point formula), GELU
(lookup table) and CONCATENATION with rescaling.  Re-exported by _quantized.

Where LiteRT's optimized kernels vectorize (NEON, or NEON_2_SSE on x86) they
round ties differently from the scalar code; for 8-bit ADD/SUB/MUL and for
the 8-bit activations every input pair was compared exhaustively against
LiteRT with random parameters and no difference showed (the rescaled values
carry ~20 spare bits), so tinylite uses the scalar formulas throughout.
"""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantized import _f32, _require, _unsupported, activation_range

_INT8_TYPES = (np.dtype(np.int8), np.dtype(np.uint8))


def _info(dtype):
    return np.iinfo(dtype)


def _all_values(dtype):
    """Every value of an 8-bit type, for per-value tables (index: q - min)."""
    i = _info(dtype)
    return np.arange(i.min, i.max + 1, dtype=np.int64)


def _mbqm_small(x, mult, shift):
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0)."""
    return fx.rounding_divide_by_pot(fx.saturating_rounding_doubling_high_mul(fx.wrap32(x), mult), -shift)


def _checked_log2(scale):
    """TFLite's CheckedLog2: (rounded log2, whether the scale is a power of two)."""
    log2 = float(np.log(np.float32(scale)) * (np.float32(1) / np.log(np.float32(2))))
    rounded = float(fx.round_half_away(log2))
    return int(rounded), abs(log2 - rounded) < 1e-3


# --- ADD / SUB / MUL ---

def prepare_binary(node):
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, y, out)
    if not (x.dtype == y.dtype == out.dtype):
        _unsupported(node, f"inputs {x.dtype.name}/{y.dtype.name} with a {out.dtype.name} output")
    node.q_lo, node.q_hi = activation_range(node, out)
    if node.op_name == "MUL":
        return _prepare_mul(node, x, y, out)
    if node.op_name not in ("ADD", "SUB"):
        _unsupported(node)
    node.q_sign = 1 if node.op_name == "ADD" else -1
    if x.dtype == np.int16:
        if x.zero_point or y.zero_point or out.zero_point:
            node.fail("int16 inputs and output need zero points of 0")
        logs = [_checked_log2(s.scale) for s in (x, y, out)]
        if node.options.get("pot_scale_int16", True) and all(p for _, p in logs):
            return _prepare_pot16(node, x, y, [l for l, _ in logs])
    # Both inputs move to a grid 2**left_shift finer than twice the larger input scale.
    left_shift = 15 if x.dtype == np.int16 else 20
    twice_max = float(_f32(2 * max(_f32(x.scale), _f32(y.scale))))
    real_out = twice_max / float(_f32((1 << left_shift) * _f32(out.scale)))
    if real_out > 1:
        _unsupported(node, "an output scale this much finer than the input scales")
    node.q_in = []
    for s in (x, y):
        mult, shift = fx.quantize_multiplier(float(s.scale) / twice_max)
        node.q_in.append((s.zero_point, left_shift, mult, shift))
    node.q_out_mult, node.q_out_shift = fx.quantize_multiplier(real_out)
    node.q_out_zp = out.zero_point
    if x.dtype in _INT8_TYPES:
        # 256 possible values per input: rescale each once.
        node.q_tables = [_rescale(_all_values(x.dtype), p) for p in node.q_in]
        node.q_offset = -int(_info(x.dtype).min)
        from .optimized import _pair_table

        return _pair_table.plan(node, _eval_add_sub) or _eval_add_sub
    node.q_tables = None
    return _eval_add_sub


def _rescale(q, params):
    zp, left_shift, mult, shift = params
    return _mbqm_small((q.astype(np.int64) - zp) << left_shift, mult, shift)


def _eval_add_sub(node, inputs, outputs):
    if node.q_tables is not None:
        a = node.q_tables[0][inputs[0].astype(np.int64) + node.q_offset]
        b = node.q_tables[1][inputs[1].astype(np.int64) + node.q_offset]
    else:
        a = _rescale(inputs[0], node.q_in[0])
        b = _rescale(inputs[1], node.q_in[1])
    raw = a + b if node.q_sign > 0 else a - b
    res = _mbqm_small(raw, node.q_out_mult, node.q_out_shift) + node.q_out_zp
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), node.q_lo, node.q_hi)


def _prepare_pot16(node, x, y, logs):
    """TFLite's int16 path for power-of-two scales: one input is shifted right onto the other's grid."""
    s1, s2 = logs[0] - logs[2], logs[1] - logs[2]
    if not (s1 == 0 or s2 == 0) or s1 > 0 or s2 > 0:
        node.fail("power-of-two int16 scales: one input must share the output scale, the other be finer")
    if node.q_sign > 0 and tuple(x.shape) != tuple(y.shape):
        # TFLite's POT ADD walks both inputs elementwise; it has no broadcasting form.
        _unsupported(node, "broadcasting with power-of-two int16 scales")
    node.q_shifts = (-s1, -s2)
    return _eval_pot16


def _eval_pot16(node, inputs, outputs):
    a = fx.rounding_divide_by_pot(inputs[0].astype(np.int64), node.q_shifts[0])
    b = fx.rounding_divide_by_pot(inputs[1].astype(np.int64), node.q_shifts[1])
    res = a + b if node.q_sign > 0 else a - b
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), node.q_lo, node.q_hi)


def _prepare_mul(node, x, y, out):
    if x.dtype == np.int16 and (x.zero_point or y.zero_point or out.zero_point):
        node.fail("int16 inputs and output need zero points of 0")
    # The scale product is taken in float32, as in TFLite's Prepare.
    real = float(_f32(_f32(x.scale) * _f32(y.scale)) / _f32(out.scale))
    node.q_mult, node.q_shift = fx.quantize_multiplier(real)
    node.q_zps = (x.zero_point, y.zero_point, out.zero_point)
    if x.dtype in _INT8_TYPES:
        from .optimized import _pair_table

        return _pair_table.plan(node, _eval_mul) or _eval_mul
    return _eval_mul


def _eval_mul(node, inputs, outputs):
    zx, zy, zo = node.q_zps
    prod = (inputs[0].astype(np.int64) - zx) * (inputs[1].astype(np.int64) - zy)
    res = fx.multiply_by_quantized_multiplier(prod, node.q_mult, node.q_shift) + zo
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), node.q_lo, node.q_hi)


# --- RELU, RELU6, RELU_N1_TO_1 ---

def _prepare_relu_x(node, act_min, act_max, dtypes):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in [np.dtype(d) for d in dtypes]:
        _unsupported(node)
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    info = _info(out.dtype)
    so, zo = _f32(out.scale), out.zero_point
    node.q_lo = max(info.min, zo + int(fx.round_half_away(_f32(act_min) / so)))
    node.q_hi = info.max if act_max is None else min(info.max, zo + int(fx.round_half_away(_f32(act_max) / so)))
    node.q_mult, node.q_shift = fx.quantize_multiplier(float(_f32(x.scale) / so))
    node.q_x_zp, node.q_out_zp = x.zero_point, zo
    return _lut_or_direct(node, x, _relu_x)


def _relu_x(node, q):
    res = fx.multiply_by_quantized_multiplier(q - node.q_x_zp, node.q_mult, node.q_shift) + node.q_out_zp
    return np.clip(res, node.q_lo, node.q_hi)


def _lut_or_direct(node, x, fn):
    """An eval applying fn(node, int64 values): through a 256-entry table for 8-bit types."""
    node.q_fn = fn
    if x.dtype in _INT8_TYPES:
        node.q_lut = fn(node, _all_values(x.dtype)).astype(x.dtype)
        node.q_offset = -int(_info(x.dtype).min)
        return _eval_lut
    return _eval_direct


def _eval_lut(node, inputs, outputs):
    np.take(node.q_lut, inputs[0].astype(np.intp) + node.q_offset, out=outputs[0])


def _eval_direct(node, inputs, outputs):
    outputs[0][...] = node.q_fn(node, inputs[0].astype(np.int64))


def prepare_relu(node):
    return _prepare_relu_x(node, 0.0, None, (np.int8, np.uint8, np.int16))


def prepare_relu6(node):
    return _prepare_relu_x(node, 0.0, 6.0, (np.int8, np.uint8, np.int16))


def prepare_relu_n1_to_1(node):
    # LiteRT's RELU_N1_TO_1 has no int16 kernel.
    return _prepare_relu_x(node, -1.0, 1.0, (np.int8, np.uint8))


# --- LEAKY_RELU ---

def prepare_leaky_relu(node):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    alpha = _f32(node.options.get("alpha", 0.0))
    sx, so = _f32(x.scale), _f32(out.scale)
    node.q_alpha = fx.quantize_multiplier(float(sx * alpha / so))
    node.q_identity = fx.quantize_multiplier(float(sx / so))
    node.q_x_zp, node.q_out_zp = x.zero_point, out.zero_point
    node.q_lo, node.q_hi = int(_info(out.dtype).min), int(_info(out.dtype).max)
    return _lut_or_direct(node, x, _leaky_relu)


def _leaky_relu(node, q):
    v = q - node.q_x_zp
    # A negative alpha gives a negative multiplier; gemmlowp's rounding is odd-symmetric,
    # so this equals TFLite's negation of the positive-multiplier product.
    pos = fx.multiply_by_quantized_multiplier(v, *node.q_identity)
    neg = fx.multiply_by_quantized_multiplier(v, *node.q_alpha)
    return np.clip(np.where(v >= 0, pos, neg) + node.q_out_zp, node.q_lo, node.q_hi)


# --- HARD_SWISH ---

def _srdhm16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int16 values."""
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    res = fx._trunc_div_pow2(ab + nudge, 15)
    return np.where((a == -32768) & (b == -32768), 32767, res)


def _sat16(v):
    return np.clip(v, -32768, 32767)


def _downscale_multiplier16(m):
    """DownScaleInt32ToInt16Multiplier."""
    return 32767 if m >= (1 << 31) - 1 - (1 << 15) else (m + (1 << 15)) >> 16


def prepare_hard_swish(node):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in _INT8_TYPES:
        _unsupported(node)
    hires = _f32(_f32(1.0 / 128.0) * _f32(x.scale))
    om, oe = fx.quantize_multiplier(float(hires / _f32(out.scale)))
    rm, re_ = fx.quantize_multiplier(float(hires / _f32(3.0 / 32768.0)))
    if oe > 0:
        node.fail("HARD_SWISH needs an output scale no finer than the input scale / 128")
    node.q_hs = (_downscale_multiplier16(om), oe, _downscale_multiplier16(rm), re_)
    node.q_x_zp, node.q_out_zp = x.zero_point, out.zero_point
    return _lut_or_direct(node, x, _hard_swish)


def _hard_swish(node, q):
    """TFLite's fixed-point hard-swish: x * relu6(x + 3) / 6 with x on a 2**7 finer grid."""
    om, oe, rm, re_ = node.q_hs
    hires = (q - node.q_x_zp) * 128
    preshift = _srdhm16(hires, om)
    reluish = hires
    if re_ > 0:
        reluish = _sat16(reluish * (1 << (re_ - 1)))
    reluish = _srdhm16(reluish, rm)
    if re_ > 0:
        reluish = _sat16(reluish * 2)
    if re_ < 0:
        reluish = fx.rounding_divide_by_pot(reluish, -re_)
    # relu6(x + 3) / 6 as a fraction in [0, 1] (Q0.15): (r + 1) / 2.
    reluish = (reluish + (1 << 15)) >> 1
    ab = reluish * preshift
    prod = np.where((reluish == -32768) & (preshift == -32768), 32767, fx._trunc_div_pow2(ab, 15))
    res = fx.rounding_divide_by_pot(prod, -oe) + node.q_out_zp
    info = _info(node.outputs[0].dtype)
    return np.clip(res, info.min, info.max)


# --- CONCATENATION ---

def prepare_concatenation(node):
    """Inputs on other grids than the output's are requantized, as TFLite's uint8 kernel does:
    round(q * (s_in / s_out) - zp_in * (s_in / s_out)) + zp_out in float32.  LiteRT rejects int8
    inputs on other grids and copies int16 inputs unscaled (zero points must be 0); tinylite
    follows it for int16 and requantizes int8 like uint8."""
    out = node.outputs[0]
    specs = [s for s in node.inputs] + [out]
    _require(node, *specs)
    if out.dtype == np.int16 and any(s.zero_point for s in specs):
        node.fail("int16 inputs and output need zero points of 0")
    node.q_lo, node.q_hi = activation_range(node, out)
    inv = _f32(1) / _f32(out.scale)
    node.q_rescale = []
    for s in node.inputs:
        if out.dtype == np.int16 or (_f32(s.scale) == _f32(out.scale) and s.zero_point == out.zero_point):
            node.q_rescale.append(None)
        else:
            scale = _f32(_f32(s.scale) * inv)
            node.q_rescale.append((scale, _f32(-s.zero_point * scale)))
    node.q_out_zp = out.zero_point
    return _eval_concatenation


def _eval_concatenation(node, inputs, outputs):
    out = outputs[0]
    parts = []
    for x, r in zip(inputs, node.q_rescale):
        if r is None:
            parts.append(x.astype(np.int64))
        else:
            v = x.astype(np.float32) * r[0] + r[1]
            parts.append(fx.round_half_away(v).astype(np.int64) + node.q_out_zp)
    if out.ndim == 1 and inputs[0].ndim == 0:
        res = np.array([p[()] for p in parts])
    else:
        res = np.concatenate(parts, axis=node.axis)
    info = _info(out.dtype)
    out[...] = np.clip(res, max(info.min, node.q_lo), min(info.max, node.q_hi))


# --- GELU ---

_SQRT_2_OVER_PI = np.float32(2 / np.sqrt(np.pi) * np.sqrt(0.5))


def _gelu_exact32(x):
    # 0.5f * x * erfcf(x * -sqrt(1/2)) in float32; erfc correctly rounded (math.erfc in double).
    import math

    u = (x * np.float32(-np.sqrt(0.5))).astype(np.float32)
    e = np.array([math.erfc(float(v)) for v in u], np.float64).astype(np.float32)
    return (np.float32(0.5) * x).astype(np.float32) * e


def _gelu_tanh32(x):
    cube = ((np.float32(0.044715) * x) * x) * x
    t = np.tanh((_SQRT_2_OVER_PI * (x + cube)).astype(np.float64)).astype(np.float32)
    return (np.float32(0.5) * x) * (np.float32(1) + t)


def prepare_gelu(node):
    return _prepare_lut(node, _gelu_tanh32 if node.options.get("approximate") else _gelu_exact32)


# --- EXP ---

def prepare_exp(node):
    from ._quantized import _expf

    x = node.inputs[0]
    if x.dtype == np.uint8:
        _unsupported(node, "uint8 EXP")
    return _prepare_lut(node, lambda v: _expf(np.asarray(v, np.float32)))


def _prepare_lut(node, fn):
    """TFLite's LUTPopulate for a float32 function: a 256-entry table for 8-bit types, the
    interpolated 513-entry one (float32 samples) for int16."""
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype in _INT8_TYPES:
        node.q_lut = fx.lut_int8(fn, x.scale, x.zero_point, out.scale, out.zero_point, x.dtype)
        node.q_offset = -int(_info(x.dtype).min)
        return _eval_lut
    if x.zero_point or out.zero_point:
        node.fail("int16 input and output need zero points of 0")

    def fn32(v):
        return fn(np.asarray(v, np.float32).reshape(-1)).astype(np.float32)

    node.q_lut16 = fx.lut_int16(fn32, _f32(x.scale), 0, _f32(out.scale), 0, float_type=np.float32)
    return _eval_lut16


def _eval_lut16(node, inputs, outputs):
    outputs[0][...] = fx.lut_lookup_int16(inputs[0], node.q_lut16)
