"""PRELU: x if x >= 0 else alpha * x, alpha broadcast against x (the output
keeps x's shape, as TFLite requires).  The optimized kernel for constant
alphas (one multiply and a max or min) is kernels/optimized/prelu.py."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._base import broadcast_shape, op_data, OpDataBase
from ._quantization import _f32, _require, _store


@op_data
class OpData(OpDataBase):
    """What PRELU's prepare computes for eval."""

    q_m1: tuple = None
    q_m2: tuple = None
    q_x_zp: int = None
    q_a_zp: int = None
    q_out_zp: int = None


ZERO = np.float32(0)


def prepare(node):
    x, alpha = node.inputs[0], node.inputs[1]
    shape = broadcast_shape(x.shape, alpha.shape, node)
    if tuple(shape) != tuple(x.shape):
        node.fail(f"alpha of shape {list(alpha.shape)} would broadcast the input {list(x.shape)} to {list(shape)}")
    node.outputs[0].shape = shape
    if x.dtype == np.float32:
        node.expect_dtype(alpha, np.float32)
        return eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    """Reference path: min(x, 0) * alpha + max(x, 0), the same values (up to the
    sign of zero) as a masked select for finite alpha, and faster."""
    x, alpha = inputs
    out = outputs[0]
    np.minimum(x, ZERO, out=out)
    out *= alpha
    out += np.maximum(x, ZERO)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, alpha, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, alpha, out)
    if out.shape != x.shape:
        node.fail(f"alpha of shape {list(alpha.shape)} does not broadcast to the input's {list(x.shape)}")
    # The real multipliers are computed in float32, as TFLite does.
    d.q_m1 = fx.quantize_multiplier(float(_f32(x.scale) / _f32(out.scale)))
    d.q_m2 = fx.quantize_multiplier(float(_f32(x.scale) * _f32(alpha.scale) / _f32(out.scale)))
    d.q_x_zp, d.q_a_zp, d.q_out_zp = x.zero_point, alpha.zero_point, out.zero_point
    return _eval_prelu


def _eval_prelu(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    xv = inputs[0].astype(np.int64) - data.q_x_zp
    av = inputs[1].astype(np.int64) - data.q_a_zp
    pos = fx.multiply_by_quantized_multiplier(xv, *data.q_m1)
    neg = fx.multiply_by_quantized_multiplier(xv * av, *data.q_m2)
    res = np.where(xv >= 0, pos, neg) + data.q_out_zp
    info = np.iinfo(out.dtype)
    _store(out, np.broadcast_to(res, out.shape).copy(), info.min, info.max)
