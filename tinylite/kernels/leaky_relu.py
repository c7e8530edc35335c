"""LEAKY_RELU: x if x > 0 else alpha * x (alpha may exceed 1 or be negative)."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantization import QuantData, _f32, _info, _lut_or_direct, _require
from ._unary import prepare_float_unary
from ._base import op_data


@op_data
class OpData(QuantData):
    """What LEAKY_RELU's prepare computes for eval."""

    alpha: np.float32 = None
    q_alpha: tuple = None
    q_identity: tuple = None
    q_x_zp: int = None


ZERO = np.float32(0)


def prepare(node):
    d = node.draft(OpData)
    d.alpha = np.float32(node.options.get("alpha", 0.0))
    return prepare_float_unary(node, eval_float, "leaky_relu")


def eval_float(node, inputs, outputs):
    # min(x, 0) * alpha + max(x, 0): the same values (up to the sign of zero)
    # for any finite alpha, and much faster than a masked select.
    x, out = inputs[0], outputs[0]
    np.minimum(x, ZERO, out=out)
    out *= node.data.alpha
    out += np.maximum(x, ZERO)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    alpha = _f32(node.options.get("alpha", 0.0))
    sx, so = _f32(x.scale), _f32(out.scale)
    d.q_alpha = fx.quantize_multiplier(float(sx * alpha / so))
    d.q_identity = fx.quantize_multiplier(float(sx / so))
    d.q_x_zp, d.q_out_zp = x.zero_point, out.zero_point
    d.q_lo, d.q_hi = int(_info(out.dtype).min), int(_info(out.dtype).max)
    return _lut_or_direct(node, x, _leaky_relu, (d.q_x_zp, d.q_identity, d.q_alpha, d.q_out_zp, d.q_lo, d.q_hi))


def _leaky_relu(node, q):
    v = q - node.data.q_x_zp
    # A negative alpha gives a negative multiplier; gemmlowp's rounding is odd-symmetric,
    # so this equals TFLite's negation of the positive-multiplier product.
    pos = fx.multiply_by_quantized_multiplier(v, *node.data.q_identity)
    neg = fx.multiply_by_quantized_multiplier(v, *node.data.q_alpha)
    return np.clip(np.where(v >= 0, pos, neg) + node.data.q_out_zp, node.data.q_lo, node.data.q_hi)
