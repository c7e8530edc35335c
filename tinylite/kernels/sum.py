"""SUM over the axes given by the second input (`keep_dims` keeps them as 1);
integer sums wrap around on overflow, as in TFLite.

Quantized uint8/int8/int16 follow LiteRT's default kernel (QuantizedMeanOrSum
with compute_sum): the int32 sum of the stored values, then in float32
round(sum * s - zero_point * s * n) + output zero point, s = input scale /
output scale, saturated."""
from __future__ import annotations

import numpy as np

from ._window import is_quantized_type, prepare_reduction, WindowData
from ._base import op_data


@op_data
class OpData(WindowData):
    """What SUM's prepare computes for eval."""

    q_scale: np.float32 = None
    q_bias: np.float32 = None
    q_out_zp: int = None


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
    return eval_quantized


def eval_quantized(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    x = inputs[0]
    if x.size == 0:
        return
    total = np.sum(x, axis=data.axes, dtype=np.int64, keepdims=True)
    total = ((total + 2 ** 31) % 2 ** 32 - 2 ** 31).astype(np.float32)        # int32 accumulator
    v = (total * data.q_scale + data.q_bias).astype(np.float32)
    r = np.copysign(np.floor(np.abs(v.astype(np.float64)) + 0.5), v)         # TfLiteRound
    info = np.iinfo(out.dtype)
    out.reshape(data.kept_shape)[...] = np.clip(r + data.q_out_zp, info.min, info.max)
