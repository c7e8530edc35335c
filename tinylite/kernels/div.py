"""DIV: x / y with broadcasting and a fused activation.  int32 divides with
truncation toward zero; a zero divisor is an error, as in TFLite.

Quantized uint8/int8/int16 follow LiteRT's DivElementwise: the divisor's
reciprocal in fixed point (GetReciprocal), the dividend shifted to use its
headroom, their rounding doubling high product, then the output multiplier
input1_scale / (input2_scale * output_scale) with the combined shift."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._base import broadcast_shape, op_data
from ._binary import BinaryData, prepare_arithmetic
from ._quantization import activation_range
from ._unary import is_quantized


@op_data
class OpData(BinaryData):
    """What DIV's prepare computes for eval."""

    q_mult: int = None
    q_shift: int = None
    q_offsets: tuple = None


def prepare(node):
    x = node.inputs[0]
    if x.dtype in (np.uint8, np.int8, np.int16) and is_quantized(x):
        return prepare_quantized(node)
    divide = divide_int if node.inputs[0].dtype == np.int32 else divide_float
    return prepare_arithmetic(node, divide, (np.float32, np.int32))


def prepare_quantized(node):
    d = node.draft(OpData)
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    if not (x.dtype == y.dtype == out.dtype) or not (is_quantized(y) and is_quantized(out)):
        node.fail(f"quantized DIV needs inputs and output of one quantized type, got {x.dtype.name}, "
                  f"{y.dtype.name} and {out.dtype.name}")
    out.shape = broadcast_shape(x.shape, y.shape, node)
    real = float(np.float32(x.scale)) / (float(np.float32(y.scale)) * float(np.float32(out.scale)))
    d.q_mult, d.q_shift = fx.quantize_multiplier(real)
    d.q_offsets = (-x.zero_point, -y.zero_point, out.zero_point)
    d.q_lo, d.q_hi = activation_range(node, out)
    return eval_quantized


def _leading_sign_bits(v):
    """CountLeadingSignBits of int32 values (31 for 0)."""
    v = np.asarray(v, np.int64)
    return fx.count_leading_zeros32(np.where(v < 0, ~v, v) & 0xFFFFFFFF) - 1


def _rounding_divide_by_pot_x86(x, exponent):
    """gemmlowp's RoundingDivideByPOT on int32 as LiteRT's x86 build computes it, also for
    the exponents >= 32 that tiny quotients reach: the mask (1 << e) - 1 is taken in 64 bits
    and truncated to 32, and the shift count is masked to 5 bits (x86 SAR), so such
    results come out far too large and saturate, as LiteRT's do."""
    x = np.asarray(x, np.int64)
    e = np.asarray(exponent, np.int64)
    mask = fx.wrap32((np.int64(1) << np.minimum(e, 62)) - 1)
    remainder = fx.wrap32(x & mask)
    threshold = (mask >> 1) + (x < 0)
    return (x >> (e & 31)) + (remainder > threshold)


def eval_quantized(node, inputs, outputs):
    data = node.data
    off1, off2, out_off = data.q_offsets
    a = inputs[0].astype(np.int64) + off1
    b = inputs[1].astype(np.int64) + off2
    a, b = np.broadcast_arrays(a, b)
    if np.any(b == 0):
        raise ValueError(f"{node.op_name} (node {node.index}): a divisor equals its zero point (division by 0)")
    neg = b < 0
    a = np.where(neg, -a, a)
    b = np.where(neg, -b, b)
    inv, recip_shift = fx.get_reciprocal(b, 31)
    headroom = _leading_sign_bits(a)
    quotient = fx.saturating_rounding_doubling_high_mul(fx.wrap32(a << headroom), inv)
    total = data.q_shift - recip_shift - headroom
    res = _rounding_divide_by_pot_x86(fx.saturating_rounding_doubling_high_mul(quotient, data.q_mult), -total)
    out = outputs[0]
    out[...] = np.clip(res + out_off, data.q_lo, data.q_hi)


def divide_float(x, y, out):
    # x/0 is +-inf (clamped to +-max by the activation) and 0/0 NaN, silently.
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(x, y, out=out)


def divide_int(x, y, out):
    if not np.all(y):
        raise ValueError("DIV: the int32 divisor contains a zero")
    x, y = x.astype(np.int64), y.astype(np.int64)
    q = np.abs(x) // np.abs(y)
    # Truncating division; INT_MIN / -1 saturates to INT_MAX as LiteRT returns.
    q = np.where((x < 0) != (y < 0), -q, q)
    np.clip(q, np.iinfo(np.int32).min, np.iinfo(np.int32).max, out=q)
    out[...] = q
