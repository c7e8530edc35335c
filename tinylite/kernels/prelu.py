"""PRELU: x if x >= 0 else alpha * x, alpha broadcast against x (the output
keeps x's shape, as TFLite requires)."""
from functools import partial

import numpy as np

from ._base import binds, broadcast_shape

ZERO = np.float32(0)


def prepare(node):
    x, alpha = node.inputs[0], node.inputs[1]
    shape = broadcast_shape(x.shape, alpha.shape, node)
    if tuple(shape) != tuple(x.shape):
        node.fail(f"alpha of shape {list(alpha.shape)} would broadcast the input {list(x.shape)} to {list(shape)}")
    node.outputs[0].shape = shape
    if x.dtype == np.float32:
        node.expect_dtype(alpha, np.float32)
        a = alpha.data
        if a is not None and a.size and np.all(np.isfinite(a)):
            # With every alpha in (0, 1], prelu(x) = max(x, alpha*x); with every alpha >= 1,
            # min(x, alpha*x): exactly TFLite's values (alpha = 0 would turn +inf into NaN).
            if np.all((a > 0) & (a <= 1)):
                node.pick = np.maximum
            elif np.all(a >= 1):
                node.pick = np.minimum
            else:
                return eval_float
            reshape_alpha(node, x.shape)
            return eval_float_fast
        return eval_float
    from . import _quantized

    return _quantized.prepare_prelu(node)


def eval_float(node, inputs, outputs):
    """Reference path: min(x, 0) * alpha + max(x, 0), the same values (up to the
    sign of zero) as a masked select for finite alpha, and faster."""
    x, alpha = inputs
    out = outputs[0]
    np.minimum(x, ZERO, out=out)
    out *= alpha
    out += np.maximum(x, ZERO)


def reshape_alpha(node, shape):
    """Lay alpha out over one sample of `shape`, so the multiply runs along
    whole rows instead of broadcasting a short channel vector (and a slice
    of the batch takes it as it is)."""
    a = node.inputs[1].data
    if len(a.shape) == len(shape) and a.shape[0] == 1:
        a = a[0]
    per_sample = tuple(shape[1:]) if len(a.shape) < len(shape) else tuple(shape)
    node.alpha_full = np.ascontiguousarray(np.broadcast_to(a, per_sample), np.float32)
    node.tmp = None


def eval_float_fast(node, inputs, outputs):
    """Constant alpha all in (0, 1] (or all >= 1): two vectorized passes."""
    x, out = inputs[0], outputs[0]
    dst = _scratch(node, x, out)
    np.multiply(x, node.alpha_full, out=dst)
    node.pick(x, dst, out=out)


def _scratch(node, x, out):
    """Where alpha*x goes: the output, or a buffer of its own when the output
    is the input (in place, as pool_before_prelu runs it)."""
    if np.may_share_memory(x, out):
        if node.tmp is None or node.tmp.shape != x.shape:
            node.tmp = np.empty_like(x)
        return node.tmp
    node.tmp = None
    return out


@binds(eval_float_fast)
def _bind_fast(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    dst = _scratch(node, x, out)
    return [partial(np.multiply, x, node.alpha_full, out=dst), partial(node.pick, x, dst, out=out)]
