"""Let tensors with byte-identical constant data share one buffer."""
from __future__ import annotations

import numpy as np

from . import remove_dead


def run(model) -> None:
    # Compare bytes only among buffers of equal size (weights rarely collide).
    by_size: dict[int, list[int]] = {}
    for k, buf in enumerate(model.buffers):
        if k and buf.data is not None and buf.data.size:
            by_size.setdefault(buf.data.size, []).append(k)
    remap: dict[int, int] = {}
    for group in by_size.values():
        kept: list[int] = []
        for k in group:
            data = model.buffers[k].data
            same = next((j for j in kept if np.array_equal(model.buffers[j].data, data)), None)
            if same is None:
                kept.append(k)
            else:
                remap[k] = same
    if not remap:
        return
    for sg in model.subgraphs:
        for t in sg.tensors:
            t.buffer = remap.get(t.buffer, t.buffer)
    remove_dead.run(model)
