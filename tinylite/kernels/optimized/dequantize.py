"""Optimized DEQUANTIZE (int8/uint8, per tensor): LiteRT's optimized
split (see kernels/dequantize.py) as bound calls without temporaries: the
blocks of 8 are float32(x) * scale + offset in float32, two passes writing
the output in place (the same two float32 roundings as the reference); the
tail (fewer than 8 elements) runs the reference's formula on its slice."""
from functools import partial

import numpy as np

from .. import dequantize as reference
from . import register
from ._cached import cached_calls


@register("DEQUANTIZE", dtypes=(np.int8, np.uint8),
          when=lambda node, ref: ref is reference.eval_affine_simd)
def prepare_fast(node, reference_fn):
    return eval_fast


class _Buffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        xf, res = x.reshape(-1), out.reshape(-1)
        simd = len(xf) // 8 * 8
        self.calls = []
        if simd:
            self.calls = [partial(np.multiply, xf[:simd], node.data.scale32, out=res[:simd], dtype=np.float32),
                          partial(np.add, res[:simd], node.data.offset32, out=res[:simd])]
        if simd < len(xf):
            self.calls.append(partial(reference.eval_affine, node, [xf[simd:]], [res[simd:]]))


eval_fast = cached_calls("opt_dequantize_bufs", _Buffers, "eval_fast")
