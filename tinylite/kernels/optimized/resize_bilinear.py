"""Optimized RESIZE_BILINEAR, uint8 (LiteRT's default kernel, see
kernels/resize_bilinear.py): the same float32 operations in the same order
(each corner's value times its float32 weight, the four summed in order,
plus 0.5, truncated) as bound calls into buffers kept across invokes: the
gathers move the uint8 values (the columns first, on the small input, then
each corner's whole output-width rows), the products widen them to float32
exactly, and the sum accumulates in place, without the reference's
per-corner temporaries.  float32: separable, see prepare_float."""
from functools import partial

import numpy as np

from .. import resize_bilinear as reference
from . import register
from ._cached import cached_calls
from .._base import op_data


@op_data
class OpData(reference.OpData):
    """The reference RESIZE_BILINEAR's op data and the float kernel's per-axis factors."""

    opt_resize_factors: tuple = None


@register("RESIZE_BILINEAR", dtypes=(np.uint8,), when=lambda node, ref: ref is reference.eval_uint8)
def prepare_uint8(node, reference_fn):
    return eval_uint8


class _Buffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        n, h, w, c = x.shape
        _, oh, ow, _ = out.shape
        # Gathers move bytes (the input's uint8), products widen them to float32 exactly:
        # columns gathered first on the small input, then each corner's whole output-width rows.
        by_cols = [np.empty((n, h, ow, c), np.uint8) for _ in node.data.cols]
        gathered = np.empty(out.shape, np.uint8)
        acc = np.empty(out.shape, np.float32)
        term = np.empty(out.shape, np.float32)
        calls = [partial(np.take, x, col, axis=2, out=b) for col, b in zip(node.data.cols, by_cols)]
        weights = iter(node.data.weights)
        first = True
        for r in node.data.rows:
            for b in by_cols:
                dst = acc if first else term
                calls += [partial(np.take, b, r, axis=1, out=gathered),
                          partial(np.multiply, gathered, next(weights), out=dst, dtype=np.float32)]
                if not first:
                    calls.append(partial(np.add, acc, term, out=acc))
                first = False
        # The sum lies in [0.5, 255.5]: truncation is the cast.
        self.calls = calls + [partial(np.add, acc, np.float32(0.5), out=acc),
                              partial(np.copyto, out, acc, casting="unsafe")]


eval_uint8 = cached_calls("opt_resize_bufs", _Buffers, "eval_uint8")


# --- float32 ---

@register("RESIZE_BILINEAR", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_float(node, reference_fn):
    """Separable: the two corners of each output column blended on the input's rows (or the two
    rows on the input's columns, whichever pass is smaller), then the two blended rows (columns)
    of each output row (column), (wy0 * (wx0 * v00 + wx1 * v01) + wy1 * (wx0 * v10 + wx1 * v11))
    instead of the reference's four products (wy * wx) * v: within float32 rounding of it, in
    ten bound calls over buffers kept across invokes instead of four fancy-indexed temporaries
    per corner (deeplabv3's 33x33 -> 257x257 resize: about 4x faster).  A zero weight still
    multiplies its corner, so infinities and NaNs spread as in the reference."""
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    align, half = bool(node.options.get("align_corners")), bool(node.options.get("half_pixel_centers"))
    one = np.float32(1)
    factors = []
    for size, osize in ((x.shape[1], out.shape[1]), (x.shape[2], out.shape[2])):
        lower, upper, frac = reference.source_coords(size, osize, align, half)
        factors.append((lower, upper, one - frac, frac))
    d.opt_resize_factors = tuple(factors)
    return eval_float


class _FloatBuffers:
    def __init__(self, node, x, out):
        self.x, self.out, self.calls = x, out, []
        if not out.size:
            return
        n, h, w, c = x.shape
        _, oh, ow, _ = out.shape
        (y0, y1, wy0, wy1), (x0, x1, wx0, wx1) = node.data.opt_resize_factors
        rows = (1, y0, y1, wy0[:, None, None], wy1[:, None, None])
        # Column weights spread over the channels: the products then run along whole rows.
        cols = (2, x0, x1, np.repeat(wx0[:, None], c, axis=1), np.repeat(wx1[:, None], c, axis=1))
        # The first pass runs on the input's size along the other axis: pick the smaller.
        first, second = (cols, rows) if h * ow <= oh * w else (rows, cols)
        mid_shape = (n, h, ow, c) if first is cols else (n, oh, w, c)
        a, b = np.empty(mid_shape, np.float32), np.empty(mid_shape, np.float32)
        tmp = np.empty(out.shape, np.float32)
        calls = []
        for (axis, lo, hi, w0, w1), src, dst, t in ((first, x, a, b), (second, a, out, tmp)):
            # mode="clip": the indices lie in range by construction, and np.take buffers `out` in its
            # default mode="raise" (a fresh temporary and a second copy: 4x slower on 257x257x21).
            calls += [partial(np.take, src, lo, axis=axis, out=dst, mode="clip"),
                      partial(np.multiply, dst, w0, out=dst),
                      partial(np.take, src, hi, axis=axis, out=t, mode="clip"), partial(np.multiply, t, w1, out=t),
                      partial(np.add, dst, t, out=dst)]
        self.calls = calls


eval_float = cached_calls("opt_resize_float", _FloatBuffers, "eval_float")
