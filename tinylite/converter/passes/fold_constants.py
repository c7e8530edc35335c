"""Evaluate operators whose inputs are all constants and store their results."""
from __future__ import annotations

import numpy as np

from ._graph import const, op_name, set_const

_BINARY = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": np.divide,
           "MAXIMUM": np.maximum, "MINIMUM": np.minimum, "SQUARED_DIFFERENCE": lambda a, b: (a - b) ** 2}
_UNARY = {"NEG": np.negative, "SQRT": np.sqrt, "RSQRT": lambda x: 1 / np.sqrt(x), "EXP": np.exp,
          "LOG": np.log, "SQUARE": np.square, "ABS": np.abs}


def _evaluate(name, op, values):
    if name in _BINARY and not (op.builtin_options or {}).get("fused_activation_function"):
        return _BINARY[name](values[0], values[1]).astype(values[0].dtype)
    if name in _UNARY:
        return _UNARY[name](values[0]).astype(values[0].dtype)
    if name == "RESHAPE" and len(values) == 2:
        return values[0].reshape([int(d) for d in values[1]])
    if name == "TRANSPOSE":
        return np.transpose(values[0], [int(d) for d in values[1]])
    return None


def run(model) -> None:
    for sg in model.subgraphs:
        keep = []
        for op in sg.operators:
            values = [const(model, sg, i) for i in op.inputs]
            result = None
            if values and len(op.outputs) == 1 and all(v is not None for v in values):
                result = _evaluate(op_name(model, op), op, values)
            if result is None:
                keep.append(op)
                continue
            out = sg.tensors[op.outputs[0]]
            if tuple(out.shape) != result.shape or op.outputs[0] in sg.outputs:
                keep.append(op)
                continue
            set_const(model, sg, op.outputs[0], result)
        sg.operators = keep
