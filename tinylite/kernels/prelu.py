"""PRELU: x if x >= 0 else alpha * x, alpha broadcast against x."""
import numpy as np

from ._base import broadcast_shape


def prepare(node):
    x, alpha = node.inputs[0], node.inputs[1]
    node.outputs[0].shape = broadcast_shape(x.shape, alpha.shape, node)
    if x.dtype == np.float32:
        return eval_float
    from . import _quantized

    return _quantized.prepare_prelu(node)


def eval_float(node, inputs, outputs):
    x, alpha = inputs
    np.multiply(x, alpha, out=outputs[0])
    np.copyto(outputs[0], x, where=x >= 0)
