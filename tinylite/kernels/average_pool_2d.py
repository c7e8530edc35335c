"""AVERAGE_POOL_2D: window mean over the elements inside the input (SAME
padding is not counted, as in TFLite).  The optimized kernel (tap views kept
across invokes) is kernels/optimized/average_pool_2d.py."""
import numpy as np

from ._base import activation_name
from ._pool import pool_geometry, valid_counts, window_slices
from ._base import float_activation


def prepare(node):
    x = node.inputs[0]
    node.geometry = g = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        from . import _quantized

        return _quantized.prepare_average_pool_2d(node)
    node.expect_dtype(x, np.float32)
    # TFLite divides the window sum by the count (not multiplying by a reciprocal).
    node.count = valid_counts(x.shape[1], x.shape[2], g).astype(np.float32)[None, :, :, None]
    node.act = float_activation(activation_name(node))
    return eval_float


def eval_float(node, inputs, outputs):
    out = outputs[0]
    out[...] = 0
    for view in window_slices(inputs[0], node.geometry, 0.0):
        out += view
    out /= node.count
    if node.act is not None:
        node.act(out)
