"""MediaPipe's Convolution2DTransposeBias: TRANSPOSE_CONV with a bias and the
output size computed from the input (no output-shape input).  Inputs: input
[n, h, w, cin], weights [cout, kh, kw, cin], bias [cout]; float32 only.
Options: a TfLiteTransposeConvParams struct (padding, stride_width,
stride_height).

Output size per dimension: stride * (in - 1) + k - pad, where pad is 0 for
VALID and max(0, k - (in - 1) % stride - 1) for SAME; the output starts pad // 2
into the full scatter.  LiteRT runs this op only through XNNPACK, which sums
in its own order: results agree to float32 rounding.
"""
from __future__ import annotations

import numpy as np

from ._mediapipe import struct_fields
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    out_hw: tuple = None
    pads: tuple = None
    strides: tuple = None


def prepare(node):
    d = node.draft(OpData)
    if len(node.inputs) != 3 or len(node.outputs) != 1:
        node.fail(f"expects 3 inputs (input, weights, bias) and 1 output, got {len(node.inputs)} and "
                  f"{len(node.outputs)}")
    x, w, b = node.inputs
    for spec in (x, w, b, node.outputs[0]):
        node.expect_dtype(spec, np.float32)
    if len(x.shape) != 4 or len(w.shape) != 4 or len(b.shape) != 1:
        node.fail(f"expects a 4-D input, 4-D weights and a 1-D bias, got shapes {list(x.shape)}, "
                  f"{list(w.shape)} and {list(b.shape)}")
    if w.shape[3] != x.shape[3] or b.shape[0] != w.shape[0]:
        node.fail(f"input channels {x.shape[3]}, weights {list(w.shape)} and bias {list(b.shape)} do not fit")
    o = struct_fields(node, ["padding", "stride_width", "stride_height"])
    cout, kh, kw, _ = w.shape
    n, h, wd, _ = x.shape
    sh, sw = o["stride_height"], o["stride_width"]
    if o["padding"] == 1:
        ph, pw = max(0, kh - (h - 1) % sh - 1), max(0, kw - (wd - 1) % sw - 1)
    else:
        ph = pw = 0
    d.out_hw = (sh * (h - 1) + kh - ph, sw * (wd - 1) + kw - pw)
    d.pads = (ph // 2, pw // 2)
    d.strides = (sh, sw)
    node.outputs[0].shape = (n, *d.out_hw, cout)
    return eval_transpose_conv_bias


def eval_transpose_conv_bias(node, inputs, outputs):
    data = node.data
    x, w, b = inputs
    out = outputs[0]
    cout, kh, kw, cin = w.shape
    n, h, wd, _ = x.shape
    sh, sw = data.strides
    pt, pl = data.pads
    H, W = data.out_hw
    cols = (x.reshape(-1, cin) @ w.transpose(3, 1, 2, 0).reshape(cin, -1)).reshape(n, h, wd, kh, kw, cout)
    full = np.zeros((n, max((h - 1) * sh + kh, pt + H), max((wd - 1) * sw + kw, pl + W), cout), np.float32)
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw] += cols[:, :, :, i, j]
    np.add(full[:, pt:pt + H, pl:pl + W], b, out=out)
