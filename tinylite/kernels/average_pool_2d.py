"""AVERAGE_POOL_2D: window mean over the elements inside the input (SAME
padding is not counted, as in TFLite).  The optimized kernel (tap views kept
across invokes) is kernels/optimized/average_pool_2d.py."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import activation_name, float_activation, op_data, OpDataBase
from ._pool import pool_geometry, valid_counts, window_slices
from ._quantization import _require, _store, activation_range


@op_data
class OpData(OpDataBase):
    """What AVERAGE_POOL_2D's prepare computes for eval."""

    geometry: dict = None
    count: np.ndarray = None
    act: Callable | None = None
    q_count: np.ndarray = None
    q_lo: int = None
    q_hi: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    d.geometry = g = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32)
    # TFLite divides the window sum by the count (not multiplying by a reciprocal).
    d.count = valid_counts(x.shape[1], x.shape[2], g).astype(np.float32)[None, :, :, None]
    d.act = float_activation(activation_name(node))
    return eval_float


def eval_float(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    out[...] = 0
    for view in window_slices(inputs[0], data.geometry, 0.0):
        out += view
    out /= data.count
    if data.act is not None:
        data.act(out)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    d.geometry = g = pool_geometry(node)
    d.q_count = valid_counts(x.shape[1], x.shape[2], g).astype(np.int64)[None, :, :, None]
    d.q_lo, d.q_hi = activation_range(node, out)
    return _eval_average_pool


def _eval_average_pool(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    acc = np.zeros(out.shape, np.int64)
    for view in window_slices(inputs[0], data.geometry, 0):
        acc += view
    _store(out, rounded_average(acc, data.q_count), data.q_lo, data.q_hi)


def rounded_average(acc, n):
    """LiteRT's integer average of window sums `acc` over `n` values."""
    # C division truncates toward zero; the +-n/2 makes it round half away from zero.
    num = np.where(acc > 0, acc + n // 2, acc - n // 2)
    return np.sign(num) * (np.abs(num) // n)
