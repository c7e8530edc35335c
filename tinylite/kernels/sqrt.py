"""SQRT, elementwise: NaN for negative inputs."""
from __future__ import annotations

import numpy as np

from ._quantization import _check_unary, _f32, _INT16, _INT8, _require_non_negative
from ._unary import prepare_float_unary
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SQRT's prepare computes for eval."""

    q_x_zp: int = None
    q_out_zp: int = None
    q_scales: tuple = None


def prepare(node):
    return prepare_float_unary(node, eval_float, "sqrt")


def eval_float(node, inputs, outputs):
    with np.errstate(invalid="ignore"):
        np.sqrt(inputs[0], out=outputs[0])


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = _check_unary(node, (_INT8, _INT16))
    d.q_x_zp, d.q_out_zp = x.zero_point, out.zero_point
    d.q_scales = _f32(x.scale), _f32(out.scale)
    return _eval_sqrt


def _eval_sqrt(node, inputs, outputs):
    data = node.data
    q = inputs[0].astype(np.int64)
    _require_non_negative(node, q, data.q_x_zp, "SQRT")
    sx, so = data.q_scales
    root = np.sqrt(sx * (q - data.q_x_zp).astype(np.float32))
    # TFLite truncates toward zero here (a C cast), it does not round.
    res = np.trunc(root / so).astype(np.int64) + data.q_out_zp
    info = np.iinfo(outputs[0].dtype)
    outputs[0][...] = np.clip(res, info.min, info.max)
