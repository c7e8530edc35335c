"""MAX_POOL_2D: window maximum; SAME padding never wins the max.

The reference takes the maximum over the window's taps; the optimized
kernel (rows then columns, buffers kept) is kernels/optimized/max_pool_2d.py.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import activation_name, float_activation, op_data, OpDataBase
from ._pool import pool_geometry, window_slices
from ._quantization import _require, _store, activation_range


@op_data
class OpData(OpDataBase):
    """What MAX_POOL_2D's prepare computes for eval."""

    geometry: dict = None
    act: Callable | None = None
    q_lo: int = None
    q_hi: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    d.geometry = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32)
    d.act = float_activation(activation_name(node))
    return eval_float


def eval_float(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    first = True
    for view in window_slices(inputs[0], data.geometry, -np.inf):
        if first:
            np.copyto(out, view)
            first = False
        else:
            np.maximum(out, view, out=out)
    if data.act is not None:
        data.act(out)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    d.geometry = pool_geometry(node)
    d.q_lo, d.q_hi = activation_range(node, out)
    return _eval_max_pool


def _eval_max_pool(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    res = None
    for view in window_slices(inputs[0], data.geometry, np.iinfo(out.dtype).min):
        res = view.copy() if res is None else np.maximum(res, view, out=res)
    _store(out, res, data.q_lo, data.q_hi)
