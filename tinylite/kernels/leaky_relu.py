"""LEAKY_RELU: x if x > 0 else alpha * x (alpha may exceed 1 or be negative)."""
import numpy as np

from ._unary import prepare_float_unary

ZERO = np.float32(0)


def prepare(node):
    node.alpha = np.float32(node.options.get("alpha", 0.0))
    return prepare_float_unary(node, eval_float, "leaky_relu")


def eval_float(node, inputs, outputs):
    # min(x, 0) * alpha + max(x, 0): the same values (up to the sign of zero)
    # for any finite alpha, and much faster than a masked select.
    x, out = inputs[0], outputs[0]
    np.minimum(x, ZERO, out=out)
    out *= node.alpha
    out += np.maximum(x, ZERO)
