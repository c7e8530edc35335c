"""Helpers of the elementwise binary kernels (ADD, SUB, MUL, DIV, MAXIMUM,
MINIMUM, ...): numpy broadcasting with the op's ufunc and TFLite's clamp of
a fused activation, MAXIMUM/MINIMUM's NaN rule, and the quantized
arithmetic LiteRT's ADD and SUB share (rescaling both inputs to a common
2**-20 / 2**-15 grid with per-input multipliers)."""
from __future__ import annotations

from typing import Callable

import functools
from functools import partial

import numpy as np

from . import _fixedpoint as fx
from ._base import (activation_calls, activation_name, binds, broadcast_shape, Clamp, fused_float_activation, op_data,
                    OpDataBase)
from ._quantization import (_all_values, _f32, _info, _INT8_TYPES, _require, _unsupported, activation_range,
                            prepare_quantized)


@op_data
class BinaryData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    q_lo: int = None
    q_hi: int = None
    q_sign: int = None
    q_in: list = None
    q_out_mult: int = None
    q_out_shift: int = None
    q_out_zp: int = None
    q_shifts: tuple = None
    ufunc: Callable = None
    act: Callable | None = None
    q_tables: list | None = None
    q_offset: int = None
    q_vector: np.ndarray | None = None     # SUB above 1: where LiteRT's 4-wide loop computes the output


FLOAT_AND_INT = (np.float32, np.int32, np.int64)


def prepare_binary(node, ufunc, dtypes=FLOAT_AND_INT):
    od = node.draft(BinaryData)
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    if x.dtype.kind == "f" or x.dtype.kind in "iub" and np.dtype(x.dtype) in [np.dtype(d) for d in dtypes]:
        if x.dtype.kind in "iu" and x.quantization is not None and x.quantization.is_quantized:
            return prepare_quantized(node)
        node.expect_dtype(x, *dtypes)
        od.ufunc = ufunc
        # The clamping activations mean the same on integers; TANH/SIGN_BIT are no-ops in TFLite.
        od.act = fused_float_activation(node)
        return eval_binary
    return prepare_quantized(node)


def eval_binary(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    data.ufunc(inputs[0], inputs[1], out=out)
    if data.act is not None:
        data.act(out)


@binds(eval_binary)
def _bind_binary(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    return [partial(data.ufunc, inputs[0], inputs[1], out=out)] + activation_calls(data.act, out)


def quantized_operands(node):
    """(x, y, out) of a quantized binary op, checked; sets the clamp of its fused activation."""
    d = node.draft(BinaryData)
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, y, out)
    if not (x.dtype == y.dtype == out.dtype):
        _unsupported(node, f"inputs {x.dtype.name}/{y.dtype.name} with a {out.dtype.name} output")
    d.q_lo, d.q_hi = activation_range(node, out)
    return x, y, out


def prepare_add_sub(node):
    """The quantized ADD and SUB (LiteRT's add.cc / sub.cc share this arithmetic)."""
    d = node.draft(BinaryData)
    x, y, out = quantized_operands(node)
    d.q_sign = 1 if node.op_name == "ADD" else -1
    if x.dtype == np.int16:
        if x.zero_point or y.zero_point or out.zero_point:
            node.fail("int16 inputs and output need zero points of 0")
        logs = [fx.checked_log2(s.scale) for s in (x, y, out)]
        if node.options.get("pot_scale_int16", True) and all(p for _, p in logs):
            return _prepare_pot16(node, x, y, [l for l, _ in logs])
    left_shift = 15 if x.dtype == np.int16 else 20
    # LiteRT's SUB takes an output multiplier above 1 (its 8-bit kernel then shifts by a negative
    # amount: see fx.rounding_divide_by_negative_pot_x86); its ADD does not.
    above_one = node.op_name == "SUB" and x.dtype in _INT8_TYPES
    multipliers = _add_sub_multipliers(x.scale, y.scale, out.scale, left_shift, above_one)
    if multipliers is None:
        _unsupported(node, "an output scale this much finer than the input scales")
    d.q_in = [(s.zero_point, left_shift) + m for s, m in zip((x, y), multipliers[:2])]
    d.q_out_mult, d.q_out_shift = multipliers[2]
    if d.q_out_shift > 0 and tuple(x.shape) == tuple(y.shape):
        # Inputs of one shape run LiteRT's elementwise loop, vectorized in blocks of 4 from the start
        # (see fx.rounding_divide_by_negative_pot_x86); broadcasts run scalar code.
        size = int(np.prod(out.shape, dtype=np.int64))
        d.q_vector = (np.arange(size) < size // 4 * 4).reshape(out.shape)
    d.q_out_zp = out.zero_point
    if x.dtype in _INT8_TYPES:
        # 256 possible values per input: rescale each once.
        d.q_tables = [_rescale_table(x.dtype.str, tuple(int(v) for v in p)) for p in d.q_in]
        d.q_offset = -int(_info(x.dtype).min)
    else:
        d.q_tables = None
    return _eval_add_sub


@functools.lru_cache(maxsize=1024)
def _add_sub_multipliers(x_scale, y_scale, out_scale, left_shift, above_one=False):
    """((mult, shift) of x, of y, of the output) of LiteRT's quantized ADD/SUB, or None where the output
    multiplier would exceed 1 (unless `above_one`; at most 2**31).  Both inputs move to a grid
    2**left_shift finer than twice the larger input scale.  (Memoized: numpy float32 scalar
    operations for every node at every load.)"""
    twice_max = float(_f32(2 * max(_f32(x_scale), _f32(y_scale))))
    real_out = twice_max / float(_f32((1 << left_shift) * _f32(out_scale)))
    if real_out > 1 and not (above_one and real_out < 2.0**31):
        return None
    return (fx.quantize_multiplier(float(x_scale) / twice_max), fx.quantize_multiplier(float(y_scale) / twice_max),
            fx.quantize_multiplier(real_out))


@functools.lru_cache(maxsize=256)
def _rescale_table(dtype: str, params: tuple) -> np.ndarray:
    """_rescale of every value of an 8-bit type (read-only: nodes with the same input
    quantization share it; its ~20 small numpy calls cost ~25 us a table at load)."""
    table = _rescale(_all_values(np.dtype(dtype)), params)
    table.setflags(write=False)
    return table


def _rescale(q, params):
    zp, left_shift, mult, shift = params
    return fx.multiply_by_quantized_multiplier_smaller_than_one((q.astype(np.int64) - zp) << left_shift, mult, shift)


def _eval_add_sub(node, inputs, outputs):
    data = node.data
    if data.q_tables is not None:
        a = data.q_tables[0][inputs[0].astype(np.int64) + data.q_offset]
        b = data.q_tables[1][inputs[1].astype(np.int64) + data.q_offset]
    else:
        a = _rescale(inputs[0], data.q_in[0])
        b = _rescale(inputs[1], data.q_in[1])
    raw = a + b if data.q_sign > 0 else a - b
    out = outputs[0]
    if data.q_out_shift > 0:
        # LiteRT's SUB with an output multiplier above 1 (see fx.rounding_divide_by_negative_pot_x86).
        high = fx.saturating_rounding_doubling_high_mul(fx.wrap32(np.broadcast_to(raw, out.shape)), data.q_out_mult)
        res = fx.rounding_divide_by_negative_pot_x86(high, data.q_out_shift, data.q_vector) + data.q_out_zp
    else:
        res = fx.multiply_by_quantized_multiplier_smaller_than_one(raw, data.q_out_mult, data.q_out_shift) + data.q_out_zp
    out[...] = np.clip(np.broadcast_to(res, out.shape), data.q_lo, data.q_hi)


def _prepare_pot16(node, x, y, logs):
    """TFLite's int16 path for power-of-two scales: one input is shifted right onto the other's grid."""
    d = node.draft(BinaryData)
    s1, s2 = logs[0] - logs[2], logs[1] - logs[2]
    if not (s1 == 0 or s2 == 0) or s1 > 0 or s2 > 0:
        node.fail("power-of-two int16 scales: one input must share the output scale, the other be finer")
    if d.q_sign > 0 and tuple(x.shape) != tuple(y.shape):
        # TFLite's POT ADD walks both inputs elementwise; it has no broadcasting form.
        _unsupported(node, "broadcasting with power-of-two int16 scales")
    d.q_shifts = (-s1, -s2)
    return _eval_pot16


def _eval_pot16(node, inputs, outputs):
    data = node.data
    a = fx.rounding_divide_by_pot(inputs[0].astype(np.int64), data.q_shifts[0])
    b = fx.rounding_divide_by_pot(inputs[1].astype(np.int64), data.q_shifts[1])
    res = a + b if data.q_sign > 0 else a - b
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), data.q_lo, data.q_hi)


def _arithmetic_range(node, dtype):
    """(min, max) as TFLite's CalculateActivationRange gives them, cast to dtype
    as C++ does (-1 wraps for unsigned types); None when nothing is clamped.

    Without a clamping activation the range is the type's own, which for floats
    still turns +-inf into +-max (LiteRT's ADD/SUB/MUL/DIV never return inf).
    """
    dtype = np.dtype(dtype)
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    lo, hi = {"RELU": (0, info.max), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}.get(
        activation_name(node), (info.min, info.max))
    if dtype.kind != "f" and (lo, hi) == (info.min, info.max):
        return None
    return np.array(lo).astype(dtype)[()], np.array(hi).astype(dtype)[()]


def prepare_arithmetic(node, ufunc, dtypes):
    """prepare_binary, with the fused activation clamping exactly as TFLite's does."""
    d = node.draft(BinaryData)
    fn = prepare_binary(node, ufunc, dtypes)
    if fn is eval_binary:
        bounds = _arithmetic_range(node, node.inputs[0].dtype)
        if bounds is None:
            d.act = None
        elif node.inputs[0].dtype.kind == "f":
            d.act = Clamp(*bounds)   # SIMD max/min against bound arrays: 3x np.clip's speed
        else:
            d.act = _clamp(*bounds)
    return fn


def _clamp(lo, hi):
    # np.clip is min(max(x, lo), hi) like TFLite's, also when lo > hi (uint32
    # RELU_N1_TO_1, whose -1 wraps): every value becomes hi.
    return lambda x: np.clip(x, lo, hi, out=x)


EXTREMUM_TYPES = (np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64)


def prepare_extremum(node, ufunc):
    """np.maximum / np.minimum with TFLite's NaN rule: its `x > y ? x : y`
    yields y where x is NaN (numpy would give NaN) and NaN where y is.

    Integer types compare raw values, quantized or not, as TFLite does.
    """
    d = node.draft(BinaryData)
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    node.expect_dtype(x, *EXTREMUM_TYPES)
    d.ufunc = ufunc
    return eval_extremum


def eval_extremum(node, inputs, outputs):
    x, y = inputs
    out = outputs[0]
    node.data.ufunc(x, y, out=out)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():
            np.copyto(out, y, where=nan)
