"""SOFTMAX over the last axis, with `beta`: exp(beta * (x - max)) / sum.

The optimized kernel (kept views, one row without the shift) is
kernels/optimized/softmax.py."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantization import _require, _store, _unsupported
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SOFTMAX's prepare computes for eval."""

    q_exp_lut: np.ndarray = None
    q_recip_lut: np.ndarray = None
    q_mult: int = None
    q_shift: int = None
    beta: np.float32 = None
    q_diff_min: int = None
    q_table: np.ndarray = None
    q_out_scale: np.float32 = None
    q_out_zp: int = None


def prepare(node):
    d = node.draft(OpData)
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        d.beta = np.float32(node.options.get("beta", 1.0))
        return eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    np.subtract(x, np.max(x, axis=-1, keepdims=True), out=out)
    if data.beta != 1:
        out *= data.beta
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)


# --- quantized ---

def prepare_quantized(node):
    od = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    beta = float(np.float32(node.options.get("beta", 1.0)))
    if x.dtype in (np.int8, np.uint8):
        if out.dtype not in (np.int8, np.uint8, np.int16):
            _unsupported(node, f"{out.dtype.name} output")
        if not node.reference:
            # exp(-scale * beta * d) for d = max - x in 0..255, in float32.
            d = np.arange(256, dtype=np.float32)
            od.q_table = fx.expf32((-np.float32(x.scale) * np.float32(beta)) * d)
            od.q_out_scale, od.q_out_zp = np.float32(out.scale), out.zero_point
            return _eval_softmax8_table
        # PreprocessSoftmaxScaling with 5 integer bits for the scaled differences.
        real = min(beta * float(x.scale) * (1 << (31 - 5)), (1 << 31) - 1.0)
        if not real > 1.0:
            # QuantizeMultiplierGreaterThanOne's check: LiteRT's reference kernel aborts the process.
            node.fail(f"the scale of input {x.name!r} ({float(x.scale):.4g}) times beta ({beta:g}) is at most 2**-26, "
                      "which LiteRT's reference softmax cannot scale (its multiplier must exceed 1; LiteRT "
                      "aborts there).  The default op resolver's kernel runs it")
        od.q_mult, od.q_shift = fx.quantize_multiplier(real)
        od.q_diff_min = -fx.calculate_input_radius(5, od.q_shift)
        return _eval_softmax8
    if out.dtype != np.int16:
        _unsupported(node, f"{x.dtype.name} input with {out.dtype.name} output")
    if x.zero_point != 0 or out.zero_point != 0:
        node.fail("int16 softmax needs zero points of 0")
    rng = 65535
    od.q_exp_lut = fx.lut_int16(np.exp, 10.0 / rng, 32767, 2.0 / rng, 0)
    od.q_recip_lut = fx.lut_int16(lambda v: 1.0 / (1.0 + v), 1.0 / rng, -32768, 2.0 / rng, 0)
    od.q_mult, od.q_shift = fx.quantize_multiplier(float(x.scale) * beta / (10.0 / 65535.0))
    return _eval_softmax16


def _eval_softmax8(node, inputs, outputs):
    data = node.data
    x = inputs[0].astype(np.int64)
    out = outputs[0]
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= data.q_diff_min
    # MultiplyByQuantizedMultiplierGreaterThanOne: the shift is a left shift.
    scaled = fx.saturating_rounding_doubling_high_mul(fx.wrap32(np.where(live, diff, 0) << data.q_shift), data.q_mult)
    exps = fx.exp_on_negative_values(scaled, 5)
    sum_of_exps = fx.wrap32(np.where(live, fx.rounding_divide_by_pot(exps, 12), 0).sum(axis=-1, keepdims=True))
    recip, bits_over_unit = fx.get_reciprocal(sum_of_exps, 12)
    info = np.iinfo(out.dtype)
    exponent = bits_over_unit + 31 - 8 * out.dtype.itemsize
    unsat = fx.rounding_divide_by_pot(fx.saturating_rounding_doubling_high_mul(recip, exps), exponent)
    res = np.where(live, unsat + (-32768 if out.dtype == np.int16 else -128 if out.dtype == np.int8 else 0),
                   info.min)
    _store(out, res, info.min, info.max)


def _eval_softmax8_table(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    x = inputs[0].astype(np.int64)
    e = data.q_table[x.max(axis=-1, keepdims=True) - x]
    # The C++ loop sums in float32, in order; cumulative sums keep that order.
    total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
    inv = np.float32(1) / (total * data.q_out_scale)
    prob = e * inv
    if out.dtype == np.uint8:
        q = np.floor(prob + np.float32(0.5))       # LiteRT truncates prob + 0.5 for uint8
    else:
        q = fx.round_half_away(prob) + data.q_out_zp
    info = np.iinfo(out.dtype)
    _store(out, q.astype(np.int64), info.min, info.max)


def _eval_softmax16(node, inputs, outputs):
    data = node.data
    x = inputs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = fx.multiply_by_quantized_multiplier(diff, data.q_mult, data.q_shift)
    exps = fx.lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), data.q_exp_lut)
    total = exps.sum(axis=-1, keepdims=True)
    headroom_plus_one = fx.count_leading_zeros32(total)
    shifted = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
    recip = fx.lut_lookup_int16(sym, data.q_recip_lut)
    right_shift = 31 - headroom_plus_one
    res = (exps * recip + (np.int64(1) << (right_shift - 1))) >> right_shift
    _store(outputs[0], res, 0, 32767)
