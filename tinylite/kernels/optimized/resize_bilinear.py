"""Optimized RESIZE_BILINEAR, uint8 (LiteRT's default kernel, see
kernels/resize_bilinear.py): the same float32 operations in the same order
(each corner's value times its float32 weight, the four summed in order,
plus 0.5, truncated) as bound calls into buffers kept across invokes: the
gathers move the uint8 values (the columns first, on the small input, then
each corner's whole output-width rows), the products widen them to float32
exactly, and the sum accumulates in place, without the reference's
per-corner temporaries."""
from functools import partial

import numpy as np

from .. import resize_bilinear as reference
from . import register
from ._cached import cached_calls


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
