"""RSQRT: 1 / sqrt(x), elementwise (inf at 0, NaN for negative inputs)."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantization import _check_unary, _f32, _INT16, _INT8, _require_non_negative
from ._unary import prepare_float_unary
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RSQRT's prepare computes for eval."""

    q_x_zp: int = None
    q_out_zp: int = None
    q_mult: int = None
    q_shift: int = None
    q_lut: np.ndarray = None
    q_lut16: np.ndarray = None


def prepare(node):
    return prepare_float_unary(node, eval_float, "rsqrt")


def eval_float(node, inputs, outputs):
    out = outputs[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        np.sqrt(inputs[0], out=out)
        np.divide(np.float32(1), out, out=out)


# --- quantized ---

_RSQRT_SHIFT = 20       # TFLite's headroom: 1/sqrt(v) is first brought to a 2**20 grid


def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = _check_unary(node, (_INT8, _INT16))
    d.q_x_zp, d.q_out_zp = x.zero_point, out.zero_point
    if x.dtype == _INT16:
        so = _f32(out.scale)
        # Non-positive samples (the table covers negative inputs too) map to the largest output.
        big = np.float32(32767) * so

        def rsqrt32(v):
            v = np.asarray(v, np.float32)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.float32(1) / np.sqrt(v)
            return np.where(v <= 0, big, r).astype(np.float32)

        d.q_lut16 = fx.lut_int16(rsqrt32, _f32(x.scale), 0, so, 0, float_type=np.float32)
        return _eval_rsqrt16
    # 1 / (sqrt(input scale) * output scale): sqrt and product in float32, the quotient in double.
    real = 1.0 / float(np.sqrt(_f32(x.scale)) * _f32(out.scale))
    d.q_mult, d.q_shift = fx.quantize_multiplier(real)
    values = np.arange(-128, 128, dtype=np.int64)
    d.q_lut = _rsqrt8(node, values)
    return _eval_rsqrt8


def _rsqrt8(node, q):
    """int8 RSQRT of every value q >= zero point (below it the table entry is never read)."""
    v = np.maximum(q - node.data.q_x_zp, 0)
    inv, inv_shift = fx.inv_sqrt_quantized_multiplier_exp(v, -1)
    data = fx.multiply_by_quantized_multiplier(np.ones_like(v), inv, inv_shift + _RSQRT_SHIFT)
    op = node.data
    res = fx.multiply_by_quantized_multiplier(data, op.q_mult, op.q_shift - _RSQRT_SHIFT) + op.q_out_zp
    # A zero input (anything that rounds to it) is the largest representable output.
    return np.where(v == 0, 127, np.clip(res, -128, 127)).astype(np.int8)


def _eval_rsqrt8(node, inputs, outputs):
    data = node.data
    q = inputs[0].astype(np.int64)
    _require_non_negative(node, q, data.q_x_zp, "RSQRT")
    np.take(data.q_lut, q + 128, out=outputs[0])


def _eval_rsqrt16(node, inputs, outputs):
    q = inputs[0]
    _require_non_negative(node, q, 0, "RSQRT")
    outputs[0][...] = fx.lut_lookup_int16(q, node.data.q_lut16)
