"""What the StableHLO elementwise ops (STABLEHLO_ADD, _MULTIPLY, _MAXIMUM,
_MINIMUM, _AND, _SHIFT_LEFT) share: two inputs of one shape and type (no
broadcasting), the output of that shape.  Integers wrap as in C; maximum and
minimum are std::max/std::min (a NaN first operand wins, a NaN second loses)."""
from __future__ import annotations

from typing import Callable

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class StablehloData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    fn: Callable = None

NUMERIC = (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
           np.uint8, np.uint16, np.uint32, np.uint64)


def prepare_elementwise(node, fn, dtypes):
    d = node.draft(StablehloData)
    a, b = node.inputs[0], node.inputs[1]
    node.expect_dtype(a, *dtypes)
    if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        node.fail(f"inputs need one type and shape, got {a.dtype.name} {list(a.shape)} and "
                  f"{b.dtype.name} {list(b.shape)}")
    node.outputs[0].shape = tuple(a.shape)
    d.fn = fn
    return eval_elementwise


def eval_elementwise(node, inputs, outputs):
    with np.errstate(over="ignore", invalid="ignore"):
        outputs[0][...] = node.data.fn(inputs[0], inputs[1])


def std_max(a, b):
    return np.where(a < b, b, a)


def std_min(a, b):
    return np.where(b < a, b, a)
