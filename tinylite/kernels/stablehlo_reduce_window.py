"""STABLEHLO_REDUCE_WINDOW(input, init_value): as LiteRT runs it, the input
is first dilated by base_dilations (holes hold init_value), then padded by
padding (pairs low, high per dim; init_value fills, a negative value crops),
then every window of window_dimensions, window_strides and window_dilations
is folded from init_value in row-major order by the body subgraph's one op
(ADD, MUL, MAXIMUM, MINIMUM, LOGICAL_AND, LOGICAL_OR or their STABLEHLO_
forms).  Maximum is a >= b ? a : b and minimum a <= b ? a : b; the logical
bodies give 0 or 1 in the input's type."""
from __future__ import annotations

import numpy as np

from ._stablehlo import body_op, int_list
from ._base import OpDataBase, op_data
from ._window import fold_windows, reduce_window_input, reduce_window_shape


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    window: tuple = None

TYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.float32, np.float64)
BODIES = {"ADD": "add", "STABLEHLO_ADD": "add", "MUL": "mul", "STABLEHLO_MULTIPLY": "mul",
          "MAXIMUM": "max", "STABLEHLO_MAXIMUM": "max", "MINIMUM": "min", "STABLEHLO_MINIMUM": "min",
          "LOGICAL_AND": "all", "STABLEHLO_AND": "all", "LOGICAL_OR": "any", "STABLEHLO_OR": "any"}


def _max(a, b):
    return np.where(a >= b, a, b)


def _min(a, b):
    return np.where(a <= b, a, b)


def _all(a, b):
    return np.logical_and(a, b).astype(a.dtype)


def _any(a, b):
    return np.logical_or(a, b).astype(a.dtype)


FUNCTIONS = {"add": np.add, "mul": np.multiply, "max": _max, "min": _min, "all": _all, "any": _any}


def prepare(node):
    od = node.draft(OpData)
    x = reduce_window_input(node, TYPES)
    rank = len(x.shape)
    if not 0 < rank <= 6:
        node.fail(f"the input must have rank 1 to 6 (LiteRT's limit), got {rank}")

    def field(name, default, count=rank):
        v = int_list(node, name) or [default] * count
        if len(v) != count:
            node.fail(f"{name} has {len(v)} values; a rank-{rank} input needs {count}")
        return v

    window = field("window_dimensions", 1)
    strides = field("window_strides", 1)
    base = field("base_dilations", 1)
    dil = field("window_dilations", 1)
    padding = field("padding", 0, 2 * rank)
    for name, v in (("window_dimensions", window), ("window_strides", strides), ("base_dilations", base),
                    ("window_dilations", dil)):
        if min(v) < 1:
            node.fail(f"{name} must all be positive, got {v}")
    name = body_op(node, "body_subgraph_index")
    if name not in BODIES:
        node.fail(f"the body is {name}; LiteRT reduces only with ADD, MUL, MAXIMUM, MINIMUM, LOGICAL_AND, "
                  "LOGICAL_OR or their STABLEHLO_ forms")
    dilated = [(d - 1) * b + 1 if d else 0 for d, b in zip(x.shape, base)]
    padded = [d + padding[2 * i] + padding[2 * i + 1] for i, d in enumerate(dilated)]
    if any(p < 0 for p in padded) or (any(padding) and 0 in padded):
        node.fail(f"padding {padding} leaves an empty tensor from the dilated shape {dilated}")
    od.window = (base, padding, dilated, window, strides, dil, FUNCTIONS[BODIES[name]])
    node.outputs[0].shape = reduce_window_shape(padded, window, strides, dil)
    return eval_reduce_window


def eval_reduce_window(node, inputs, outputs):
    x, init = inputs
    out = outputs[0]
    base, padding, dilated, window, strides, dil, fn = node.data.window
    fill = init.reshape(-1)[0]
    grown = np.full(dilated, fill, x.dtype)
    grown[tuple(slice(None, None, b) for b in base)] = x
    lo = [padding[2 * i] for i in range(x.ndim)]
    hi = [padding[2 * i + 1] for i in range(x.ndim)]
    full = np.full([d + max(a, 0) + max(b, 0) for d, a, b in zip(dilated, lo, hi)], fill, x.dtype)
    full[tuple(slice(max(a, 0), max(a, 0) + d) for a, d in zip(lo, dilated))] = grown
    padded = full[tuple(slice(-min(a, 0), full.shape[i] + min(b, 0)) for i, (a, b) in enumerate(zip(lo, hi)))]
    out.fill(fill)
    if out.size == 0:
        return
    def fold(acc, view):
        acc[...] = fn(acc, view)

    with np.errstate(over="ignore", invalid="ignore"):
        fold_windows(padded, out, window, strides, dil, fold)
