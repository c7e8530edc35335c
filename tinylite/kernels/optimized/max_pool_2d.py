"""Optimized MAX_POOL_2D (float32, int8, uint8, int16): the window maximum as a
maximum over the window's rows, then over its columns, with buffers kept
across invokes.  Exact: max is associative, so the values are the
reference's (integers: padding holds the type's minimum, and the fused
activation's clamp follows)."""
from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import max_pool_2d as reference
from .._base import activation_calls, binds
from .._pool import PaddedInput
from . import register
from ._cached import cached_calls


@register("MAX_POOL_2D", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_separable(node, reference_fn):
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    if out.size:
        separable_max(node, inputs[0], out)
    if data.act is not None:
        data.act(out)


@binds(eval_float_fast)
def _bind_fast(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    calls = []
    if out.size:
        sepmax = node.cache["sepmax"] = SeparableMax(x, data.geometry)
        calls = sepmax.calls(x, out)
    return calls + activation_calls(data.act, out)


class SeparableMax:
    """Window maximum as a maximum over the window's rows, then over its columns
    (exact: max is associative).  A 2x2 window is then two vectorized passes
    instead of four, a 3x3 one six instead of nine, and the first pass runs
    along whole input rows.  Buffers and views are built once per input array.
    """

    def __init__(self, x, g, pad_value=-np.inf):
        self.pad = PaddedInput(x, g, pad_value)
        self.x = x
        xp = self.pad.padded
        n, _, wp, c = xp.shape
        oh, ow, sh, sw = g["oh"], g["ow"], g["sh"], g["sw"]
        rows, cols = (oh - 1) * sh + 1 if oh else 0, (ow - 1) * sw + 1 if ow else 0
        self.row_taps = [xp[:, i:i + rows:sh] for i in range(g["fh"])]
        self.rowmax = self.row_taps[0] if g["fh"] == 1 else np.empty((n, oh, wp, c), x.dtype)
        self.col_taps = [self.rowmax[:, :, j:j + cols:sw] for j in range(g["fw"])]

    def run(self, x, out):
        cached = self.__dict__.get("bound")
        if cached is None or cached[0] is not out:
            cached = self.bound = (out, self.calls(x, out))
        for call in cached[1]:
            call()

    def calls(self, x, out) -> list:
        """run(x, out) as zero-argument calls (see kernels._base.binds)."""
        calls = [] if self.pad.interior is None else [partial(np.copyto, self.pad.interior, x)]
        for taps, acc in ((self.row_taps, self.rowmax), (self.col_taps, out)):
            if len(taps) == 1:
                if taps[0] is not acc:
                    calls.append(partial(np.copyto, acc, taps[0]))
                continue
            calls.append(partial(np.maximum, taps[0], taps[1], out=acc))
            calls += [partial(np.maximum, acc, t, out=acc) for t in taps[2:]]
        return calls


def separable_max(node, x, out):
    """Write the window maximum of `x` into `out` (buffers cached per node and input array)."""
    cached = node.cache.get("sepmax")
    if cached is None or cached.x is not x:
        cached = node.cache["sepmax"] = SeparableMax(x, node.data.geometry)
    cached.run(x, out)


# --- int8 / uint8 / int16 ---

@register("MAX_POOL_2D", dtypes=(np.int8, np.uint8, np.int16), when=lambda node, ref: ref is reference._eval_max_pool)
def prepare_int(node, reference_fn):
    return eval_int


class _IntBuffers:
    def __init__(self, node, x, out):
        self.x, self.out, self.calls = x, out, []
        if not out.size:
            return
        info = np.iinfo(out.dtype)
        self.calls = SeparableMax(x, node.data.geometry, info.min).calls(x, out)
        if node.data.q_lo > info.min or node.data.q_hi < info.max:
            self.calls.append(partial(_clip, out, out.dtype.type(node.data.q_lo), out.dtype.type(node.data.q_hi), out=out))


eval_int = cached_calls("opt_maxpool_int", _IntBuffers, "eval_int")
