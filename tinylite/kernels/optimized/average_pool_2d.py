"""Optimized AVERAGE_POOL_2D (float32): the tap views of the (padded) input
built once per input array; the same sums in the same order as the
reference, so the same values."""
import numpy as np

from .. import average_pool_2d as reference
from .._pool import PaddedInput, window_slices
from . import register


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
