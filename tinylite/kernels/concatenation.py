"""CONCATENATION: join any number of tensors along `axis`.  A fused activation other
than NONE is refused, as LiteRT's prepare refuses it (concatenation.cc) for every type."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from . import _layout
from ._base import activation_name, normalize_axis, op_data, OpDataBase
from ._quantization import _f32, _info, _require, activation_range


@op_data
class OpData(OpDataBase):
    """What CONCATENATION's prepare computes for eval."""

    q_lo: int = None
    q_hi: int = None
    q_rescale: list = None
    q_out_zp: int = None
    axis: int = None


def prepare(node):
    d = node.draft(OpData)
    if activation_name(node) != "NONE":
        # Accepting it would make tinylite run a file LiteRT refuses to load.
        node.fail(f"fused_activation_function is {activation_name(node)}, but LiteRT's CONCATENATION kernel "
                  "accepts only NONE and refuses to load this file; re-convert the model (tinylite's converter "
                  "keeps the activation as its own op after the CONCATENATION)")
    first, out = node.inputs[0], node.outputs[0]
    rank = len(first.shape)
    for s in node.inputs[1:]:
        if len(s.shape) != rank:
            node.fail(f"inputs differ in rank: {list(first.shape)} and {list(s.shape)}")
    if rank == 0:
        # TFLite joins scalars only when they are constants (into a vector).
        if any(s.data is None for s in node.inputs):
            node.fail("concatenating scalars needs every input to be a constant")
        d.axis = 0
        out.shape = (len(node.inputs),)
    else:
        d.axis = normalize_axis(node.options.get("axis", 0), rank, node)
        for s in node.inputs[1:]:
            if any(a != b for k, (a, b) in enumerate(zip(first.shape, s.shape)) if k != d.axis):
                node.fail(f"shapes {list(first.shape)} and {list(s.shape)} differ outside axis {d.axis}")
        out.shape = tuple(sum(s.shape[d.axis] for s in node.inputs) if k == d.axis else n
                          for k, n in enumerate(first.shape))
    if not _layout.movable(node, node.inputs, dtypes=_layout.MOVABLE + (np.uint32,)):
        return _layout.quantized_fallback(node)
    return eval_concatenation


def eval_concatenation(node, inputs, outputs):
    out = outputs[0]
    if out.ndim == 1 and inputs[0].ndim == 0:
        out[...] = inputs
    else:
        np.concatenate(inputs, axis=node.data.axis, out=out)


# --- quantized ---

def prepare_quantized(node):
    """Inputs on other grids than the output's are requantized, as TFLite's uint8 kernel does:
    round(q * (s_in / s_out) - zp_in * (s_in / s_out)) + zp_out in float32.  LiteRT rejects int8
    inputs on other grids and copies int16 inputs unscaled (zero points must be 0); tinylite
    follows it for int16 and requantizes int8 like uint8."""
    d = node.draft(OpData)
    out = node.outputs[0]
    specs = [s for s in node.inputs] + [out]
    _require(node, *specs)
    if out.dtype == np.int16 and any(s.zero_point for s in specs):
        node.fail("int16 inputs and output need zero points of 0")
    d.q_lo, d.q_hi = activation_range(node, out)
    inv = _f32(1) / _f32(out.scale)
    d.q_rescale = []
    for s in node.inputs:
        if out.dtype == np.int16 or (_f32(s.scale) == _f32(out.scale) and s.zero_point == out.zero_point):
            d.q_rescale.append(None)
        else:
            scale = _f32(_f32(s.scale) * inv)
            d.q_rescale.append((scale, _f32(-s.zero_point * scale)))
    d.q_out_zp = out.zero_point
    return _eval_concatenation


def _eval_concatenation(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    parts = []
    for x, r in zip(inputs, data.q_rescale):
        if r is None:
            parts.append(x.astype(np.int64))
        else:
            v = x.astype(np.float32) * r[0] + r[1]
            parts.append(fx.round_half_away(v).astype(np.int64) + data.q_out_zp)
    if out.ndim == 1 and inputs[0].ndim == 0:
        res = np.array([p[()] for p in parts])
    else:
        res = np.concatenate(parts, axis=data.axis)
    info = _info(out.dtype)
    out[...] = np.clip(res, max(info.min, data.q_lo), min(info.max, data.q_hi))
