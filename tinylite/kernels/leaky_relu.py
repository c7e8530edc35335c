"""LEAKY_RELU: x if x > 0 else alpha * x (alpha may exceed 1 or be negative)."""
import numpy as np

from . import _fixedpoint as fx
from ._quantization import _f32, _info, _lut_or_direct, _require
from ._unary import prepare_float_unary


ZERO = np.float32(0)


def prepare(node):
    node.alpha = np.float32(node.options.get("alpha", 0.0))
    return prepare_float_unary(node, eval_float, "leaky_relu")


def eval_float(node, inputs, outputs):
    # min(x, 0) * alpha + max(x, 0): the same values (up to the sign of zero)
    # for any finite alpha, and much faster than a masked select.
    x, out = inputs[0], outputs[0]
    np.minimum(x, ZERO, out=out)
    out *= node.alpha
    out += np.maximum(x, ZERO)


# --- quantized ---

def prepare_quantized(node):
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
