"""PRELU: x if x >= 0 else alpha * x, alpha broadcast against x (the output
keeps x's shape, as TFLite requires).  The optimized kernel for constant
alphas (one multiply and a max or min) is kernels/optimized/prelu.py."""
import numpy as np

from ._base import broadcast_shape

ZERO = np.float32(0)


def prepare(node):
    x, alpha = node.inputs[0], node.inputs[1]
    shape = broadcast_shape(x.shape, alpha.shape, node)
    if tuple(shape) != tuple(x.shape):
        node.fail(f"alpha of shape {list(alpha.shape)} would broadcast the input {list(x.shape)} to {list(shape)}")
    node.outputs[0].shape = shape
    if x.dtype == np.float32:
        node.expect_dtype(alpha, np.float32)
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
