"""TRANSPOSE: permute the dimensions as the perm input says (negative entries
count from the end)."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What TRANSPOSE's prepare computes for eval."""

    perm: tuple = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    rank = len(x.shape)
    perm = _layout.ints(node, 1)
    if len(perm) != rank:
        node.fail(f"perm has {len(perm)} entries for an input of rank {rank}")
    if any(not -rank <= p < rank for p in perm):
        node.fail(f"perm {perm} is out of range for rank {rank}")
    perm = [p + rank if p < 0 else p for p in perm]
    if sorted(perm) != list(range(rank)):
        node.fail(f"perm {perm} is not a permutation of the {rank} dimensions")
    d.perm = tuple(perm)
    node.outputs[0].shape = tuple(x.shape[p] for p in perm)
    if not _layout.movable(node, [x], dtypes=_layout.MOVABLE + _layout.WIDE + _layout.COMPLEX64):
        return _layout.quantized_fallback(node)
    return eval_transpose


def eval_transpose(node, inputs, outputs):
    np.copyto(outputs[0], inputs[0].transpose(node.data.perm))
