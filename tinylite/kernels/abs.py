"""ABS, elementwise: float32, int32 and unquantized int16 (abs of the most
negative integer wraps to itself); quantized int8/int16 as LiteRT: |x - input
zero point|, rescaled by input/output scale (gemmlowp's
MultiplyByQuantizedMultiplier) when the scales differ, plus the output zero
point, saturated."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._unary import is_quantized, same_shape
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What ABS's prepare computes for eval."""

    rescale: bool = None
    q_mult: int = None
    q_shift: int = None
    zps: tuple = None


def prepare(node):
    x = same_shape(node)
    if x.dtype == np.int8 or x.dtype == np.int16 and is_quantized(x):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32, np.int16)
    return eval_abs


def eval_abs(node, inputs, outputs):
    np.abs(inputs[0], out=outputs[0])


def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    if not is_quantized(x) or not is_quantized(out):
        node.fail(f"quantized {x.dtype.name} ABS needs input and output quantization parameters")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    xs, os_ = np.float32(x.scale), np.float32(out.scale)
    d.rescale = bool(xs != os_)
    d.q_mult, d.q_shift = fx.quantize_multiplier(float(np.float32(xs / os_)))
    d.zps = (x.zero_point, out.zero_point)
    return eval_quantized


def eval_quantized(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    in_zp, out_zp = data.zps
    v = np.abs(x.astype(np.int64) - in_zp)
    if data.rescale:
        v = fx.multiply_by_quantized_multiplier(v, data.q_mult, data.q_shift)
    info = np.iinfo(out.dtype)
    out[...] = np.clip(v + out_zp, info.min, info.max)
