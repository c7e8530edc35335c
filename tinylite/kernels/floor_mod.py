"""FLOOR_MOD: the remainder of floor division, elementwise with broadcasting.
The result has the divisor's sign (LiteRT's FloorMod: the truncated remainder,
plus the divisor where their signs differ).  Integer divisors may not be 0
(LiteRT fails the invoke); float ones give NaN, as fmod does."""
import numpy as np

from ._base import broadcast_shape

TYPES = (np.float32, np.int8, np.int16, np.int32, np.int64)


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}; cast one to the other's type")
    node.expect_dtype(x, *TYPES)
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    return eval_floor_mod


def eval_floor_mod(node, inputs, outputs):
    x, y = inputs
    if y.dtype.kind == "i" and not np.all(y):
        raise ValueError(f"{node.op_name} (node {node.index}): division by 0 (the divisor has a zero element)")
    with np.errstate(invalid="ignore", divide="ignore"):
        trunc = np.fmod(x, y)
        fix = (trunc != 0) & ((y < 0) != (trunc < 0))
        outputs[0][...] = np.where(fix, trunc + y, trunc)
