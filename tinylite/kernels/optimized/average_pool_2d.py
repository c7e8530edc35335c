"""Optimized AVERAGE_POOL_2D.  float32: a global pool (one window over the
whole map) as one einsum; otherwise the tap views of the (padded) input
built once per input array, the same sums in the same order as the
reference, so the same values."""
from functools import partial

import numpy as np

from .. import average_pool_2d as reference
from .._pool import PaddedInput, window_slices
from . import register
from ._cached import cached_calls
from .._base import op_data


@op_data
class OpData(reference.OpData):
    """The reference AVERAGE_POOL_2D's op data and what this module's kernels add."""

    opt_avg_table: np.ndarray = None     # the integer kernels' output per window sum (uniform windows)
    opt_avg_offset: int = None           # window sum + offset = table index


def _global(node, ref) -> bool:
    """Whether each output's window is the whole input (a global average pool: output 1x1, no
    padded tap counted)."""
    if ref is not reference.eval_float:
        return False
    n, h, w, c = node.inputs[0].shape
    g = node.data.geometry
    return (g["oh"], g["ow"]) == (1, 1) and h * w > 0 and c > 1 and bool((node.data.count == h * w).all())


@register("AVERAGE_POOL_2D", dtypes=(np.float32,), when=_global)
def prepare_global(node, reference_fn):
    """The whole map's sum in one einsum, which adds the h * w pixels into each channel's sum in
    order, as the reference does with one numpy call per tap (3840 calls for pinto_meet's 48x80
    map): the same values (with one channel einsum runs another loop, so that is left to the tap
    views).  Then the reference's divide by the count and clamp."""
    return eval_global


class _GlobalCalls:
    def __init__(self, node, x, out):
        from .._base import activation_calls

        self.x, self.out, self.calls = x, out, []
        if out.size and not (x.flags.c_contiguous and out.flags.c_contiguous):
            self.calls = [partial(reference.eval_float, node, [x], [out])]     # the views would be copies
        elif out.size:
            n, h, w, c = x.shape
            self.calls = [partial(np.einsum, "nkc->nc", x.reshape(n, h * w, c), out=out.reshape(n, c)),
                          partial(np.divide, out, node.data.count.reshape(()), out=out),
                          *activation_calls(node.data.act, out)]


eval_global = cached_calls("opt_avgpool_global", _GlobalCalls, "eval_global")


@register("AVERAGE_POOL_2D", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_tap_views(node, reference_fn):
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    views = tap_views(node, inputs[0], 0.0)
    np.copyto(out, views[0])
    for view in views[1:]:
        out += view
    out /= data.count
    if data.act is not None:
        data.act(out)


class TapViews(PaddedInput):
    """The tap slices of `window_slices`, built once per input array.

    The views into the padded buffer (or into the input itself, without
    padding) stay valid as long as the input array does, so they are cached
    on the node.
    """

    def __init__(self, x, g, pad_value):
        super().__init__(x, g, pad_value)
        self.views = list(window_slices(self.padded, dict(g, pad=(0, 0, 0, 0)), pad_value))

    def refresh(self, x):
        super().refresh(x)
        return self.views


def tap_views(node, x, pad_value):
    """Current tap views for input `x` (cached per node and input array)."""
    cached = node.cache.get("taps")
    if cached is None or cached.x is not x:
        cached = node.cache["taps"] = TapViews(x, node.data.geometry, pad_value)
    return cached.refresh(x)


# --- int8 / uint8 (and int16: the general kernel below) ---

# Largest table of averages (one entry per possible window sum): 64 KiB.
TABLE_MAX = 1 << 16


def _uniform_count(node, reference_fn):
    count = node.data.q_count
    return (reference_fn is reference._eval_average_pool and count.size > 0
            and bool(np.all(count == count.flat[0])) and int(count.flat[0]) * 255 + 1 <= TABLE_MAX)


# Registered first: where every window holds the same number of values (no padding in
# the windows: VALID, global pools), this one runs.
@register("AVERAGE_POOL_2D", dtypes=(np.int8, np.uint8), when=_uniform_count)
def prepare_int_table(node, reference_fn):
    """Every window sums `count` values, so the output depends on the sum alone:
    the reference's rounding and clamp over every sum an 8-bit window can reach
    is a table (at most 64 KiB), and an invoke is one reduction (its initial
    value shifts the sums to table indices) and one lookup: 2 calls instead of
    8 (a global pool at the end of a small model)."""
    d = node.draft(OpData)
    count = int(node.data.q_count.flat[0])
    info = np.iinfo(node.inputs[0].dtype)
    sums = np.arange(count * int(info.min), count * int(info.max) + 1, dtype=np.int64)
    res = reference.rounded_average(sums, count)
    np.clip(res, node.data.q_lo, node.data.q_hi, out=res)
    d.opt_avg_table = res.astype(node.outputs[0].dtype)
    d.opt_avg_offset = -count * int(info.min)
    return eval_int_table


class _TableBuffers:
    def __init__(self, node, x, out):
        from .._window import patches

        g = node.data.geometry
        self.x, self.out, self.calls = x, out, []
        if not out.size:
            return
        pad = PaddedInput(x, g, 0)         # zeros in a window leave its sum as it is
        windows = patches(pad.padded, dict(g, kh=g["fh"], kw=g["fw"], dh=1, dw=1))     # [n, oh, ow, fh, fw, c]
        idx = np.empty(out.shape, np.intp)
        self.calls = [] if pad.interior is None else [partial(np.copyto, pad.interior, x)]
        self.calls += [partial(np.add.reduce, windows, axis=(3, 4), dtype=np.intp, out=idx,
                              initial=node.data.opt_avg_offset),
                      partial(np.take, node.data.opt_avg_table, idx, out=out, mode="clip")]


eval_int_table = cached_calls("opt_avgpool_table", _TableBuffers, "eval_int_table")


@register("AVERAGE_POOL_2D", dtypes=(np.int8, np.uint8, np.int16),
          when=lambda node, ref: ref is reference._eval_average_pool)
def prepare_int(node, reference_fn):
    """The window sums as one int64 reduction over a strided view of the zero-padded
    input (exact, so any order), then the reference's rounding: C division of
    sum +- count/2, that is sign(sum) * ((|sum| + count // 2) // count), and the clamp."""
    return eval_int


class _IntBuffers:
    def __init__(self, node, x, out):
        from numpy._core.umath import clip
        from .._window import patches

        g = node.data.geometry
        self.x, self.out, self.calls = x, out, []
        if not out.size:
            return
        pad = PaddedInput(x, g, 0)
        n, h, w, c = pad.padded.shape
        kg = dict(g, kh=g["fh"], kw=g["fw"], dh=1, dw=1)
        windows = patches(pad.padded, kg)                     # [n, oh, ow, fh, fw, c]
        acc = np.empty(out.shape, np.int64)
        t = np.empty(out.shape, np.int64)
        sign = np.empty(out.shape, np.int64)
        count = np.ascontiguousarray(node.data.q_count)
        calls = [] if pad.interior is None else [partial(np.copyto, pad.interior, x)]
        calls += [partial(np.add.reduce, windows, axis=(3, 4), dtype=np.int64, out=acc),
                  partial(np.sign, acc, out=sign), partial(np.abs, acc, out=t),
                  partial(np.add, t, count // 2, out=t), partial(np.floor_divide, t, count, out=t),
                  partial(np.multiply, t, sign, out=t),
                  partial(clip, t, np.int64(node.data.q_lo), np.int64(node.data.q_hi), out=t),
                  partial(np.copyto, out, t, casting="unsafe")]
        self.calls = calls


eval_int = cached_calls("opt_avgpool_int", _IntBuffers, "eval_int")
