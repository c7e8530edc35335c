"""DEQUANTIZE: float16 -> float32 (float16 weights), or int8/uint8/int16 ->
float32 with the input's scale and zero point (per-channel too)."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What DEQUANTIZE's prepare computes for eval."""

    scale: np.ndarray = None
    zero_point: np.ndarray = None
    scale32: np.float32 = None
    offset32: np.float32 = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    node.expect_dtype(node.outputs[0], np.float32)
    if x.dtype == np.float16:
        return eval_float16
    node.expect_dtype(x, np.int8, np.uint8, np.int16, np.int32)
    q = x.quantization
    if q is None or not q.is_quantized:
        node.fail(f"input {x.name!r} of type {x.dtype.name} has no quantization parameters")
    shape = [1] * len(x.shape)
    if q.per_channel:
        shape[q.quantized_dimension] = len(q.scale)
    d.scale = np.asarray(q.scale, np.float64).reshape(shape)
    d.zero_point = np.asarray(q.zero_point if q.zero_point is not None else 0, np.int64).reshape(
        shape if q.per_channel else [1] * len(x.shape))
    # LiteRT's reference kernel computes every element as the optimized one's scalar tail.
    if q.per_channel or x.dtype == np.int32 or node.reference:
        return eval_affine
    d.scale32 = np.float32(q.scale[0])
    d.offset32 = np.float32(-int(d.zero_point.reshape(-1)[0]) * float(q.scale[0]))
    return eval_affine_simd


def eval_float16(node, inputs, outputs):
    outputs[0][...] = inputs[0]


def eval_affine_simd(node, inputs, outputs):
    # LiteRT's optimized kernel computes blocks of 8 as float32(x) * scale + (-zero_point * scale)
    # in float32 (SIMD), and the remaining tail as float(scale * (x - zero_point)) in double.
    data = node.data
    x = inputs[0].reshape(-1)
    out = outputs[0].reshape(-1)
    simd = len(x) // 8 * 8
    out[:simd] = x[:simd].astype(np.float32) * data.scale32 + data.offset32
    out[simd:] = (x[simd:].astype(np.int64) - data.zero_point.reshape(-1)[0]) * data.scale.reshape(-1)[0]


def eval_affine(node, inputs, outputs):
    data = node.data
    outputs[0][...] = (inputs[0].astype(np.int64) - data.zero_point) * data.scale
