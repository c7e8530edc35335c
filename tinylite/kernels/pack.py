"""PACK: stack `values_count` equal-shaped tensors along a new `axis`."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What PACK's prepare computes for eval."""

    axis: int = None


def prepare(node):
    d = node.draft(OpData)
    first = node.inputs[0]
    for s in node.inputs[1:]:
        if s.shape != first.shape or s.dtype != first.dtype:
            node.fail(f"inputs must share shape and type: {list(first.shape)} {first.dtype.name} vs "
                      f"{list(s.shape)} {s.dtype.name}")
    rank = len(first.shape) + 1
    d.axis = normalize_axis(node.options.get("axis", 0), rank, node)
    shape = list(first.shape)
    shape.insert(d.axis, len(node.inputs))
    node.outputs[0].shape = tuple(shape)
    if not _layout.movable(node, node.inputs, dtypes=_layout.MOVABLE + (np.uint32,)):
        return _layout.quantized_fallback(node)
    return eval_pack


def eval_pack(node, inputs, outputs):
    np.stack(inputs, axis=node.data.axis, out=outputs[0])
