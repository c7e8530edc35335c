"""QUANTIZE: float32 -> int8/uint8/int16 (round(x / scale) + zero point, per
tensor or per channel), or requantize an integer tensor to new parameters.

LiteRT's optimized kernels run blocks of 8 (quantize) or 16 (requantize)
elements through SIMD code that rounds differently from the scalar loop
finishing the tail: quantize multiplies by a float32 reciprocal and rounds
ties to even there, requantize (8-bit to 8-bit only) rounds ties up (ruy/NEON style).  tinylite
reproduces that split, so it matches LiteRT's default kernels bit for bit.
Under the reference op resolver every element takes the scalar formula, as
LiteRT's reference kernels do (``node.data.simd_block`` = 0).
"""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What QUANTIZE's prepare computes for eval."""

    simd_block: int = None
    mult: int = None
    shift: int = None
    in_zp: int = None
    out_zp: int = None
    scale: np.ndarray = None
    zero_point: np.ndarray = None
    inv_scale: np.float32 = None

_OUT_TYPES = (np.int8, np.uint8, np.int16)


def prepare(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    node.outputs[0].shape = x.shape
    # LiteRT's optimized Requantize has SIMD code for 8-bit -> 8-bit only; int16 on either side
    # takes the scalar formula for every element (checked against both of its resolvers).
    eight_bit = x.dtype in (np.int8, np.uint8) and out.dtype in (np.int8, np.uint8)
    d.simd_block = 0 if node.reference else (8 if x.dtype == np.float32 else 16 if eight_bit else 0)
    q = out.quantization
    if q is None or not q.is_quantized:
        node.fail(f"output {out.name!r} has no quantization parameters")
    if x.dtype == np.float32:
        node.expect_dtype(out, *_OUT_TYPES)
        shape = [1] * len(x.shape)
        if q.per_channel:
            shape[q.quantized_dimension] = len(q.scale)
        d.scale = np.asarray(q.scale, np.float64).reshape(shape)
        zp = np.asarray(q.zero_point if q.zero_point is not None else [0], np.int64)
        d.zero_point = np.broadcast_to(zp if len(zp) == len(q.scale) else zp[:1], (len(q.scale),)).reshape(shape)
        if q.per_channel:
            return eval_quantize_per_channel
        d.inv_scale = np.float32(1.0 / float(q.scale[0]))
        return eval_quantize
    node.expect_dtype(x, np.int8, np.uint8, np.int16, np.int32)
    node.expect_dtype(out, *(_OUT_TYPES + ((np.int32,) if x.dtype == np.int16 else ())))
    if x.quantization is None or not x.quantization.is_quantized:
        node.fail(f"input {x.name!r} of type {x.dtype.name} has no quantization parameters")
    d.mult, d.shift = fx.quantize_multiplier(float(x.scale) / float(out.scale))
    d.in_zp, d.out_zp = x.zero_point, out.zero_point
    return eval_requantize


def eval_quantize_per_channel(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    info = np.iinfo(out.dtype)
    q = fx.round_half_away(inputs[0] / data.scale.astype(np.float32)) + data.zero_point
    out[...] = np.clip(q, info.min, info.max)


def eval_quantize(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    info = np.iinfo(out.dtype)
    x = inputs[0].reshape(-1)
    simd = len(x) // 8 * 8 if data.simd_block else 0
    q = np.empty(len(x), np.float64)
    q[:simd] = np.rint(x[:simd] * data.inv_scale)     # SIMD blocks: float32 product, ties to even
    if data.simd_block:
        # The optimized kernels' scalar tail divides by the scale as a double.
        q[simd:] = fx.round_half_away(x[simd:].astype(np.float64) / data.scale.reshape(-1)[0])
    else:
        # The reference kernel divides in float32: near a half its rounded quotient can land on the tie.
        q[:] = fx.round_half_away((x / np.float32(data.scale.reshape(-1)[0])).astype(np.float64))
    q += data.zero_point.reshape(-1)[0]
    out.reshape(-1)[...] = np.clip(q, info.min, info.max)


def eval_requantize(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    info = np.iinfo(out.dtype)
    v = inputs[0].reshape(-1).astype(np.int64) - data.in_zp
    simd = len(v) // 16 * 16 if data.simd_block else 0
    res = np.concatenate([fx.multiply_by_quantized_multiplier_ruy(v[:simd], data.mult, data.shift),
                          fx.multiply_by_quantized_multiplier(v[simd:], data.mult, data.shift)]) + data.out_zp
    out.reshape(-1)[...] = np.clip(res, info.min, info.max)
