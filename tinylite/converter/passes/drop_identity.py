"""Remove operators that return their input unchanged: a RESHAPE to the same
shape, a TRANSPOSE by the identity permutation, MUL by ones, ADD/SUB of zeros."""
from __future__ import annotations

import numpy as np

from ._graph import NONE, const, fused_activation, op_name, replace_uses


def _signature(t):
    return tuple(t.shape_signature if t.shape_signature is not None else t.shape)


def _is_identity(model, sg, op) -> bool:
    name = op_name(model, op)
    if len(op.outputs) != 1 or not op.inputs or op.inputs[0] < 0:
        return False
    x, y = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    if _signature(x) != _signature(y) or x.type != y.type:
        return False
    if name == "RESHAPE":
        return True
    if name == "TRANSPOSE":
        perm = const(model, sg, op.inputs[1])
        return perm is not None and list(perm) == list(range(len(perm)))
    if name in ("MUL", "ADD", "SUB", "DIV") and fused_activation(op) == NONE:
        c = const(model, sg, op.inputs[1])
        if c is None or c.size == 0:
            return False
        neutral = 1 if name in ("MUL", "DIV") else 0
        return bool(np.all(c == neutral)) and c.ndim <= len(x.shape)
    return False


def run(model) -> None:
    for sg in model.subgraphs:
        keep = []
        for op in sg.operators:
            if _is_identity(model, sg, op):
                src, dst = op.inputs[0], op.outputs[0]
                if dst in sg.outputs and (src in sg.inputs or src in sg.outputs):
                    keep.append(op)         # a model output must stay a distinct tensor
                    continue
                if dst in sg.outputs:
                    # Keep the output tensor's name: the producer of src writes dst instead.
                    prod = next((p for p in keep if src in p.outputs), None)
                    if prod is None:
                        keep.append(op)
                        continue
                    prod.outputs = [dst if o == src else o for o in prod.outputs]
                    replace_uses(sg, src, dst)
                    continue
                replace_uses(sg, dst, src)
                continue
            keep.append(op)
        sg.operators = keep
