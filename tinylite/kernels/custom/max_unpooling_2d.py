"""MediaPipe's MaxUnpooling2D: the inverse of MaxPoolingWithArgmax2D.  Each
input value goes to the window position its index names (in the encoding of
max_pooling_with_argmax_2d.INDEX_ENCODING: by default XNNPACK's, a uint32
x * filter_height + y in the float32's bytes, which LiteRT uses; or
MediaPipe's int(index) = y * filter_width + x); every other output element is 0.  Inputs: values and
indices, both float32 [n, h, w, c]; output [n, h * filter_height,
w * filter_width, c].  Options: a TfLitePoolParams struct.  Indices pointing
outside the output are skipped; where two inputs land on one element the
later (row-major) one wins.
"""
from __future__ import annotations

import numpy as np

from ._mediapipe import compute_padding, struct_fields
from . import max_pooling_with_argmax_2d as pooling
from .max_pooling_with_argmax_2d import FIELDS
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    geometry: tuple = None


def prepare(node):
    d = node.draft(OpData)
    if len(node.inputs) != 2 or len(node.outputs) != 1:
        node.fail(f"expects 2 inputs (values, indices) and 1 output, got {len(node.inputs)} and {len(node.outputs)}")
    x, idx = node.inputs
    for spec in (x, idx, node.outputs[0]):
        node.expect_dtype(spec, np.float32)
    if len(x.shape) != 4 or tuple(idx.shape) != tuple(x.shape):
        node.fail(f"expects 4-D values and indices of one shape, got {list(x.shape)} and {list(idx.shape)}")
    o = struct_fields(node, FIELDS)
    n, h, w, c = x.shape
    sh, sw, fh, fw = o["stride_height"], o["stride_width"], o["filter_height"], o["filter_width"]
    oh, ow = h * fh, w * fw
    d.geometry = (sh, sw, fh, fw, compute_padding(sh, oh, fh, h), compute_padding(sw, ow, fw, w))
    node.outputs[0].shape = (n, oh, ow, c)
    return eval_max_unpooling


def eval_max_unpooling(node, inputs, outputs):
    x, idx = inputs
    out = outputs[0]
    sh, sw, fh, fw, pt, pl = node.data.geometry
    n, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    if pooling.INDEX_ENCODING == "mediapipe":
        k = np.trunc(idx).astype(np.int64)         # C's float -> int conversion
        # C++ % and / truncate toward zero (negative indices stay negative).
        mx = np.fmod(k, fw)
        my = np.where(k >= 0, k // fw, -((-k) // fw))
    else:
        k = idx.view(np.uint32).astype(np.int64)
        mx, my = k // fh, k % fh
    oy = np.arange(h)[None, :, None, None] * sh - pt + my
    ox = np.arange(w)[None, None, :, None] * sw - pl + mx
    ok = (ox >= 0) & (ox < ow) & (oy >= 0) & (oy < oh)
    b = np.broadcast_to(np.arange(n)[:, None, None, None], x.shape)
    ch = np.broadcast_to(np.arange(c)[None, None, None, :], x.shape)
    out.fill(0)
    # Fancy assignment keeps the last write for repeated targets, as the C++ loop order does.
    out[b[ok], oy[ok], ox[ok], ch[ok]] = x[ok]
