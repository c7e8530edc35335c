"""SPACE_TO_DEPTH: move each block_size x block_size spatial block (NHWC) into
the channels, row of the block major, then column, then input channel."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SPACE_TO_DEPTH's prepare computes for eval."""

    block: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) != 4:
        node.fail(f"expects a 4-D NHWC input, got {list(x.shape)}")
    b = d.block = node.options.get("block_size", 0)
    n, h, w, c = x.shape
    if b <= 0 or h % b or w % b:
        node.fail(f"block_size {b} must be positive and divide height {h} and width {w}")
    node.outputs[0].shape = (n, h // b, w // b, c * b * b)
    if not _layout.movable(node, [x]):
        return _layout.quantized_fallback(node)
    return eval_space_to_depth


def eval_space_to_depth(node, inputs, outputs):
    x, b = inputs[0], node.data.block
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
    np.copyto(outputs[0], blocks.reshape(outputs[0].shape))
