"""MediaPipe's MaxPoolingWithArgmax2D: MAX_POOL_2D that also outputs, per
output element, where in its window the maximum was.  Float32 only.
Options: a TfLitePoolParams struct (padding, stride_width, stride_height,
filter_width, filter_height, activation).

Where the maximum was, two encodings (``INDEX_ENCODING``):
- "xnnpack" (default): what LiteRT gives, running the op through XNNPACK:
  the window position x * filter_height + y as a uint32 stored in the
  float32 tensor's bytes.  (XNNPACK takes only stride == filter and no fused
  activation; other cases keep the same encoding here.)
- "mediapipe": MediaPipe's own kernel: float32 y * filter_width + x + 0.1.
MaxUnpooling2D reads the encoding set here.

Which of equal maxima wins follows the encoding's kernel: XNNPACK scans the
window column by column and reads padded positions as the nearest input
pixel (so a padded position can win); MediaPipe scans row by row and skips
padding (a window of padding alone gives float32's lowest value, position 0).
"""
from __future__ import annotations

import numpy as np

from ._mediapipe import activation_bounds, compute_padding, struct_fields
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    geometry: tuple = None
    bounds: tuple | None = None

INDEX_ENCODING = "xnnpack"
FIELDS = ["padding", "stride_width", "stride_height", "filter_width", "filter_height", "activation"]


def prepare(node):
    d = node.draft(OpData)
    if len(node.inputs) != 1 or len(node.outputs) != 2:
        node.fail(f"expects 1 input and 2 outputs (values, indices), got {len(node.inputs)} and {len(node.outputs)}")
    x = node.inputs[0]
    for spec in (x, *node.outputs):
        node.expect_dtype(spec, np.float32)
    if len(x.shape) != 4:
        node.fail(f"expects a 4-D NHWC input, got shape {list(x.shape)}")
    o = struct_fields(node, FIELDS)
    n, h, w, c = x.shape
    sh, sw, fh, fw = o["stride_height"], o["stride_width"], o["filter_height"], o["filter_width"]
    if o["padding"] == 1:
        oh, ow = (h + sh - 1) // sh, (w + sw - 1) // sw
    else:
        oh, ow = (h - fh + sh) // sh, (w - fw + sw) // sw
    if oh <= 0 or ow <= 0:
        node.fail(f"a {fh}x{fw} VALID window does not fit the {h}x{w} input")
    d.geometry = (sh, sw, fh, fw, compute_padding(sh, h, fh, oh), compute_padding(sw, w, fw, ow))
    d.bounds = activation_bounds(node, o["activation"])
    for out in node.outputs:
        out.shape = (n, oh, ow, c)
    return eval_max_pool_argmax


def eval_max_pool_argmax(node, inputs, outputs):
    data = node.data
    if INDEX_ENCODING == "mediapipe":
        best, where = _pool_mediapipe(node, inputs[0])
    else:
        best, where = _pool_xnnpack(node, inputs[0])
    values, indices = outputs
    if data.bounds is not None:
        np.clip(best, *data.bounds, out=best)
    values[...] = best
    if INDEX_ENCODING == "mediapipe":
        indices[...] = where.astype(np.float32) + np.float32(0.1)
    else:
        indices.view(np.uint32)[...] = where


def _pool_mediapipe(node, x):
    """Row-major window scan, padding excluded: MediaPipe's kernel."""
    sh, sw, fh, fw, pt, pl = node.data.geometry
    n, h, w, c = x.shape
    _, oh, ow, _ = node.outputs[0].shape
    padded = np.full((n, max(h + pt, (oh - 1) * sh + fh), max(w + pl, (ow - 1) * sw + fw), c), np.nan, np.float32)
    padded[:, pt:pt + h, pl:pl + w] = x
    best = np.full((n, oh, ow, c), np.finfo(np.float32).min, np.float32)
    where = np.zeros((n, oh, ow, c), np.int64)
    for fy in range(fh):
        for fx in range(fw):
            cur = padded[:, fy:fy + (oh - 1) * sh + 1:sh, fx:fx + (ow - 1) * sw + 1:sw]
            better = cur > best          # NaN (padding or input) never wins, as in the C++ loop
            best = np.where(better, cur, best)
            where = np.where(better, fy * fw + fx, where)
    return best, where


def _pool_xnnpack(node, x):
    """XNNPACK's argmax pooling: padded positions read the nearest input pixel
    (its indirection buffer clamps coordinates), the window is scanned column
    by column (position x * filter_height + y) and the first strict maximum wins."""
    sh, sw, fh, fw, pt, pl = node.data.geometry
    n, h, w, c = x.shape
    _, oh, ow, _ = node.outputs[0].shape
    best = where = None
    for fx in range(fw):
        cols = np.clip(np.arange(ow) * sw - pl + fx, 0, w - 1)
        for fy in range(fh):
            rows = np.clip(np.arange(oh) * sh - pt + fy, 0, h - 1)
            cur = x[:, rows][:, :, cols]
            if best is None:
                best, where = cur.copy(), np.zeros(cur.shape, np.int64)
                continue
            better = cur > best
            best = np.where(better, cur, best)
            where = np.where(better, fx * fh + fy, where)
    return best, where
