"""DEPTHWISE_CONV_2D: each input channel c convolved with its own filters;
filter [1, kh, kw, cin * m], output channel c * m + k reads input channel c.

Float path: one vectorized multiply-accumulate per filter tap over a strided
view of the padded input (no per-pixel loops).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import _fixedpoint as fx
from ._base import activation_name, float_activation, op_data, padding_name
from ._quantization import (_asymmetric_quantize_rows, _float_clamp, _is_quantized, _requant_params, _require,
                            _scales, _unsupported, QuantData)
from ._window import (depthwise_operands, filter_taps, geometry, pad_input, patches, reserve_padded,
                      window_out_size)


@op_data
class OpData(QuantData):
    """What DEPTHWISE_CONV_2D's prepare computes for eval."""

    multiplier: int = None
    geometry: dict = None
    q_x_zp: int = None
    q_wzp: int = None
    q_taps: np.ndarray = None
    q_simd: np.ndarray | None = None
    act: Callable | None = None
    q_wscale: np.ndarray = None
    q_clamp: tuple | None = None
    taps: np.ndarray = None


def prepare(node):
    d = node.draft(OpData)
    x, w = node.inputs[0], node.inputs[1]
    if len(x.shape) != 4 or len(w.shape) != 4:
        node.fail(f"expects a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    n, h, wd, cin = x.shape
    one, kh, kw, cout = w.shape
    if one != 1:
        node.fail(f"filter must have shape [1, kh, kw, channels], got {list(w.shape)}")
    if cin <= 0 or cout % cin:
        node.fail(f"filter channels {cout} are not a multiple of the input channels {cin}")
    # TFLite derives the multiplier from the shapes; it never reads the depth_multiplier option.
    d.multiplier = cout // cin
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    pad = padding_name(node)
    oh = window_out_size(pad, h, kh, sh, dh)
    ow = window_out_size(pad, wd, kw, sw, dw)
    if oh is None or ow is None:
        node.fail(f"invalid window: input {h}x{wd}, filter {kh}x{kw}, strides {sh}x{sw}, "
                  f"dilations {dh}x{dw}, padding {pad}")
    node.outputs[0].shape = (n, oh, ow, cout)
    d.geometry = geometry(h, wd, kh, kw, sh, sw, dh, dw, oh, ow, pad)
    reserve_padded(node, x, d.geometry)
    if node.has_input(2) and node.inputs[2].size != cout:
        node.fail(f"bias has {node.inputs[2].size} elements, expected {cout}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if w.data is not None:
            d.taps = filter_taps(w.data, cin)
        d.act = float_activation(activation_name(node))
        if node.litert_order and not node.reference:
            # A hybrid op quantizes what this computes: sum from the bias, as LiteRT's
            # optimized kernel does (eval_float's order is its reference kernel's).
            from ._litert_order import depthwise_float_bias_first

            return depthwise_float_bias_first
        return eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    data, out = node.data, outputs[0]
    b = inputs[2] if len(inputs) > 2 else None
    operands = depthwise_operands(node, inputs, out, pad_input)
    if operands is None:
        return
    windows, taps, acc = operands
    g = data.geometry
    np.multiply(windows[:, :, :, 0, 0, :, None], taps[0, 0], out=acc)
    tmp = np.empty_like(acc) if g["kh"] * g["kw"] > 1 else None
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            if i or j:
                np.multiply(windows[:, :, :, i, j, :, None], taps[i, j], out=tmp)
                acc += tmp
    if b is not None:
        out += b
    if data.act is not None:
        data.act(out)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    cin, cout = x.shape[3], w.shape[3]
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid depthwise convolution needs int8 weights with scales")
        ws = _scales(w)
        if len(ws) != cout:
            # TFLite's hybrid kernel reads one scale per output channel.
            _unsupported(node, "hybrid depthwise convolution needs one weight scale per output channel")
        d.q_wscale = ws
        d.q_taps = None if w.data is None else filter_taps(w.data.astype(np.float64), cin)
        d.q_bias = None if b is None else b.data
        d.q_clamp = _float_clamp(node)
        return _eval_hybrid_depthwise
    _require(node, x, w, out)
    if x.dtype == np.int16 or x.dtype == np.int8:
        if w.dtype != np.int8:
            _unsupported(node, f"{w.dtype.name} weights with {x.dtype.name} activations")
    elif w.dtype != np.uint8:
        _unsupported(node, f"{w.dtype.name} weights with uint8 activations")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    d.q_x_zp = x.zero_point
    d.q_wzp = w.zero_point if x.dtype == np.uint8 else 0
    taps = None
    if w.data is not None:
        # One float64 copy (no subtraction pass where the zero point is 0, as for int8 weights).
        taps = filter_taps(w.data, cin).astype(np.float64)
        if d.q_wzp:
            taps -= d.q_wzp
    d.q_taps = taps
    mode = {np.dtype(np.int16): "mbqm64", np.dtype(np.int8): "gemmlowp", np.dtype(np.uint8): "gemmlowp"}[x.dtype]
    _requant_params(node, x, w, b, out, cout, mode, conv_per_tensor=x.dtype == np.uint8)
    # The optimized int8 kernel rounds channels [0, cout - cout % 8) with NEON.
    # The reference kernel rounds every channel with gemmlowp.
    d.q_simd = np.arange(cout) < (cout - cout % 8) if x.dtype == np.int8 and not node.reference else None
    return _eval_depthwise


def _depthwise_sums(node, xc, taps):
    """[n, oh, ow, cout] exact sums of products of a centered input (float64)."""
    g = node.data.geometry
    windows = patches(pad_input(xc, g), g)          # [n, oh, ow, kh, kw, cin]
    n = xc.shape[0]
    acc = np.zeros((n, g["oh"], g["ow"]) + taps.shape[2:])
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            acc += windows[:, :, :, i, j, :, None] * taps[i, j]
    return acc.reshape(n, g["oh"], g["ow"], -1)


def _eval_depthwise(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    taps = data.q_taps if data.q_taps is not None else filter_taps(inputs[1].astype(np.float64) - data.q_wzp,
                                                                    x.shape[3])
    acc = np.rint(_depthwise_sums(node, x.astype(np.float64) - data.q_x_zp, taps)).astype(np.int64)
    acc = acc.reshape(-1, out.shape[-1])
    if data.q_bias is not None:
        acc = acc + data.q_bias
    if data.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, data.q_mult, data.q_shift)
    else:
        acc = fx.wrap32(acc)
        res = fx.multiply_by_quantized_multiplier(acc, data.q_mult, data.q_shift)
        if data.q_simd is not None and data.q_simd.any():
            res = np.where(data.q_simd, fx.multiply_by_quantized_multiplier_neon(acc, data.q_mult, data.q_shift), res)
    res = np.clip(res + data.q_out_zp, data.q_lo, data.q_hi)
    out[...] = res.reshape(out.shape)


def _eval_hybrid_depthwise(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    taps = data.q_taps if data.q_taps is not None else filter_taps(inputs[1].astype(np.float64), x.shape[3])
    n = x.shape[0]
    # Each image is quantized asymmetrically as a whole (AsymmetricQuantizeFloats).
    q, sf, off = _asymmetric_quantize_rows(x.reshape(n, -1))
    xc = (q - off[:, None]).reshape(x.shape)
    acc = np.rint(_depthwise_sums(node, xc, taps)).astype(np.float32)
    scale = (data.q_wscale[None, :] * sf[:, None]).astype(np.float32)      # float32 product, as TFLite
    res = acc * scale[:, None, None, :]
    if data.q_bias is not None:
        res += data.q_bias
    if data.q_clamp is not None:
        np.clip(res, *data.q_clamp, out=res)
    out[...] = res
