"""L2_POOL_2D: sqrt(mean of x^2) over each window, counting only the taps
inside the input (SAME padding is not counted), then the fused activation.
Float32 only (LiteRT has no quantized kernel)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import activation_name, float_activation, op_data, OpDataBase
from ._pool import pool_geometry, valid_counts, window_slices


@op_data
class OpData(OpDataBase):
    """What L2_POOL_2D's prepare computes for eval."""

    geometry: dict = None
    count: np.ndarray = None
    act: Callable | None = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    d.geometry = g = pool_geometry(node)
    node.expect_dtype(x, np.float32)
    d.count = valid_counts(x.shape[1], x.shape[2], g).astype(np.float32)[None, :, :, None]
    d.act = float_activation(activation_name(node))
    return eval_l2_pool


def eval_l2_pool(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    if out.size == 0:
        return
    acc = np.zeros(out.shape, np.float32)
    for view in window_slices(inputs[0], data.geometry, 0.0):
        acc += view * view
    np.sqrt(acc / data.count, out=out)
    if data.act is not None:
        data.act(out)
