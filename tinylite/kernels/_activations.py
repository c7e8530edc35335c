"""Quantized paths shared by several activation ops, as LiteRT's
activations.cc shares them: TANH and LOGISTIC (TFLite's 256-entry table for
8 bits, the interpolated sigmoid table for int16) and the RELU family
(requantize, then clamp)."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantization import QuantData, _f32, _info, _lut_or_direct, _require, _unsupported
from ._base import op_data


@op_data
class ActivationData(QuantData):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    q_x_zp: int = None


def prepare_sigmoid_like(node, tanh):
    d = node.draft(ActivationData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype != out.dtype:
        node.fail(f"input type {x.dtype.name} differs from output type {out.dtype.name}")
    if x.dtype != np.int16:
        if not tanh and abs(out.scale - 1.0 / 256) > 0:
            node.fail("int8/uint8 LOGISTIC needs an output scale of 1/256")
        d.q_lut = fx.lut_int8(fx.tanhf32 if tanh else fx.sigmoidf32, x.scale, x.zero_point, out.scale,
                                 out.zero_point, x.dtype)
        d.q_offset = -int(np.iinfo(x.dtype).min)
        return _eval_lut8
    if x.zero_point != 0 or out.zero_point != 0:
        node.fail("int16 TANH/LOGISTIC need zero points of 0")
    # Inputs are rescaled to units of 1/(3*4096) (a power-of-two scale of 2**-12 or, for
    # TANH, 2**-11 is the multiplier 3 << shift).
    log2 = float(np.log(np.float32(x.scale)) * (np.float32(1) / np.log(np.float32(2))))
    rounded = float(fx.round_half_away(log2))
    shift = 12 + int(rounded)
    pot = abs(log2 - rounded) < 1e-3 and (shift in (0, 1) if tanh else shift == 0)
    if pot:
        d.q_mult, d.q_shift = 3 << shift, 0
        if not node.reference:
            # LiteRT's optimized resolver runs these scales on gemmlowp's fixed-point
            # tanh/logistic (F3 input, its left shift by 1 for TANH at 2**-11; input_multiplier 0),
            # its reference resolver on the table interpolation below.
            return _eval_tanh16_gemmlowp if tanh else _eval_logistic16_gemmlowp
    else:
        multiplier = float(x.scale) * 4096.0 * 3.0
        shift = 0
        while multiplier <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            multiplier *= 2.0
        d.q_mult, d.q_shift = int(multiplier), shift
    out_log2 = float(np.log(np.float32(out.scale)) * (np.float32(1) / np.log(np.float32(2))))
    if abs(out_log2 + 15) >= 1e-3:
        node.fail("int16 TANH/LOGISTIC need an output scale of 2**-15")
    return _eval_tanh16 if tanh else _eval_logistic16


def _eval_lut8(node, inputs, outputs):
    data = node.data
    outputs[0][...] = data.q_lut[inputs[0].astype(np.int64) + data.q_offset]


def _sigmoid_table_interp(x, mult, shift, frac_bits):
    """abs(rescaled input) and the interpolated sigmoid table value (frac_bits of interpolation)."""
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = (x.astype(np.int64) * mult + rnd) >> shift
    a = np.abs(v)
    uh = a >> frac_bits
    idx = np.minimum(uh, 254)
    ua = fx.SIGMOID_TABLE_UINT16[idx]
    ub = fx.SIGMOID_TABLE_UINT16[idx + 1]
    ut = a & ((1 << frac_bits) - 1)
    return v, uh, (ua << frac_bits) + ut * (ub - ua)


def _eval_tanh16(node, inputs, outputs):
    data = node.data
    v, uh, res = _sigmoid_table_interp(inputs[0], data.q_mult, data.q_shift, 8)
    res = np.where(uh >= 255, 0xFFFF << 8, res)
    res = np.where(v >= 0, res - (1 << 23) + (1 << 7), -res + (1 << 23) + (1 << 7) - 1)
    outputs[0][...] = (res >> 8).astype(np.int16)


def _eval_logistic16(node, inputs, outputs):
    data = node.data
    v, uh, res = _sigmoid_table_interp(inputs[0], data.q_mult, data.q_shift, 9)
    res = np.where(uh >= 255, 0x7FFF << 10, res)
    res = np.where(v >= 0, res + (1 << 9), (1 << 25) - res + (1 << 9) - 1)
    outputs[0][...] = ((res & 0xFFFFFFFF) >> 10).astype(np.int16)


def _eval_tanh16_gemmlowp(node, inputs, outputs):
    x = inputs[0].astype(np.int64)
    if node.data.q_mult == 6:           # input_left_shift 1: SaturatingRoundingMultiplyByPOT<1>
        x = fx.saturating_rounding_multiply_by_pot16(x, 1)
    outputs[0][...] = fx.tanh16_lut(x, 3)


def _eval_logistic16_gemmlowp(node, inputs, outputs):
    outputs[0][...] = fx.logistic16_lut(inputs[0].astype(np.int64), 3)


def _prepare_relu_x(node, act_min, act_max, dtypes):
    od = node.draft(ActivationData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in [np.dtype(d) for d in dtypes]:
        _unsupported(node)
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    info = _info(out.dtype)
    so, zo = _f32(out.scale), out.zero_point
    od.q_lo = max(info.min, zo + int(fx.round_half_away(_f32(act_min) / so)))
    od.q_hi = info.max if act_max is None else min(info.max, zo + int(fx.round_half_away(_f32(act_max) / so)))
    od.q_mult, od.q_shift = fx.quantize_multiplier(float(_f32(x.scale) / so))
    od.q_x_zp, od.q_out_zp = x.zero_point, zo
    return _lut_or_direct(node, x, _relu_x, (od.q_x_zp, od.q_mult, od.q_shift, od.q_out_zp, od.q_lo, od.q_hi))


def _relu_x(node, q):
    data = node.data
    res = fx.multiply_by_quantized_multiplier(q - data.q_x_zp, data.q_mult, data.q_shift) + data.q_out_zp
    return np.clip(res, data.q_lo, data.q_hi)
