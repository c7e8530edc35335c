"""ATAN2(y, x): the angle of (x, y), elementwise with equal shapes (float32, float64)."""
import numpy as np


def prepare(node):
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    y, x = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape):
        node.fail(f"inputs need one type and shape, got {y.dtype.name} {list(y.shape)} and "
                  f"{x.dtype.name} {list(x.shape)}")
    node.expect_dtype(y, np.float32, np.float64)  # float16: see the top of prepare
    node.outputs[0].shape = tuple(y.shape)
    return eval_atan2


def eval_atan2(node, inputs, outputs):
    np.arctan2(inputs[0], inputs[1], out=outputs[0])
