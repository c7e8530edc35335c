"""MAX_POOL_2D: window maximum; SAME padding never wins the max."""
import numpy as np

from ._base import fused_float_activation
from ._pool import pool_geometry, tap_views, window_slices


def prepare(node):
    x = node.inputs[0]
    node.geometry = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        from . import _quantized

        return _quantized.prepare_max_pool_2d(node)
    node.expect_dtype(x, np.float32)
    node.act = fused_float_activation(node)
    return eval_float


def eval_float(node, inputs, outputs):
    """Fast path: tap views cached across invokes (see _pool.TapViews)."""
    out = outputs[0]
    views = tap_views(node, inputs[0], -np.inf)
    np.copyto(out, views[0])
    for view in views[1:]:
        np.maximum(out, view, out=out)
    if node.act is not None:
        node.act(out)


def eval_reference(node, inputs, outputs):
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
