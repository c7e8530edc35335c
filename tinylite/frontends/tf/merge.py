"""Several converted signatures -> one model with a subgraph per signature (as TensorFlow
writes a multi-signature SavedModel)."""
from __future__ import annotations

import numpy as np


def _version(model):
    for m in model.metadata:
        if m.name == "min_runtime_version":
            raw = bytes(np.asarray(model.buffers[m.buffer].data, np.uint8)).rstrip(b"\0").decode()
            return tuple(int(p) for p in raw.split(".") if p.isdigit()), m.buffer
    return (), None


def merge_models(models):
    first = models[0]
    best, best_model = _version(first)[0], first
    for model in models[1:]:
        v = _version(model)[0]
        if v > best:
            best, best_model = v, model
        buf_map = {0: 0}
        for k, buf in enumerate(model.buffers):
            if k:
                buf_map[k] = len(first.buffers)
                first.buffers.append(buf)
        code_map = {}
        for k, oc in enumerate(model.operator_codes):
            hit = next((j for j, c in enumerate(first.operator_codes)
                        if c.builtin_code == oc.builtin_code and c.custom_code == oc.custom_code
                        and c.version == oc.version), None)
            if hit is None:
                hit = len(first.operator_codes)
                first.operator_codes.append(oc)
            code_map[k] = hit
        base = len(first.subgraphs)
        for sg in model.subgraphs:
            for t in sg.tensors:
                t.buffer = buf_map.get(t.buffer, 0)
            for op in sg.operators:
                op.opcode_index = code_map[op.opcode_index]
            first.subgraphs.append(sg)
        for sd in model.signature_defs:
            sd.subgraph_index += base
            first.signature_defs.append(sd)
    if best_model is not first:
        _, src = _version(best_model)
        for m in first.metadata:
            if m.name == "min_runtime_version":
                first.buffers[m.buffer] = best_model.buffers[src]
    from ...converter.passes import dedupe_buffers, remove_dead

    dedupe_buffers.run(first)          # signatures calling one function share its weights
    remove_dead.run(first)
    return first
