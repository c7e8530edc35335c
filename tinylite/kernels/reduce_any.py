"""REDUCE_ANY: logical OR over the axes of the second input (`keep_dims`)."""
import numpy as np

from ._window import prepare_reduction


def prepare(node):
    node.expect_dtype(node.inputs[0], np.bool_)
    prepare_reduction(node)
    return eval_any


def eval_any(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    np.any(inputs[0], axis=data.axes, keepdims=True, out=out.reshape(data.kept_shape))
