"""Remove operators whose results nobody reads, then unused tensors and buffers
(renumbering what is left)."""
from __future__ import annotations

from ...graph import Buffer


def run(model) -> None:
    for sg in model.subgraphs:
        live = set(sg.outputs)
        keep = []
        for op in reversed(sg.operators):
            if any(o in live for o in op.outputs):
                keep.append(op)
                live.update(op.outputs)      # a kept op's unread outputs still exist
                live.update(i for i in op.inputs if i >= 0)
                live.update(i for i in (op.intermediates or []) if i >= 0)
        sg.operators = keep[::-1]
        live.update(sg.inputs)
        order = sorted(live)
        remap = {old: new for new, old in enumerate(order)}
        sg.tensors = [sg.tensors[i] for i in order]
        for op in sg.operators:
            op.inputs = [remap[i] if i >= 0 else i for i in op.inputs]
            op.outputs = [remap[i] for i in op.outputs]
            if op.intermediates:
                op.intermediates = [remap[i] if i >= 0 else i for i in op.intermediates]
        sg.inputs = [remap[i] for i in sg.inputs]
        sg.outputs = [remap[i] for i in sg.outputs]
        for sd in model.signature_defs:
            if model.subgraphs[sd.subgraph_index] is sg:
                for tm in sd.inputs + sd.outputs:
                    tm.tensor_index = remap[tm.tensor_index]
    # Buffers: keep 0 (the empty sentinel), those tensors and metadata use.
    used = {0} | {t.buffer for sg in model.subgraphs for t in sg.tensors} | {m.buffer for m in model.metadata}
    order = sorted(b for b in used if 0 <= b < len(model.buffers))
    remap = {old: new for new, old in enumerate(order)}
    model.buffers = [model.buffers[i] for i in order] or [Buffer()]
    for sg in model.subgraphs:
        for t in sg.tensors:
            t.buffer = remap.get(t.buffer, 0)
    for m in model.metadata:
        m.buffer = remap[m.buffer]
