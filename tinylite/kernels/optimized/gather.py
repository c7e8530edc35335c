"""Optimized GATHER without batch dimensions: one bound np.take into the
output (the reference checks the bounds with two reductions, builds an index
grid, fancy-indexes a temporary and copies it: 10 us for an embedding
lookup of 256 rows, against 3 us).

The bounds still hold: the indices are read as unsigned integers, so a
negative index becomes one of at least 2**31 (2**15 for int16, taken only
for tables of at most 2**15 rows) and np.take's own check rejects it with
the too-large ones; the reference kernel then runs to raise its message."""
import numpy as np

from .. import gather as reference
from .._base import bound_kernel
from . import register


def _applies(node, ref) -> bool:
    if ref is not reference.eval_gather:
        return False
    b, outer, n, inner = node.data.x_view
    idx = node.inputs[1]
    return (b == 1 and node.inputs[0].dtype != np.object_
            and (idx.dtype == np.int32 or (idx.dtype == np.int16 and n <= 1 << 15)))


@register("GATHER", when=_applies)
def prepare_take(node, reference_fn):
    return eval_take


def _calls(node, inputs, outputs):
    if not all(a.flags.c_contiguous for a in (inputs[0], inputs[1], outputs[0])):
        return None         # the views below would be copies
    _, outer, n, inner = node.data.x_view
    k = node.data.i_view[1]
    idx = inputs[1].reshape(-1).view(np.uint32 if inputs[1].dtype == np.int32 else np.uint16)
    if outer == 1:
        x, out, axis = inputs[0].reshape(n, inner), outputs[0].reshape(k, inner), 0
    else:
        x, out, axis = inputs[0].reshape(outer, n, inner), outputs[0].reshape(outer, k, inner), 1
    take = np.take

    def gather():
        try:
            take(x, idx, axis, out)
        except IndexError:
            reference.eval_gather(node, inputs, outputs)   # raises its "index out of bounds" error
            raise
    return [gather]


eval_take = bound_kernel(_calls, reference.eval_gather, "eval_take")


