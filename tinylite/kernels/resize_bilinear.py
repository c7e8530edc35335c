"""RESIZE_BILINEAR of an NHWC tensor to the (height, width) of the size input,
with TFLite's float32 source coordinates (`align_corners`, `half_pixel_centers`)
and its four-corner weights.

Quantized tensors keep the input's quantization (nothing is requantized):
- uint8 follows LiteRT's default kernel: float32 corner weights, the four
  products summed in the order (y0,x0), (y0,x1), (y1,x0), (y1,x1), plus 0.5,
  truncated.  (Its 8x upscaling shortcut computes the same values in 8.8 fixed
  point: every weight is then a multiple of 1/256, so the float sums are exact
  too.)  LiteRT's reference resolver (OpResolverType.BUILTIN_REF) multiplies
  each corner by its y weight then its x weight and sums in another order
  (eval_uint8_reference): one apart on ties.
- int8 and int16 use LiteRT's integer kernel (both resolvers): source positions
  in 1/1024 units, products in int64, rounded half away from zero at 2**20.
"""
from __future__ import annotations

import numpy as np

from ._window import resize_scale, resize_size
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RESIZE_BILINEAR's prepare computes for eval."""

    rows: tuple = None
    cols: tuple = None
    weights: list = None
    factors: tuple = None


def prepare(node):
    d = node.draft(OpData)
    oh, ow = resize_size(node)
    x = node.inputs[0]
    align, half = bool(node.options.get("align_corners")), bool(node.options.get("half_pixel_centers"))
    if align and half:
        node.fail("half_pixel_centers and align_corners cannot both be true")
    n, h, w, c = x.shape
    node.outputs[0].shape = (n, oh, ow, c)
    if x.dtype != node.outputs[0].dtype:
        node.fail(f"output type {node.outputs[0].dtype.name} differs from input type {x.dtype.name}")
    node.expect_dtype(x, np.float32, np.uint8, np.int8, np.int16)
    if x.dtype == np.uint8:
        return _prepare_uint8(node, h, w, oh, ow, align, half)
    if x.dtype != np.float32:
        return _prepare_integer(node, h, w, oh, ow, align, half)
    y0, y1, fy = source_coords(h, oh, align, half)
    x0, x1, fx = source_coords(w, ow, align, half)
    d.rows = (y0, y1)
    d.cols = (x0, x1)
    one = np.float32(1)
    # Corner weights in the order TFLite accumulates them: (y0,x0), (y0,x1), (y1,x0), (y1,x1).
    d.weights = [(wy[:, None] * wx[None, :])[:, :, None]
                    for wy in (one - fy, fy) for wx in (one - fx, fx)]
    return eval_float


def source_coords(in_size, out_size, align_corners, half_pixel_centers):
    """Lower and upper source index and the float32 fraction between them, per output index."""
    scale = resize_scale(in_size, out_size, align_corners)
    v = np.arange(out_size, dtype=np.float32)
    pos = (v + np.float32(0.5)) * scale - np.float32(0.5) if half_pixel_centers else v * scale
    lower = np.minimum(np.maximum(np.floor(pos), 0), in_size - 1).astype(np.intp)
    upper = np.minimum(np.ceil(pos), in_size - 1).astype(np.intp)
    return lower, upper, (pos - lower.astype(np.float32)).astype(np.float32)


def eval_float(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    tmp = np.empty_like(out)
    weights = iter(data.weights)
    for i, r in enumerate(data.rows):
        rows = x[:, r]
        for j, c in enumerate(data.cols):
            if i == j == 0:
                np.multiply(rows[:, :, c], next(weights), out=out)
            else:
                np.multiply(rows[:, :, c], next(weights), out=tmp)
                out += tmp


def _prepare_uint8(node, h, w, oh, ow, align, half):
    d = node.draft(OpData)
    y0, y1, fy = source_coords(h, oh, align, half)
    x0, x1, fx = source_coords(w, ow, align, half)
    d.rows, d.cols = (y0, y1), (x0, x1)
    one = np.float32(1)
    # float32 products, as LiteRT's scale[4] array holds them.
    d.weights = [(wy[:, None] * wx[None, :])[:, :, None]
                    for wy in (one - fy, fy) for wx in (one - fx, fx)]
    if node.reference:
        d.factors = (one - fy, fy), (one - fx, fx)
        return eval_uint8_reference
    return eval_uint8


def eval_uint8(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    acc = None
    weights = iter(data.weights)
    for r in data.rows:
        rows = x[:, r].astype(np.float32)
        for c in data.cols:
            term = rows[:, :, c] * next(weights)
            acc = term if acc is None else acc + term
    acc += np.float32(0.5)
    out[...] = acc.astype(np.uint8)     # truncation; the sum lies in [0.5, 255.5]


def eval_uint8_reference(node, inputs, outputs):
    """LiteRT's reference kernel: each corner's value times its y weight, then its
    x weight, in float32, summed in the order (y0,x0), (y1,x0), (y0,x1), (y1,x1)."""
    data = node.data
    x, out = inputs[0], outputs[0]
    (wy0, wy1), (wx0, wx1) = data.factors
    acc = None
    for c, wx in zip(data.cols, (wx0, wx1)):
        for r, wy in zip(data.rows, (wy0, wy1)):
            term = x[:, r][:, :, c].astype(np.float32) * wy[None, :, None, None] * wx[None, None, :, None]
            acc = term if acc is None else acc + term
    acc += np.float32(0.5)
    out[...] = acc.astype(np.uint8)


def _integer_coords(in_size, out_size, align, half):
    """Source position in 1/1024 units and the lower/upper source index, as LiteRT's
    ComputeInterpolationValuesInteger gives them (C division truncates toward zero)."""
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64)
    pos = v * scale + scale // 2 - (1 << 9) if half else v * scale
    lower = np.maximum(np.trunc(pos / 1024).astype(np.int64), 0)
    upper = np.minimum(np.trunc((pos + 1023) / 1024).astype(np.int64), in_size - 1)
    return pos, lower, upper


def _prepare_integer(node, h, w, oh, ow, align, half):
    d = node.draft(OpData)
    py, y0, y1 = _integer_coords(h, oh, align, half)
    px, x0, x1 = _integer_coords(w, ow, align, half)
    dy, dx = py - 1024 * y0, px - 1024 * x0
    d.rows, d.cols = (y0, y1), (x0, x1)
    d.weights = [(wy[:, None] * wx[None, :])[:, :, None]
                    for wy in (1024 - dy, dy) for wx in (1024 - dx, dx)]
    return eval_integer


def eval_integer(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    acc = None
    weights = iter(data.weights)
    for r in data.rows:
        rows = x[:, r].astype(np.int64)
        for c in data.cols:
            term = rows[:, :, c] * next(weights)
            acc = term if acc is None else acc + term
    # (acc + round) / 2**20 with C's truncating division: half away from zero.
    half = np.where(acc > 0, 1 << 19, -(1 << 19))
    q = acc + half
    res = np.where(q >= 0, q >> 20, -((-q) >> 20))
    out[...] = res.astype(out.dtype)
