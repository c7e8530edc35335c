"""ELU (alpha 1): x if x >= 0 else exp(x) - 1.  int8 looks the result up in
LiteRT's 256-entry table (expm1 in float32, requantized)."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._unary import is_quantized, prepare_float_unary, same_shape
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What ELU's prepare computes for eval."""

    lut: np.ndarray = None

ZERO = np.float32(0)


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if x.dtype == np.int8:
        same_shape(node)
        out = node.outputs[0]
        if not is_quantized(x) or not is_quantized(out):
            node.fail("int8 ELU needs input and output quantization parameters")

        def elu32(v):
            v = np.asarray(v, np.float32)
            return np.where(v < 0, np.expm1(np.minimum(v, 0)), v).astype(np.float32)

        d.lut = fx.lut_int8(elu32, x.scale, x.zero_point, out.scale, out.zero_point, np.int8)
        return eval_int8
    return prepare_float_unary(node, eval_float, "elu")


def eval_int8(node, inputs, outputs):
    outputs[0][...] = node.data.lut[inputs[0].astype(np.int64) + 128]


def eval_float(node, inputs, outputs):
    # expm1(min(x, 0)) + max(x, 0): one term is always (+-)0, so this is exact.
    x, out = inputs[0], outputs[0]
    np.minimum(x, ZERO, out=out)
    np.expm1(out, out=out)
    out += np.maximum(x, ZERO)
