"""RESIZE_NEAREST_NEIGHBOR of an NHWC tensor to the (height, width) of the size
input: a pure copy (any 8-, 16- or 32-bit type, quantized ones unchanged) from
the source pixel TFLite picks."""
from __future__ import annotations

import numpy as np

from ._window import resize_scale, resize_size
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RESIZE_NEAREST_NEIGHBOR's prepare computes for eval."""

    rows: np.ndarray = None
    cols: np.ndarray = None

COPYABLE = (np.float32, np.int32, np.float16, np.int16, np.int8, np.uint8, np.bool_, np.uint16, np.uint32)


def prepare(node):
    d = node.draft(OpData)
    oh, ow = resize_size(node, minimum=0)
    x = node.inputs[0]
    node.expect_dtype(x, *COPYABLE)
    align, half = bool(node.options.get("align_corners")), bool(node.options.get("half_pixel_centers"))
    n, h, w, c = x.shape
    node.outputs[0].shape = (n, oh, ow, c)
    # LiteRT's optimized 8-bit kernel computes plain (no align/half-pixel) indices in 16.16 fixed
    # point; its reference kernel, as every other type, in float32 (sizes such as 26 -> 22 pick
    # different source pixels).
    fixed = not node.reference and x.dtype.itemsize == 1 and not align and not half
    d.rows = source_index(h, oh, align, half, fixed)
    d.cols = source_index(w, ow, align, half, fixed)
    return eval_copy


def source_index(in_size, out_size, align_corners, half_pixel_centers, fixed_point):
    out = np.arange(out_size)
    if fixed_point:
        scale = (in_size << 16) // max(out_size, 1) + 1
        return np.minimum((out * scale) >> 16, in_size - 1)
    scale = resize_scale(in_size, out_size, align_corners) if out_size else np.float32(0)
    pos = (out.astype(np.float32) + np.float32(0.5 if half_pixel_centers else 0)) * scale
    if align_corners:
        # TfLiteRound rounds halves away from zero (pos is never negative here).
        idx = np.where(pos - np.floor(pos) >= 0.5, np.ceil(pos), np.floor(pos))
    else:
        idx = np.floor(pos)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half_pixel_centers else idx


def eval_copy(node, inputs, outputs):
    data = node.data
    outputs[0][...] = inputs[0][:, data.rows][:, :, data.cols]
