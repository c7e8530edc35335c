"""LOGISTIC (sigmoid), elementwise: 1 / (1 + exp(-x))."""
from functools import partial

import numpy as np

from ._base import binds


def prepare(node):
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        return eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    out = outputs[0]
    # exp(-x) overflows to inf for very negative x, which correctly gives 0.
    with np.errstate(over="ignore"):
        np.negative(inputs[0], out=out)
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    # A plan runs where numpy ignores FP errors (interpreter.tape): no errstate here.
    x, out = inputs[0], outputs[0]
    return [partial(np.negative, x, out=out), partial(np.exp, out, out=out), partial(np.add, out, 1, out=out),
            partial(np.reciprocal, out, out=out)]


def prepare_quantized(node):
    from ._activations import prepare_sigmoid_like

    return prepare_sigmoid_like(node, tanh=False)
