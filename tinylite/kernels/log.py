"""LOG (natural), elementwise: -inf at 0, NaN below (float32).  Quantized
int8/int16 look the result up in LiteRT's LUT (log in float32, inputs <= 0
giving the output's lowest value; int16 interpolates a 513-entry table)."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._unary import is_quantized, same_shape
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What LOG's prepare computes for eval."""

    lut: np.ndarray = None


def prepare(node):
    d = node.draft(OpData)
    x = same_shape(node)
    if x.dtype == np.float32:
        return eval_float
    node.expect_dtype(x, np.float32, np.int8, np.int16)
    out = node.outputs[0]
    if not is_quantized(x) or not is_quantized(out):
        node.fail(f"quantized {x.dtype.name} LOG needs input and output quantization parameters")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    info = np.iinfo(x.dtype)
    lowest = np.float32((info.min - out.zero_point) * np.float32(out.scale))

    def log32(v):
        # LiteRT's std::log(float) is the C library's logf, correctly rounded here; numpy's
        # float32 log is not always (1 ulp off moves an int16 table entry: 132 of 65536 inputs).
        v = np.asarray(v, np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(v.astype(np.float64)).astype(np.float32)
        return np.where(v <= 0, lowest, r).astype(np.float32)

    if x.dtype == np.int8:
        d.lut = fx.lut_int8(log32, x.scale, x.zero_point, out.scale, out.zero_point, x.dtype)
        return eval_lut8
    d.lut = fx.lut_int16(log32, np.float32(x.scale), 0, np.float32(out.scale), 0, float_type=np.float32)
    return eval_lut16


def eval_float(node, inputs, outputs):
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(inputs[0], out=outputs[0])


def eval_lut8(node, inputs, outputs):
    outputs[0][...] = node.data.lut[inputs[0].astype(np.int64) + 128]


def eval_lut16(node, inputs, outputs):
    outputs[0][...] = fx.lut_lookup_int16(inputs[0], node.data.lut)
