"""Optimized SPACE_TO_BATCH_ND (any element type: it moves values): the
padded buffer kept across invokes with its border set once, the input
copied into its interior, and one strided copy of its tiles into the
output, as bound calls (the reference fills a new padded array and
reshapes a transposed copy per invoke: 7 of tfls_dilated_conv's 16 us)."""
from functools import partial

import numpy as np

from .. import space_to_batch_nd as reference
from .._space_batch import as_4d
from .._base import bound_kernel
from . import register


@register("SPACE_TO_BATCH_ND", when=lambda node, ref: ref is reference.eval_space_to_batch_nd)
def prepare_bound(node, reference_fn):
    return eval_bound


def _calls(node, inputs, outputs):
    d = node.data
    x, out = inputs[0], outputs[0]
    if not (out.flags.c_contiguous and x.flags.c_contiguous) or out.size == 0:
        return None
    n, h, w, c = as_4d(x.shape)
    (bh, bw), ((pt, pb), (pl, pr)) = d.block, d.pads
    oh, ow = (h + pt + pb) // bh, (w + pl + pr) // bw
    x4 = x.reshape(n, h, w, c)
    if pt or pb or pl or pr:
        padded = np.full((n, h + pt + pb, w + pl + pr, c), d.pad_value, x.dtype)
        calls = [partial(np.copyto, padded[:, pt:pt + h, pl:pl + w], x4)]
    else:
        padded, calls = x4, []
    tiles = padded.reshape(n, oh, bh, ow, bw, c).transpose(2, 4, 0, 1, 3, 5)
    return calls + [partial(np.copyto, out.reshape(bh, bw, n, oh, ow, c), tiles)]


eval_bound = bound_kernel(_calls, reference.eval_space_to_batch_nd, "eval_bound")


