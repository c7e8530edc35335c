"""MEAN over the axes given by the second input (`keep_dims` keeps them as 1).

As in TFLite: float means sum in float32 then divide; int32/int64 means sum
in int64 and divide truncating toward zero; an empty input gives NaN (0 for
integers).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import _fixedpoint as fx
from ._base import binds, op_data
from ._quantization import _f32, _require, _unsupported
from ._window import is_quantized_type, prepare_reduction, WindowData


@op_data
class OpData(WindowData):
    """What MEAN's prepare computes for eval."""

    q_range: tuple = None
    q_x_zp: int = None
    q_out_zp: int = None
    q_mult: int = None
    q_shift: int = None
    q_bias: int = None
    q_simd: np.ndarray = None


def prepare(node):
    x = node.inputs[0]
    if is_quantized_type(x):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32, np.int64)
    prepare_reduction(node)
    return eval_float if x.dtype == np.float32 else eval_int


def eval_float(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    if x.size == 0:
        out[...] = np.nan
        return
    acc = out.reshape(data.kept_shape)
    np.sum(x, axis=data.axes, dtype=np.float32, keepdims=True, out=acc)
    acc /= np.float32(data.count)


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    # np.sum is add.reduce behind a Python wrapper that costs more than a
    # layer norm's small mean itself; the same reduction, called straight.
    data = node.data
    x, out = inputs[0], outputs[0]
    if x.size == 0 or not out.flags.c_contiguous:
        return None
    acc = out.reshape(data.kept_shape)
    return [partial(np.add.reduce, x, data.axes, np.float32, acc, True),
            partial(np.divide, acc, np.float32(data.count), out=acc)]


def eval_int(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    if x.size == 0:
        out[...] = 0
        return
    total = np.sum(x, axis=data.axes, dtype=np.int64, keepdims=True)
    quotient = np.abs(total) // data.count * np.sign(total)
    out.reshape(data.kept_shape)[...] = quotient.astype(out.dtype)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype != out.dtype:
        _unsupported(node, f"{x.dtype.name} input with a {out.dtype.name} output")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    prepare_reduction(node)
    info = np.iinfo(out.dtype)
    d.q_range = (int(info.min), int(info.max))
    d.q_x_zp, d.q_out_zp = x.zero_point, out.zero_point
    # The optimized kernel's spatial case (LiteRT's reference kernel has none).
    spatial = (not node.reference and x.dtype != np.int16 and node.options.get("keep_dims") and len(x.shape) == 4
               and sorted(d.axes) == [1, 2] and x.size > 0)
    if spatial:
        sx, so = _f32(x.scale), _f32(out.scale)
        count = _f32(x.shape[1] * x.shape[2])
        real = float(sx / (count * so))
        d.q_mult, d.q_shift = fx.quantize_multiplier(real)
        temp = _f32(_f32(x.zero_point) * sx / so)
        temp = temp + _f32(0.5) if temp > 0 else temp - _f32(0.5)
        d.q_bias = out.zero_point - int(temp)       # C's cast truncates toward zero
        depth = x.shape[3]
        d.q_simd = np.arange(depth) < depth - depth % 16
        return _eval_mean_spatial
    mult, shift = fx.quantize_multiplier(float(x.scale) / float(out.scale))
    n = d.count
    if n > 0:
        # The reference kernel divides the multiplier by the element count, in integers.
        s = min(n.bit_length() - 1, 32, 31 + shift)
        mult = int(np.int64(mult) << s) // n if s >= 0 else int(np.int64(mult) >> -s) // n
        shift -= s
    d.q_mult, d.q_shift = mult, shift
    return _eval_mean


def _eval_mean_spatial(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    acc = x.astype(np.int64).sum(axis=(1, 2))                    # [n, depth]
    out[...] = spatial_mean_of_sums(data, acc, data.q_simd).reshape(out.shape)


def spatial_mean_of_sums(data, acc, simd):
    """The spatial kernel's outputs for window sums `acc`: the channels where `simd`
    holds take the NEON rounding, the others gemmlowp's."""
    res = fx.multiply_by_quantized_multiplier(acc, data.q_mult, data.q_shift)
    if np.any(simd):
        res = np.where(simd, fx.multiply_by_quantized_multiplier_neon(acc, data.q_mult, data.q_shift), res)
    return np.clip(res + data.q_bias, *data.q_range)


def _eval_mean(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    if x.size == 0 or data.count == 0:
        out[...] = 0
        return
    total = np.sum(x, axis=data.axes, dtype=np.int64, keepdims=True)
    out.reshape(data.kept_shape)[...] = mean_of_sums(data, total)


def mean_of_sums(data, total):
    """The general kernel's outputs for sums `total` of `data.count` values."""
    shifted = fx.wrap32(total - data.q_x_zp * data.count)
    res = fx.multiply_by_quantized_multiplier(shifted, data.q_mult, data.q_shift) + data.q_out_zp
    return np.clip(res, *data.q_range)
