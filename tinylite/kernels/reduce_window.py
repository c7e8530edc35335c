"""REDUCE_WINDOW(input, init_value, window_shape, window_strides,
window_dilations): reduce_function (ADD, MUL, MINIMUM, MAXIMUM, ALL, ANY)
over every window of a strided, dilated sliding window (no padding), starting
from init_value and folding the window's elements in row-major order as
LiteRT does.  Window arguments are constant int64 tensors."""
from __future__ import annotations

from typing import Callable

import numpy as np
from ._base import OpDataBase, op_data
from ._window import fold_windows, reduce_window_input, reduce_window_shape


@op_data
class OpData(OpDataBase):
    """What REDUCE_WINDOW's prepare computes for eval."""

    fn: Callable = None
    window: list = None

TYPES = (np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
         np.int64, np.uint64, np.bool_)
FUNCTIONS = {1: np.add, 2: np.multiply, 3: np.minimum, 4: np.maximum, 5: np.logical_and, 6: np.logical_or}


def prepare(node):
    od = node.draft(OpData)
    x = reduce_window_input(node, TYPES)
    rank = len(x.shape)
    args = []
    for i, name in ((2, "window_shape"), (3, "window_strides"), (4, "window_dilations")):
        node.expect_dtype(node.inputs[i], np.int64)
        v = [int(a) for a in np.asarray(node.value(i)).reshape(-1)]
        if len(v) != rank or min(v, default=1) < 1:
            node.fail(f"{name} must hold {rank} positive values, got {v}")
        args.append(v)
    fn = int(node.options.get("reduce_function", 0))
    if fn not in FUNCTIONS:
        node.fail(f"reduce_function {fn} is not one of ADD, MUL, MINIMUM, MAXIMUM, ALL, ANY")
    if fn in (5, 6) and x.dtype != np.bool_:
        node.fail("ALL and ANY reduce bool tensors")
    od.fn = FUNCTIONS[fn]
    od.window = args
    node.outputs[0].shape = reduce_window_shape(x.shape, *args)
    return eval_reduce_window


def eval_reduce_window(node, inputs, outputs):
    data = node.data
    x, init = inputs[0], inputs[1]
    out = outputs[0]
    out.fill(init.reshape(-1)[0])
    if out.size == 0:
        return
    fn = data.fn
    fold_windows(x, out, *data.window, lambda acc, view: fn(acc, view, out=acc))
