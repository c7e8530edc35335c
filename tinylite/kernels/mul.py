"""MUL: x * y with broadcasting and a fused activation."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._binary import BinaryData, prepare_arithmetic, quantized_operands
from ._quantization import _f32
from ._base import op_data


@op_data
class OpData(BinaryData):
    """What MUL's prepare computes for eval."""

    q_mult: int = None
    q_shift: int = None
    q_zps: tuple = None


# int16 here is TFLite's unquantized int16 MUL (wrapping); quantized int16 goes elsewhere.
DTYPES = (np.float32, np.float16, np.int32, np.int64, np.int16, np.uint32)


def prepare(node):
    return prepare_arithmetic(node, np.multiply, DTYPES)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, y, out = quantized_operands(node)
    if x.dtype == np.int16 and (x.zero_point or y.zero_point or out.zero_point):
        node.fail("int16 inputs and output need zero points of 0")
    # The scale product is taken in float32, as in TFLite's Prepare.
    real = float(_f32(_f32(x.scale) * _f32(y.scale)) / _f32(out.scale))
    d.q_mult, d.q_shift = fx.quantize_multiplier(real)
    d.q_zps = (x.zero_point, y.zero_point, out.zero_point)
    return _eval_mul


def _eval_mul(node, inputs, outputs):
    data = node.data
    zx, zy, zo = data.q_zps
    prod = (inputs[0].astype(np.int64) - zx) * (inputs[1].astype(np.int64) - zy)
    res = fx.multiply_by_quantized_multiplier(prod, data.q_mult, data.q_shift) + zo
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), data.q_lo, data.q_hi)
