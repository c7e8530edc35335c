"""LOGISTIC (sigmoid), elementwise: 1 / (1 + exp(-x))."""
import numpy as np


def prepare(node):
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        return eval_float
    from . import _quantized

    return _quantized.prepare_logistic(node)


def eval_float(node, inputs, outputs):
    out = outputs[0]
    # exp(-x) overflows to inf for very negative x, which correctly gives 0.
    with np.errstate(over="ignore"):
        np.negative(inputs[0], out=out)
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
