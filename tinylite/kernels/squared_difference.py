"""SQUARED_DIFFERENCE: (x - y)^2 with broadcasting; float32 or (wrapping) int32."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._base import broadcast_shape, op_data, OpDataBase
from ._quantization import _f32, _INT8, _require, _unsupported
from ._unary import QUANTIZED_TYPES


@op_data
class OpData(OpDataBase):
    """What SQUARED_DIFFERENCE's prepare computes for eval."""

    q_tables: list = None
    q_out_mult: int = None
    q_out_shift: int = None
    q_out_zp: int = None


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    if x.dtype in [np.dtype(t) for t in QUANTIZED_TYPES]:
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32)
    return eval_squared_difference


def eval_squared_difference(node, inputs, outputs):
    out = outputs[0]
    np.subtract(inputs[0], inputs[1], out=out)
    np.multiply(out, out, out=out)


# --- quantized ---

_SQDIFF_SHIFT = 7       # TFLite's headroom: inputs move to a grid 2**7 finer than twice the larger scale


def prepare_quantized(node):
    d = node.draft(OpData)
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, y, out)
    if not (x.dtype == y.dtype == out.dtype == _INT8):
        _unsupported(node, "only int8 inputs and output have a quantized kernel in TFLite")
    twice_max = float(2 * max(_f32(x.scale), _f32(y.scale)))
    d.q_tables = []
    values = np.arange(-128, 128, dtype=np.int64)
    for s in (x, y):
        mult, shift = fx.quantize_multiplier(float(s.scale) / twice_max)
        # 256 possible values per input: rescale each once.
        d.q_tables.append(fx.multiply_by_quantized_multiplier_smaller_than_one(
            (values - s.zero_point) << _SQDIFF_SHIFT, mult, shift))
    real_out = twice_max * twice_max / float(_f32((1 << 2 * _SQDIFF_SHIFT) * _f32(out.scale)))
    d.q_out_mult, d.q_out_shift = fx.quantize_multiplier(real_out)
    if d.q_out_shift > 0:
        _unsupported(node, "an output scale finer than (2 * the larger input scale)**2 / 2**14")
    d.q_out_zp = out.zero_point
    return _eval_squared_difference


def _eval_squared_difference(node, inputs, outputs):
    data = node.data
    a = data.q_tables[0][inputs[0].astype(np.intp) + 128]
    b = data.q_tables[1][inputs[1].astype(np.intp) + 128]
    d = a - b
    res = (fx.multiply_by_quantized_multiplier_smaller_than_one(d * d, data.q_out_mult, data.q_out_shift)
           + data.q_out_zp)
    out = outputs[0]
    out[...] = np.clip(np.broadcast_to(res, out.shape), -128, 127)
