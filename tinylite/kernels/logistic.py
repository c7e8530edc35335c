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
        return eval_float_reference if node.reference else eval_float
    return prepare_quantized(node)


# LiteRT's reference kernel: 1 above this, exp(x) below -9 (where 1 / (1 + exp(-x)) is exp(x) within
# 1.2e-4 relative: outputs a quantized or hybrid op reads can move by a step there).
_UPPER, _LOWER = np.float32(16.619047164916992188), np.float32(-9.0)


def eval_float_reference(node, inputs, outputs):
    """LiteRT's reference LOGISTIC in float32, with expf as glibc's: exp rounded once to float32
    (numpy's float32 exp is off by an ulp on about a sixth of the values; this way 86 of 300K
    random values differ from LiteRT's by an ulp, where glibc's expf is not correctly rounded)."""
    x, out = inputs[0], outputs[0]
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        mid = np.float32(1) / (np.float32(1) + np.exp(-x64).astype(np.float32))
        low = np.exp(x64).astype(np.float32)
    out[...] = np.where(x > _UPPER, np.float32(1), np.where(x < _LOWER, low, mid))


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
