"""What REAL, IMAG and COMPLEX_ABS share: a complex64 or complex128 input and
an output of the matching float type."""
from __future__ import annotations

from typing import Callable

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class ComplexData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    fn: Callable = None


def prepare_complex_part(node, fn):
    d = node.draft(ComplexData)
    x, out = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, np.complex64, np.complex128)
    want = np.float32 if x.dtype == np.complex64 else np.float64
    if out.dtype != want:
        node.fail(f"output must be {np.dtype(want).name} for a {x.dtype.name} input, got {out.dtype.name}")
    out.shape = tuple(x.shape)
    d.fn = fn
    return eval_part


def eval_part(node, inputs, outputs):
    outputs[0][...] = node.data.fn(inputs[0])
