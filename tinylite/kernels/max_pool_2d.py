"""MAX_POOL_2D: window maximum; SAME padding never wins the max.

The reference takes the maximum over the window's taps; the optimized
kernel (rows then columns, buffers kept) is kernels/optimized/max_pool_2d.py.
"""
import numpy as np

from ._base import activation_name, float_activation
from ._pool import pool_geometry, window_slices
from ._quantization import _require, _store, activation_range


def prepare(node):
    x = node.inputs[0]
    node.geometry = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32)
    node.act = float_activation(activation_name(node))
    return eval_float


def eval_float(node, inputs, outputs):
    out = outputs[0]
    first = True
    for view in window_slices(inputs[0], node.geometry, -np.inf):
        if first:
            np.copyto(out, view)
            first = False
        else:
            np.maximum(out, view, out=out)
    if node.act is not None:
        node.act(out)


# --- quantized ---

def prepare_quantized(node):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    node.geometry = pool_geometry(node)
    node.q_lo, node.q_hi = activation_range(node, out)
    return _eval_max_pool


def _eval_max_pool(node, inputs, outputs):
    out = outputs[0]
    res = None
    for view in window_slices(inputs[0], node.geometry, np.iinfo(out.dtype).min):
        res = view.copy() if res is None else np.maximum(res, view, out=res)
    _store(out, res, node.q_lo, node.q_hi)
