"""Shared by the optimized float RELU / RELU6 / RELU_N1_TO_1 / HARD_SWISH kernels:
a clamp from an input array into an output array as bound calls, as
_base.Clamp makes them: two bounds in one pass of the clip ufunc (scalar
bounds, its SIMD loop, without np.clip's Python wrapper), one bound as
np.maximum / np.minimum with an array bound (numpy's SIMD loop for those
needs two contiguous array operands).  Same values as np.clip / np.maximum
with a scalar, NaN included (all propagate it)."""
from functools import partial

import numpy as np

from .._base import Clamp, _umath_clip


def clamp_calls(x, out, lo, hi) -> list:
    """Calls writing min(max(x, lo), hi) into `out` (lo or hi None: no bound)."""
    bound = Clamp._bound
    shape = out.shape
    if lo is not None and hi is not None:
        return [partial(_umath_clip, x, np.float32(lo), np.float32(hi), out=out)]
    if lo is None:
        return [partial(np.minimum, x, bound(np.float32(hi), shape), out=out)]
    calls = [partial(np.maximum, x, bound(np.float32(lo), shape), out=out)]
    if hi is not None:
        calls.append(partial(np.minimum, out, bound(np.float32(hi), shape), out=out))
    return calls


def contiguous(node, inputs, outputs) -> bool:
    return inputs[0].flags.c_contiguous and outputs[0].flags.c_contiguous


def clamp_kernel(lo, hi):
    """(eval, binder) of a float clamp op."""
    def eval_clamp(node, inputs, outputs):
        for call in clamp_calls(inputs[0], outputs[0], lo, hi):
            call()

    def bind(node, inputs, outputs):
        return clamp_calls(inputs[0], outputs[0], lo, hi) if contiguous(node, inputs, outputs) else None

    eval_clamp.bind = bind
    return eval_clamp
