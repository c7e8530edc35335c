"""TANH, elementwise."""
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
    np.tanh(inputs[0], out=outputs[0])


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    return [partial(np.tanh, inputs[0], out=outputs[0])]


def prepare_quantized(node):
    from ._activations import prepare_sigmoid_like

    return prepare_sigmoid_like(node, tanh=True)
