"""SPACE_TO_BATCH_ND: pad the spatial dimensions (H, and W for 4-D inputs),
then move each block_shape tile's offsets into the batch.  Output batch index
= (offset_h * block_w + offset_w) * batch + b.  Padding is zero, or the output
zero point for quantized 8-bit tensors (int16 requires zero point 0)."""
from __future__ import annotations

import numpy as np

from ._space_batch import as_4d, prepare_common
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SPACE_TO_BATCH_ND's prepare computes for eval."""

    block: list = None
    pads: list = None
    pad_value: int = None


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    block, pads = prepare_common(node, "paddings")
    if any(p < 0 for pair in pads for p in pair):
        node.fail(f"paddings {pads} must not be negative")
    out_shape = [x.shape[0] * int(np.prod(block))]
    for d, (b, (lo, hi)) in enumerate(zip(block, pads)):
        size = x.shape[d + 1] + lo + hi
        if size % b:
            node.fail(f"padded dimension {d + 1} has size {size}, not a multiple of block_shape {b}")
        out_shape.append(size // b)
    out_shape.append(x.shape[-1])
    node.outputs[0].shape = tuple(out_shape)
    od.block = block + [1] * (2 - len(block))
    od.pads = pads + [[0, 0]] * (2 - len(pads))
    q = node.outputs[0].quantization
    od.pad_value = node.outputs[0].zero_point if x.dtype.itemsize <= 2 and q is not None else 0
    return eval_space_to_batch_nd


def eval_space_to_batch_nd(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    n, h, w, c = as_4d(x.shape)
    (bh, bw), ((pt, pb), (pl, pr)) = data.block, data.pads
    padded = np.full((n, h + pt + pb, w + pl + pr, c), data.pad_value, dtype=x.dtype)
    padded[:, pt:pt + h, pl:pl + w] = x.reshape(n, h, w, c)
    oh, ow = (h + pt + pb) // bh, (w + pl + pr) // bw
    tiles = padded.reshape(n, oh, bh, ow, bw, c).transpose(2, 4, 0, 1, 3, 5)
    out[...] = tiles.reshape(out.shape)
