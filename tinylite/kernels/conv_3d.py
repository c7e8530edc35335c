"""CONV_3D: 3-D convolution of an NDHWC float32 input with a filter
[kd, kh, kw, cin, cout] (cin may divide the input depth: grouped), optional
bias, strides, dilations, SAME/VALID padding (extra padding after, as
TFLite), then the fused activation."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import activation_name, conv_output_size, conv_padding, float_activation, op_data, OpDataBase, padding_name


@op_data
class OpData(OpDataBase):
    """What CONV_3D's prepare computes for eval."""

    conv: tuple = None
    act: Callable | None = None


def prepare(node):
    od = node.draft(OpData)
    x, w = node.inputs[0], node.inputs[1]
    if len(x.shape) != 5 or len(w.shape) != 5:
        node.fail(f"expects a 5-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    for spec in (x, w, node.outputs[0]):
        node.expect_dtype(spec, np.float32)
    n, d, h, wd, cin = x.shape
    kd, kh, kw, cg, cout = w.shape
    if cin != cg:
        node.fail(f"input depth {cin} differs from the filter's {cg}")
    b = node.inputs[2] if node.has_input(2) else None
    if b is not None and b.size != cout:
        node.fail(f"bias has {b.size} elements, expected {cout}")
    o = node.options
    strides = [o.get("stride_d", 1), o.get("stride_h", 1), o.get("stride_w", 1)]
    dil = [o.get("dilation_d_factor", 1), o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)]
    if min(strides + dil) < 1:
        node.fail(f"strides {strides} and dilations {dil} must be positive")
    pad = padding_name(node)
    outs, pads = [], []
    for size, k, s, dl in zip((d, h, wd), (kd, kh, kw), strides, dil):
        osz = conv_output_size(size, k, s, dl, pad)
        outs.append(osz)
        pads.append(conv_padding(size, k, s, dl, osz) if pad == "SAME" else (0, 0))
    node.outputs[0].shape = (n, *outs, cout)
    od.conv = (strides, dil, outs, pads)
    od.act = float_activation(activation_name(node))
    return eval_conv_3d


def eval_conv_3d(node, inputs, outputs):
    data = node.data
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    out = outputs[0]
    strides, dil, outs, pads = data.conv
    kd, kh, kw, cin, cout = w.shape
    xp = np.pad(x, ((0, 0), *[(lo, hi) for lo, hi in pads], (0, 0)))
    acc = np.zeros((x.shape[0], *outs, cout), np.float32)
    od, oh, ow = outs
    (sd, sh, sw), (dd, dh, dw) = strides, dil
    for i in range(kd):
        for j in range(kh):
            for k in range(kw):
                tap = xp[:, i * dd:i * dd + (od - 1) * sd + 1:sd, j * dh:j * dh + (oh - 1) * sh + 1:sh,
                         k * dw:k * dw + (ow - 1) * sw + 1:sw, :]
                acc += tap @ w[i, j, k]
    if b is not None:
        acc += b
    out[...] = acc
    if data.act is not None:
        data.act(out)
