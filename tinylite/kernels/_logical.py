"""Boolean ops: LOGICAL_AND / LOGICAL_OR (broadcasting) and LOGICAL_NOT."""
import numpy as np

from ._base import broadcast_shape


def prepare_logical(node, ufunc):
    for s in node.inputs:
        node.expect_dtype(s, np.bool_)
    if len(node.inputs) == 2:
        node.outputs[0].shape = broadcast_shape(node.inputs[0].shape, node.inputs[1].shape, node)
    else:
        node.outputs[0].shape = node.inputs[0].shape
    node.ufunc = ufunc
    return eval_logical


def eval_logical(node, inputs, outputs):
    node.ufunc(*inputs, out=outputs[0])
