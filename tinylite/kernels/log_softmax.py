"""LOG_SOFTMAX over the last axis: (x - max) - log(sum(exp(x - max)))."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantization import _check_unary, _f32, _INT8
from ._unary import prepare_float_unary
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What LOG_SOFTMAX's prepare computes for eval."""

    q_mult: int = None
    q_shift: int = None
    q_rev_mult: int = None
    q_rev_shift: int = None
    q_diff_min: int = None
    q_table: np.ndarray = None
    q_in_scale: np.float32 = None
    q_ratio: np.float32 = None
    q_out_scale: np.float32 = None
    q_out_zp: int = None


def prepare(node):
    if len(node.inputs[0].shape) < 1:
        node.fail("input must have at least one dimension")
    return prepare_float_unary(node, eval_float, "log_softmax")


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    with np.errstate(divide="ignore"):
        out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))


# --- quantized ---

_IN_BITS, _ACC_BITS, _OUT_BITS = 5, 12, 4     # Q5.26 scaled differences, Q12 sum, Q4 output


def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = _check_unary(node, (_INT8, np.dtype(np.uint8)))
    zp = 127 if x.dtype == _INT8 else 255
    if float(_f32(out.scale)) != 16.0 / 256 or out.zero_point != zp:
        node.fail(f"{x.dtype.name} LOG_SOFTMAX needs output scale 16/256 and zero point {zp} (TFLite's fixed "
                  f"grid for [-16, 0]); got scale {float(out.scale)} and zero point {out.zero_point}")
    if not node.reference or x.dtype != _INT8:
        sx = _f32(x.scale)
        # exp(-scale * d) for d = max - x in 0..255 (beta is 1).
        d.q_table = fx.expf32(-sx * np.arange(256, dtype=np.float32))
        d.q_in_scale = sx
        d.q_ratio = sx / _f32(out.scale)
        d.q_out_scale, d.q_out_zp = _f32(out.scale), zp
        return _eval_log_softmax_table
    # PreprocessLogSoftmaxScalingExp with beta 1: the multiplier of the differences into Q5.26,
    # and its inverse (to map the log-sum back onto the input grid).
    real = min(float(x.scale) * (1 << (31 - _IN_BITS)), (1 << 31) - 1.0)
    d.q_mult, d.q_shift = fx.quantize_multiplier(real)
    reverse = (1 << (31 - d.q_shift)) / float(d.q_mult)
    d.q_rev_mult, d.q_rev_shift = fx.quantize_multiplier(reverse)
    d.q_diff_min = -fx.calculate_input_radius(_IN_BITS, d.q_shift)
    return _eval_log_softmax8


def _eval_log_softmax_table(node, inputs, outputs):
    data = node.data
    x = inputs[0].astype(np.int64)
    top = x.max(axis=-1, keepdims=True)
    e = data.q_table[top - x]
    # The C++ loop sums in float32, in order; cumulative sums keep that order.
    total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
    log_sum = np.log(total.astype(np.float64)).astype(np.float32)
    shift = (data.q_in_scale * top.astype(np.float32) + log_sum) / data.q_out_scale
    log_prob = data.q_ratio * x.astype(np.float32) - shift
    info = np.iinfo(outputs[0].dtype)
    # std::rint: ties to even, as np.rint.
    outputs[0][...] = np.clip(np.rint(log_prob).astype(np.int64) + data.q_out_zp, info.min, info.max)


def _eval_log_softmax8(node, inputs, outputs):
    data = node.data
    x = inputs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= data.q_diff_min
    scaled = fx.multiply_by_quantized_multiplier(np.where(live, diff, 0), data.q_mult, data.q_shift)
    exps = fx.rounding_divide_by_pot(fx.exp_on_negative_values(scaled, _IN_BITS), _ACC_BITS)
    sum_q12 = fx.wrap32(np.where(live, exps, 0).sum(axis=-1, keepdims=True))
    log_sum_q5 = fx.log_x_for_x_ge_1(sum_q12, _ACC_BITS, _IN_BITS)
    # Differences at or below this one would fall under the int32 range once the log-sum is
    # subtracted: they give the type's minimum.
    floor = fx.multiply_by_quantized_multiplier(fx.wrap32(log_sum_q5 + fx.INT32_MIN), data.q_rev_mult,
                                                data.q_rev_shift)
    adjusted_min = np.maximum(data.q_diff_min - 1, floor)
    res = fx.rounding_divide_by_pot(fx.wrap32(scaled - log_sum_q5), 31 - _IN_BITS - _OUT_BITS) + 127
    res = np.where(diff > adjusted_min, np.clip(res, -128, 127), -128)
    outputs[0][...] = res
