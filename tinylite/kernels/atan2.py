"""ATAN2(y, x): the angle of (x, y), elementwise with equal shapes (float32, float64)."""
import numpy as np


def prepare(node):
    y, x = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape):
        node.fail(f"inputs need one type and shape, got {y.dtype.name} {list(y.shape)} and "
                  f"{x.dtype.name} {list(x.shape)}")
    node.expect_dtype(y, np.float32, np.float64)
    node.outputs[0].shape = tuple(y.shape)
    return eval_atan2


def eval_atan2(node, inputs, outputs):
    np.arctan2(inputs[0], inputs[1], out=outputs[0])
