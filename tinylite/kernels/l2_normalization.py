"""L2_NORMALIZATION over the last axis: x / max(sqrt(sum(x^2)), 1e-6).

The sum of squares stays in float32 as in TFLite (it overflows to inf, giving
0, for huge inputs).  TFLite rejects any fused activation.
"""
import numpy as np

from ._base import activation_name
from ._unary import prepare_float_unary

EPSILON = np.float32(1e-6)


def prepare(node):
    if len(node.inputs[0].shape) < 1:
        node.fail("input must have at least one dimension")
    if activation_name(node) != "NONE":
        node.fail(f"fused activation {activation_name(node)} is not supported (only NONE)")
    return prepare_float_unary(node, eval_float, "l2_normalization")


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    with np.errstate(over="ignore"):
        np.multiply(x, x, out=out)
    norm = np.sqrt(out.sum(axis=-1, keepdims=True, dtype=np.float32))
    np.maximum(norm, EPSILON, out=norm)
    np.divide(x, norm, out=out)
