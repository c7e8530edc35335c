"""Optimized BATCH_TO_SPACE_ND (any element type: it moves values): one
strided copy from the input's batches into the output's block offsets (or
into a kept buffer then its crop, where `crops` trims it), as bound calls;
the reference reshapes a transposed copy per invoke."""
from functools import partial

import numpy as np

from .. import batch_to_space_nd as reference
from .._space_batch import as_4d
from .._base import bound_kernel
from . import register


@register("BATCH_TO_SPACE_ND", when=lambda node, ref: ref is reference.eval_batch_to_space_nd)
def prepare_bound(node, reference_fn):
    return eval_bound


def _calls(node, inputs, outputs):
    d = node.data
    x, out = inputs[0], outputs[0]
    if not (out.flags.c_contiguous and x.flags.c_contiguous) or out.size == 0:
        return None
    n, h, w, c = as_4d(x.shape)
    (bh, bw), ((ct, _), (cl, _)) = d.block, d.crops
    on = n // (bh * bw)
    _, oh, ow, _ = as_4d(out.shape)
    src = x.reshape(bh, bw, on, h, w, c).transpose(2, 3, 0, 4, 1, 5)      # [on, h, bh, w, bw, c]
    if (oh, ow) == (h * bh, w * bw):
        return [partial(np.copyto, out.reshape(on, h, bh, w, bw, c), src)]
    full = np.empty((on, h * bh, w * bw, c), x.dtype)
    return [partial(np.copyto, full.reshape(on, h, bh, w, bw, c), src),
            partial(np.copyto, out.reshape(on, oh, ow, c), full[:, ct:ct + oh, cl:cl + ow])]


eval_bound = bound_kernel(_calls, reference.eval_batch_to_space_nd, "eval_bound")


