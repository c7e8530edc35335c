"""BATCH_TO_SPACE_ND: the inverse of SPACE_TO_BATCH_ND.  Input batch index
(offset_h * block_w + offset_w) * batch + b goes to the block offsets of the
spatial dimensions (H, and W for 4-D inputs), then `crops` trims them."""
from __future__ import annotations

import numpy as np

from ._space_batch import as_4d, prepare_common
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What BATCH_TO_SPACE_ND's prepare computes for eval."""

    block: list = None
    crops: list = None


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    block, crops = prepare_common(node, "crops")
    if any(p < 0 for pair in crops for p in pair):
        node.fail(f"crops {crops} must not be negative")
    total = int(np.prod(block))
    if x.shape[0] % total:
        node.fail(f"input batch {x.shape[0]} is not a multiple of the block size {total} ({block})")
    out_shape = [x.shape[0] // total]
    for d, (b, (lo, hi)) in enumerate(zip(block, crops)):
        size = x.shape[d + 1] * b - lo - hi
        if size < 0:
            node.fail(f"crops {[lo, hi]} remove more than dimension {d + 1}'s {x.shape[d + 1] * b} elements")
        out_shape.append(size)
    out_shape.append(x.shape[-1])
    node.outputs[0].shape = tuple(out_shape)
    od.block = block + [1] * (2 - len(block))
    od.crops = crops + [[0, 0]] * (2 - len(crops))
    return eval_batch_to_space_nd


def eval_batch_to_space_nd(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    n, h, w, c = as_4d(x.shape)
    (bh, bw), ((ct, _), (cl, _)) = data.block, data.crops
    on = n // (bh * bw)
    full = x.reshape(bh, bw, on, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(on, h * bh, w * bw, c)
    _, oh, ow, _ = as_4d(out.shape)
    out[...] = full[:, ct:ct + oh, cl:cl + ow].reshape(out.shape)
