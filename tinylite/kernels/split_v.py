"""SPLIT_V: cut input 0 along the axis (input 2) into parts of the sizes in
input 1; one size may be -1 (whatever remains)."""
from __future__ import annotations

from . import _layout
from ._layout import eval_split
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SPLIT_V's prepare computes for eval."""

    axis: int = None
    sizes: list = None
    source: int = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    d.axis = _layout.scalar_axis(node, 2, len(x.shape))
    sizes = _layout.ints(node, 1)
    if len(sizes) != len(node.outputs):
        node.fail(f"size_splits has {len(sizes)} entries but the op has {len(node.outputs)} outputs")
    total = x.shape[d.axis]
    if sizes.count(-1) > 1:
        node.fail(f"size_splits {sizes} has more than one -1")
    if any(s < -1 for s in sizes):
        node.fail(f"size_splits {sizes} has a negative size")
    known = sum(s for s in sizes if s != -1)
    if -1 in sizes:
        if known > total:
            node.fail(f"size_splits {sizes} add up to more than the dimension size {total}")
        sizes[sizes.index(-1)] = total - known
    elif known != total:
        node.fail(f"size_splits {sizes} must add up to the dimension size {total}")
    d.sizes = sizes
    for s, n in zip(node.outputs, sizes):
        s.shape = x.shape[:d.axis] + (n,) + x.shape[d.axis + 1:]
    if not _layout.movable(node, [x]):
        return _layout.quantized_fallback(node)
    d.source = 0
    return eval_split
