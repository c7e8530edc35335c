"""Arena memory planning: give every non-constant tensor an offset in one
buffer, sharing bytes between tensors whose lifetimes do not overlap.

The greedy-by-size strategy of TFLite's arena planner: place the largest
tensors first, each at the lowest offset that does not collide with an already
placed tensor alive at the same time.
"""
from __future__ import annotations

from dataclasses import dataclass

ALIGNMENT = 64


@dataclass
class Allocation:
    tensor: int
    size: int        # bytes
    first: int       # first step that uses it (writes or reads)
    last: int        # last step that uses it
    offset: int = 0


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def plan(allocations: list[Allocation], share: bool = True) -> int:
    """Assign offsets in place; return the arena size in bytes."""
    if not share:
        offset = 0
        for a in allocations:
            a.offset = offset
            offset += _align(a.size)
        return offset
    placed: list[Allocation] = []
    for a in sorted(allocations, key=lambda a: (-a.size, a.first, a.tensor)):
        live = sorted((p for p in placed if p.first <= a.last and a.first <= p.last), key=lambda p: p.offset)
        offset = 0
        for p in live:
            if offset + a.size <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.size))
        a.offset = offset
        placed.append(a)
    return max((_align(a.offset + a.size) for a in allocations), default=0)
