"""MAX_POOL_2D: window maximum; SAME padding never wins the max."""
import numpy as np

from ._base import activation_calls, activation_name, binds, float_activation
from ._pool import SeparableMax, pool_geometry, separable_max, window_slices


def prepare(node):
    x = node.inputs[0]
    node.geometry = pool_geometry(node)
    if x.dtype in (np.int8, np.uint8, np.int16):
        from . import _quantized

        return _quantized.prepare_max_pool_2d(node)
    node.expect_dtype(x, np.float32)
    node.act = float_activation(activation_name(node))
    return eval_float


def eval_float(node, inputs, outputs):
    """Fast path: rows then columns, buffers cached across invokes (see _pool.SeparableMax)."""
    out = outputs[0]
    if out.size:
        separable_max(node, inputs[0], out)
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


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    calls = []
    if out.size:
        node.sepmax = SeparableMax(x, node.geometry)
        calls = node.sepmax.calls(x, out)
    return calls + activation_calls(node.act, out)
