"""LOG_SOFTMAX over the last axis: (x - max) - log(sum(exp(x - max)))."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    if len(node.inputs[0].shape) < 1:
        node.fail("input must have at least one dimension")
    return prepare_float_unary(node, eval_float, "log_softmax")


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    with np.errstate(divide="ignore"):
        out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
