"""SOFTMAX over the last axis, with `beta`: exp(beta * (x - max)) / sum.

The optimized kernel (kept views, one row without the shift) is
kernels/optimized/softmax.py."""
import numpy as np

def prepare(node):
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        node.beta = np.float32(node.options.get("beta", 1.0))
        return eval_float
    from . import _quantized

    return _quantized.prepare_softmax(node)


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    np.subtract(x, np.max(x, axis=-1, keepdims=True), out=out)
    if node.beta != 1:
        out *= node.beta
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)
