"""Optimized HARD_SWISH.  int8/uint8: the reference's 256-entry table as one lookup by byte
(see _unary_table).  float32: the reference's operations (LiteRT's optimized
kernel's rounding: (x * 1/6) * relu6(x + 3) in blocks of 4, the scalar tail
(x * relu6(x + 3)) * 1/6) as five bound calls over whole contiguous arrays,
relu6 with array bounds (see _float_clamp), instead of np.clip with scalars
and a temporary per invoke.  Bit-exact with the reference."""
from functools import partial

import numpy as np

from .. import hard_swish as reference
from . import _unary_table, register
from ._float_clamp import clamp_calls, contiguous

SIXTH = reference.ONE_SIXTH


@register("HARD_SWISH", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_float(node, reference_fn):
    return eval_float


def _calls(node, inputs, outputs):
    x, out = inputs[0].reshape(-1), outputs[0].reshape(-1)
    n = x.size - x.size % 4
    scaled = node.cache.get("hard_swish_scaled")
    if scaled is None or scaled.shape != (n,):
        scaled = node.cache["hard_swish_scaled"] = np.empty(n, np.float32)
    calls = [partial(np.add, x, np.float32(3), out=out), *clamp_calls(out, out, 0, 6),
             partial(np.multiply, x[:n], SIXTH, out=scaled), partial(np.multiply, out[:n], scaled, out=out[:n])]
    if n < x.size:
        calls += [partial(np.multiply, out[n:], x[n:], out=out[n:]), partial(np.multiply, out[n:], SIXTH, out=out[n:])]
    return calls


def eval_float(node, inputs, outputs):
    for call in _calls(node, inputs, outputs):
        call()


def _bind(node, inputs, outputs):
    return _calls(node, inputs, outputs) if contiguous(node, inputs, outputs) else None


eval_float.bind = _bind


_unary_table.register_for("HARD_SWISH")
