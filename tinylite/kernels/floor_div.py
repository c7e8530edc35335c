"""FLOOR_DIV: x / y rounded toward negative infinity, elementwise with
broadcasting (float32, int8, int16, int32).  Integer division by 0 fails the
invoke (as LiteRT); float division by 0 gives +-inf or NaN."""
import numpy as np

from ._base import broadcast_shape


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}; cast one to the other's type")
    node.expect_dtype(x, np.float32, np.int8, np.int16, np.int32)
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    return eval_floor_div


def eval_floor_div(node, inputs, outputs):
    x, y = inputs
    if y.dtype.kind == "i":
        if not np.all(y):
            raise ValueError(f"{node.op_name} (node {node.index}): division by 0 (the divisor has a zero element)")
        # floor(x / y) on the exact quotient; int8/int16 -128 // -1 wraps as the C++ cast does.
        outputs[0][...] = np.floor_divide(x.astype(np.int64), y.astype(np.int64)).astype(y.dtype)
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        # LiteRT: std::floor(x / y) in float32 (numpy's floor_divide differs near multiples).
        np.floor(np.divide(x, y), out=outputs[0])
