"""FAKE_QUANT: quantize and dequantize float32 values on the grid of [min,
max] with num_bits bits, the range nudged so that 0 is on the grid (as
TensorFlow's FakeQuantWithMinMaxArgs); narrow_range is refused, as in LiteRT."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What FAKE_QUANT's prepare computes for eval."""

    nudged: tuple = None

F32 = np.float32


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(x, np.float32)
    o = node.options
    if o.get("narrow_range"):
        node.fail("narrow_range FAKE_QUANT is not supported at run time (LiteRT refuses it too)")
    lo, hi, bits = F32(o.get("min", 0.0)), F32(o.get("max", 0.0)), int(o.get("num_bits", 8))
    if not (lo <= 0 <= hi and lo < hi):
        node.fail(f"min {lo} and max {hi} must satisfy min <= 0 <= max and min < max")
    qmin, qmax = F32(0), F32((1 << bits) - 1)
    scale = F32((hi - lo) / (qmax - qmin))
    zp_from_min = F32(qmin - F32(lo / scale))
    if zp_from_min < qmin:
        zp = qmin
    elif zp_from_min > qmax:
        zp = qmax
    else:
        zp = F32(_round(zp_from_min))
    d.nudged = (F32((qmin - zp) * scale), F32((qmax - zp) * scale), scale)
    node.outputs[0].shape = tuple(x.shape)
    return eval_fake_quant


def eval_fake_quant(node, inputs, outputs):
    lo, hi, scale = node.data.nudged
    inv = F32(F32(1) / scale)
    shifted = (np.minimum(hi, np.maximum(lo, inputs[0])) - lo).astype(F32)
    q = (shifted * inv).astype(F32)
    r = _round(q).astype(F32)
    outputs[0][...] = (r * scale + lo).astype(F32)


def _round(v):
    """std::round (half away from zero), exact: computed in float64."""
    v = np.asarray(v, np.float64)
    return np.copysign(np.floor(np.abs(v) + 0.5), v)
