"""SUM over the axes given by the second input (`keep_dims` keeps them as 1);
integer sums wrap around on overflow, as in TFLite.

Quantized uint8/int8/int16 follow LiteRT's default kernel (QuantizedMeanOrSum
with compute_sum): the int32 sum of the stored values, then in float32
round(sum * s - zero_point * s * n) + output zero point, s = input scale /
output scale, saturated.

Under BUILTIN_REF, 8-bit types follow LiteRT's reference kernel as its reduce.cc
calls it: with the data read and written as uint8 whatever the type (so an int8
tensor's negative values count as 128..255, and the result saturates to
0..255 and is stored as that byte), the int32 sum less zero_point * n, times
the fixed-point multiplier of input scale / output scale, plus the output zero
point.  (int16 under BUILTIN_REF keeps the default formula: LiteRT's reference
SUM reads an int16 tensor's bytes as separate uint8 values and leaves half of
its output unwritten, which no file can rely on.)"""
from __future__ import annotations

import numpy as np

from ._window import is_quantized_type, prepare_reduction, WindowData
from ._base import op_data
from . import _fixedpoint as fx


@op_data
class OpData(WindowData):
    """What SUM's prepare computes for eval."""

    q_scale: np.float32 = None
    q_bias: np.float32 = None
    q_out_zp: int = None
    q_in_zp: int = None
    q_mult: int = None              # BUILTIN_REF's fixed-point rescale (8-bit types)
    q_shift: int = None


def prepare(node):
    x = node.inputs[0]
    if is_quantized_type(x):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32, np.int64)
    prepare_reduction(node)
    return eval_sum


def eval_sum(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    np.sum(inputs[0], axis=data.axes, dtype=out.dtype, keepdims=True, out=out.reshape(data.kept_shape))


def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    if x.quantization is None or not x.quantization.is_quantized or out.dtype != x.dtype:
        node.fail(f"quantized SUM needs input and output of one quantized type, got {x.dtype.name} and "
                  f"{out.dtype.name}")
    prepare_reduction(node)
    f32 = np.float32
    d.q_scale = f32(f32(x.scale) / f32(out.scale))
    d.q_bias = f32(f32(f32(-x.zero_point) * d.q_scale) * f32(d.count))
    d.q_out_zp = out.zero_point
    if node.reference and x.dtype in (np.int8, np.uint8):
        d.q_in_zp = x.zero_point
        d.q_mult, d.q_shift = fx.quantize_multiplier(float(np.float32(x.scale)) / float(np.float32(out.scale)))
        return eval_quantized_reference
    return eval_quantized


def eval_quantized_reference(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    x = inputs[0]
    if x.size == 0:
        return
    total = np.sum(x.view(np.uint8), axis=data.axes, dtype=np.int64, keepdims=True)
    shifted = fx.wrap32(fx.wrap32(total) - data.q_in_zp * data.count)
    r = fx.multiply_by_quantized_multiplier(shifted, data.q_mult, data.q_shift) + data.q_out_zp
    out.reshape(data.kept_shape).view(np.uint8)[...] = np.clip(r, 0, 255)


def eval_quantized(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    x = inputs[0]
    if x.size == 0:
        return
    total = np.sum(x, axis=data.axes, dtype=np.int64, keepdims=True)
    total = fx.wrap32(total).astype(np.float32)        # int32 accumulator
    v = (total * data.q_scale + data.q_bias).astype(np.float32)
    r = np.copysign(np.floor(np.abs(v.astype(np.float64)) + 0.5), v)         # TfLiteRound
    info = np.iinfo(out.dtype)
    out.reshape(data.kept_shape)[...] = np.clip(r + data.q_out_zp, info.min, info.max)
