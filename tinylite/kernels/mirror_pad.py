"""MIRROR_PAD: pad with a mirror image of the input, REFLECT (edge not repeated)
or SYMMETRIC (edge repeated)."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What MIRROR_PAD's prepare computes for eval."""

    mode: str = None
    pairs: list = None

_MODES = {0: ("reflect", 1), 1: ("symmetric", 0)}   # MirrorPadMode code -> numpy mode, edge offset


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    mode = node.options.get("mode", 0)
    if mode not in _MODES:
        node.fail(f"unknown mirror pad mode {mode}")
    od.mode, offset = _MODES[mode]
    pairs = _layout.paddings(node, 1, len(x.shape))
    for k, (d, (b, a)) in enumerate(zip(x.shape, pairs)):
        if max(b, a) > d - offset:
            node.fail(f"paddings {(b, a)} of dimension {k} (size {d}) exceed {d - offset}, the most "
                      f"{od.mode.upper()} mode can mirror")
    od.pairs = pairs
    node.outputs[0].shape = tuple(d + b + a for d, (b, a) in zip(x.shape, pairs))
    if not _layout.movable(node, [x], dtypes=_layout.MOVABLE + _layout.WIDE):
        return _layout.quantized_fallback(node)
    return eval_mirror_pad


def eval_mirror_pad(node, inputs, outputs):
    data = node.data
    x = inputs[0]
    if x.size == 0:
        return
    np.copyto(outputs[0], np.pad(x, data.pairs, mode=data.mode))
