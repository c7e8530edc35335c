"""Constant tensors in reduced precision, as TensorFlow's quantizer writes them.

- Weights: symmetric int8 in [-127, 127] (never -128: LiteRT's SIMD hybrid
  kernels assume it), one scale per output channel (`axis`) or per tensor,
  scale = max|w| / 127, zero point 0.
- Biases: int32 (int64 for 16x8) with scale input_scale * weight_scale per
  channel and zero point 0, so the kernel adds them to the accumulators as is.
- Activation-like constants (a constant operand of ADD, MUL, ...): the same
  affine parameters an activation with that range would get.
- float16: IEEE half, round to nearest even (numpy's cast).
"""
from __future__ import annotations

import numpy as np

from ...graph import QuantizationParameters


def round_away(x):
    """C's std::round (ties away from zero), which TensorFlow's quantizer uses."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def symmetric_int8(w: np.ndarray, axis: int | None):
    """(int8 values, float32 scales) of float weights; `axis` None = per tensor."""
    w = np.asarray(w, np.float32)
    if axis is None:
        amax = np.array([np.max(np.abs(w))]) if w.size else np.zeros(1)
        shape = [1] * w.ndim
    else:
        axis = axis % w.ndim
        other = tuple(d for d in range(w.ndim) if d != axis)
        amax = np.max(np.abs(w), axis=other) if w.size else np.zeros(w.shape[axis])
        shape = [1] * w.ndim
        shape[axis] = -1
    scale = (amax.astype(np.float64) / 127.0).astype(np.float32)
    # An all-zero channel still needs a usable (positive) scale; its values are 0 anyway.
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    # The division is in float32, as TensorFlow's quantizer does it (a product landing on
    # .5 in float32 rounds away from zero there, even if the float64 quotient is below).
    q = np.clip(round_away(w / scale.reshape(shape)), -127, 127)
    return q.astype(np.int8), scale


def weight_params(scale: np.ndarray, axis: int | None) -> QuantizationParameters:
    scale = np.asarray(scale, np.float32).reshape(-1)
    return QuantizationParameters(scale=scale, zero_point=np.zeros(len(scale), np.int64),
                                  quantized_dimension=int(axis or 0))


def quantize_bias(b: np.ndarray, input_scale: float, weight_scales: np.ndarray, dtype=np.int32):
    """(integer bias, its per-channel scales) for an accumulator of input_scale * weight_scale."""
    b = np.asarray(b, np.float32)
    scales = (np.float64(np.float32(input_scale)) * np.asarray(weight_scales, np.float64))
    scales = np.broadcast_to(scales, b.shape[-1:]).astype(np.float32)
    info = np.iinfo(dtype)
    safe = np.where(scales > 0, scales, 1.0).astype(np.float64)
    # int64's maximum is no float64: it rounds up to 2**63, whose cast overflows (to int64's minimum on
    # x86): a bias past the range (a collapsed input scale) must clamp below it.
    top = float(info.max) if float(info.max) <= info.max else np.nextafter(float(info.max), 0.0)
    q = np.clip(round_away(b.astype(np.float64) / safe), info.min, top)
    return q.astype(dtype), scales


def affine_params(lo: float, hi: float, dtype) -> tuple[float, int]:
    """(scale, zero point) of a calibrated range: int8/uint8 asymmetric over [min(lo, 0),
    max(hi, 0)] with the zero point rounded onto the grid so that 0.0 is exact; int16
    symmetric (zero point 0), as TensorFlow's quantizer does."""
    dtype = np.dtype(dtype)
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if dtype == np.int16:
        amax = max(-lo, hi)
        scale = amax / 32767.0 if amax > 0 else 1.0
        return float(np.float32(scale)), 0
    info = np.iinfo(dtype)
    qmin, qmax = float(info.min), float(info.max)
    if hi == lo:
        return 1.0, int(info.min) if dtype == np.uint8 else 0
    scale = (hi - lo) / (qmax - qmin)
    from_min, from_max = qmin - lo / scale, qmax - hi / scale
    err_min, err_max = abs(qmin) + abs(lo / scale), abs(qmax) + abs(hi / scale)
    zp = from_min if err_min < err_max else from_max
    zp = int(np.clip(round_away(zp), qmin, qmax))
    return float(np.float32(scale)), zp


def activation_params(scale: float, zero_point: int, lo=None, hi=None) -> QuantizationParameters:
    return QuantizationParameters(scale=np.array([scale], np.float32), zero_point=np.array([zero_point], np.int64))


def quantize_values(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    q = round_away(np.asarray(x, np.float64) / np.float64(np.float32(scale))) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def to_float16(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float32).astype(np.float16)
