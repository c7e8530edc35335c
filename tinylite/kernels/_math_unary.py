"""What the float elementwise math ops without a quantized kernel share
(FLOOR, CEIL, ROUND, SIN, COS, SIGN): same-shape output of the input's type,
computed by one numpy ufunc."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._unary import same_shape
from ._base import OpDataBase, op_data


@op_data
class UnaryData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    ufunc: Callable = None


def prepare_ufunc(node, ufunc, dtypes):
    d = node.draft(UnaryData)
    x = same_shape(node)
    node.expect_dtype(x, *dtypes)
    d.ufunc = ufunc
    return eval_ufunc


def eval_ufunc(node, inputs, outputs):
    with np.errstate(invalid="ignore"):
        node.data.ufunc(inputs[0], out=outputs[0])
