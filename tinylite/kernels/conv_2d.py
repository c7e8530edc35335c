"""CONV_2D: 2-D convolution, NHWC input, OHWI filter ([out, kh, kw, in/groups]).

Reference (`eval_float`): im2col (a strided view of the padded input,
copied into a [rows, kh*kw*cin] matrix) times the pre-transposed filter, one
BLAS call per group.  Groups are inferred from the filter's input depth, as
TFLite does.  The optimized kernels (buffers kept across invokes, the bias
in the product, fused with a following max pool, Winograd) are in
kernels/optimized/conv_2d.py.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import conv_output_size, fused_float_activation, op_data, padding_name
from ._quantization import (_asymmetric_quantize_rows, _float_clamp, _is_quantized, _requant_params, _requantize,
                            _require, _scales, _store, _symmetric_quantize_rows, _unsupported, gemm_rounding)
from ._window import geometry, im2col, reserve_padded
from ._quantization import QuantData


@op_data
class OpData(QuantData):
    """What CONV_2D's prepare computes for eval."""

    geometry: dict = None
    groups: int = None
    q_x_zp: int = None
    q_wzp: int = None
    q_per_channel: bool = None
    q_wscale: np.ndarray = None
    q_clamp: tuple | None = None
    act: Callable | None = None
    wmat: np.ndarray = None
    q_wmat: np.ndarray = None


def prepare(node):
    d = node.draft(OpData)
    x, w = node.inputs[0], node.inputs[1]
    if len(x.shape) != 4 or len(w.shape) != 4:
        node.fail(f"expects a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    n, h, wd, cin = x.shape
    cout, kh, kw, cg = w.shape
    if cg == 0 or cin % cg:
        node.fail(f"input depth {cin} is not a multiple of the filter depth {cg}")
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    if min(sh, sw, dh, dw) < 1:
        node.fail(f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
    pad = padding_name(node)
    oh = conv_output_size(h, kh, sh, dh, pad)
    ow = conv_output_size(wd, kw, sw, dw, pad)
    node.outputs[0].shape = (n, oh, ow, cout)
    d.geometry = geometry(h, wd, kh, kw, sh, sw, dh, dw, oh, ow, pad)
    reserve_padded(node, x, d.geometry)
    node.reserve((n * oh * ow, kh * kw * cg + 1), x.dtype if x.dtype == np.float32 else np.float64, "im2col matrix")
    d.groups = cin // cg
    if cout % d.groups:
        node.fail(f"{cout} output channels cannot be split into {d.groups} groups")
    if x.dtype == np.float32 and w.dtype != np.int8:   # int8 weights: the hybrid path
        node.expect_dtype(w, np.float32)
        d.act = fused_float_activation(node)
        bias = node.inputs[2] if node.has_input(2) else None
        if bias is not None and bias.size != cout:
            node.fail(f"bias {bias.name!r} has {bias.size} values ({list(bias.shape)}) for {cout} output channels; "
                      "it needs one per channel")
        d.wmat = filter_matrix(w.data, d.groups) if w.data is not None else None
        if node.litert_order:
            # A hybrid op quantizes what this computes: sum as LiteRT does (see _litert_order).
            from ._litert_order import conv_float

            return conv_float
        return eval_float
    return prepare_quantized(node)


def filter_matrix(filt, groups):
    """[groups, kh*kw*cg, cout/groups] so that patches @ matrix is the convolution."""
    cout, kh, kw, cg = filt.shape
    f = filt.reshape(groups, cout // groups, kh * kw * cg)
    return np.ascontiguousarray(f.transpose(0, 2, 1))


def eval_float(node, inputs, outputs):
    data = node.data
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    out = outputs[0]
    wmat = data.wmat if data.wmat is not None else filter_matrix(w, data.groups)
    cols = im2col(x, data.geometry)
    cout = out.shape[-1]
    res = out.reshape(-1, cout)
    matmul = node.matmul()
    if data.groups == 1:
        matmul(cols, wmat[0], out=res)
    else:
        g = data.groups
        cg = x.shape[-1] // g
        k = data.geometry["kh"] * data.geometry["kw"]
        grouped = cols.reshape(-1, k, g, cg)
        og = cout // g
        for i in range(g):
            res[:, i * og:(i + 1) * og] = matmul(grouped[:, :, i, :].reshape(-1, k * cg), wmat[i])
    if b is not None:
        res += b
    if data.act is not None:
        data.act(out)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid convolution needs int8 weights with a scale")
        return _prepare_hybrid_conv(node, w, b)
    _require(node, x, w, out)
    if x.dtype == np.int16:
        if w.dtype != np.int8:
            _unsupported(node, "16x8 convolution needs int8 weights")
    elif w.dtype != (np.int8 if x.dtype == np.int8 else np.uint8):
        _unsupported(node, f"weights of type {w.dtype.name} with {x.dtype.name} activations")
    cout = w.shape[0]
    d.q_x_zp = x.zero_point if x.dtype != np.int16 else 0
    # Only uint8 filters carry a zero point; int8 filters are symmetric.
    d.q_wzp = w.zero_point if x.dtype == np.uint8 else 0
    # The float64 product matrix is built at the first invoke (see _weights): where an
    # optimized kernel runs instead, loading never pays for a float64 copy of the weights.
    if x.dtype == np.int16:
        # TFLite accumulates 16x8 in int64 unless the model asks for an int32 bias.
        int32_acc = b is not None and b.dtype == np.int32 and node.options.get("quantized_bias_type") == 2
        mode = gemm_rounding(node) if int32_acc else "mbqm64"
    else:
        # LiteRT runs grouped convolutions on its reference kernel.  Its optimized uint8
        # kernel goes through ruy as int8 does (ruy flips uint8 operands to int8 and
        # adjusts the zero points), so it rounds as ruy: 1 LSB from the reference on ties.
        mode = "gemmlowp" if d.groups != 1 else gemm_rounding(node)
    _requant_params(node, x, w, b, out, cout, mode, conv_per_tensor=x.dtype == np.uint8)
    return _eval_conv


def _conv_products(node, xc, wmat):
    """[n*oh*ow, cout] exact integer sums of products (float64) of a centered input."""
    data = node.data
    cols = im2col(xc, data.geometry, 0.0)
    if data.groups == 1:
        return cols @ wmat[0]
    g = data.groups
    cg = xc.shape[-1] // g
    k = data.geometry["kh"] * data.geometry["kw"]
    grouped = cols.reshape(-1, k, g, cg)
    return np.concatenate([grouped[:, :, i, :].reshape(-1, k * cg) @ wmat[i] for i in range(g)], axis=1)


def _weights(node, w, zp=0):
    wm = node.data.q_wmat
    if wm is not None:
        return wm
    if node.inputs[1].data is None:
        return filter_matrix(w.astype(np.float64) - zp, node.data.groups)
    wm = node.cache.get("q_wmat")
    if wm is None:
        wm = node.cache["q_wmat"] = filter_matrix(w.astype(np.float64) - zp, node.data.groups)
    return wm


def _eval_conv(node, inputs, outputs):
    data = node.data
    x, w = inputs[0], inputs[1]
    xc = x.astype(np.float64) - data.q_x_zp
    acc = np.rint(_conv_products(node, xc, _weights(node, w, data.q_wzp))).astype(np.int64)
    _store(outputs[0], _requantize(node, acc), data.q_lo, data.q_hi)


def _prepare_hybrid_conv(node, w, b):
    d = node.draft(OpData)
    ws = _scales(w)
    d.q_per_channel = (len(ws) > 1 and np.any(ws != ws[0])) or d.groups != 1
    d.q_wscale = np.broadcast_to(ws, (w.shape[0],)).astype(np.float32)
    if w.data is not None:
        d.q_wmat = filter_matrix(w.data, d.groups).astype(np.float64)    # transposed as int8: one float64 pass
    d.q_bias = None if b is None else b.data
    d.q_clamp = _float_clamp(node)
    return _eval_hybrid_conv


def _eval_hybrid_conv(node, inputs, outputs):
    data = node.data
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    n = x.shape[0]
    rows = x.reshape(n, -1)
    if data.q_per_channel:
        q, sf, off = _asymmetric_quantize_rows(rows)
    else:
        q, sf, off = _symmetric_quantize_rows(rows)
        sf = (sf * data.q_wscale[0]).astype(np.float32)
    xc = (q - off[:, None]).reshape(x.shape)
    acc = np.rint(_conv_products(node, xc, _weights(node, w))).astype(np.float32)
    out = outputs[0]
    res = acc.reshape(n, -1, out.shape[-1])
    if data.q_per_channel and node.reference:
        # LiteRT's reference HybridConvPerChannel: (acc * channel scale) * image scale, rounded apart.
        res *= data.q_wscale[None, None, :]
        res *= sf[:, None, None]
    elif data.q_per_channel:
        res *= (data.q_wscale[None, :] * sf[:, None])[:, None, :]
    else:
        res *= sf[:, None, None]
    if b is not None:
        res += b
    if data.q_clamp is not None:
        np.clip(res, *data.q_clamp, out=res)
    out[...] = res.reshape(out.shape)
