"""Optimized QUANTIZE, float32 -> int8/uint8/int16 per tensor: LiteRT's
optimized split (see kernels/quantize.py) as bound float32 passes.

The blocks of 8 are rint(x * (1/scale)) in float32, plus the zero point,
clamped, cast: the sum with the zero point is exact below 2**24 and beyond
that both sides of it clamp alike (rounding is monotone), so a float32
buffer replaces the reference's float64 temporaries.  The tail (fewer than
8 elements) runs the reference's formula on its slice."""
from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import quantize as reference
from . import register
from ._cached import cached_calls


@register("QUANTIZE", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_quantize and node.data.simd_block == 8)
def prepare_fast(node, reference_fn):
    return eval_fast


class _Buffers:
    def __init__(self, node, x, out):
        self.x, self.out = x, out
        xf, res = x.reshape(-1), out.reshape(-1)
        simd = len(xf) // 8 * 8
        info = np.iinfo(out.dtype)
        buf = np.empty(simd, np.float32)
        zp = np.float32(node.data.zero_point.reshape(-1)[0])
        self.calls = []
        if simd:
            self.calls = [partial(np.multiply, xf[:simd], node.data.inv_scale, out=buf),
                          partial(np.rint, buf, out=buf), partial(np.add, buf, zp, out=buf),
                          partial(_clip, buf, np.float32(info.min), np.float32(info.max), out=buf),
                          partial(np.copyto, res[:simd], buf, casting="unsafe")]
        if simd < len(xf):
            tail = node.derived(simd_block=0)
            self.calls.append(partial(reference.eval_quantize, tail, [xf[simd:]], [res[simd:]]))


eval_fast = cached_calls("opt_quantize_bufs", _Buffers, "eval_fast")
