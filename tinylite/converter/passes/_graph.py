"""Small helpers the passes share: who produces and who reads a tensor, constants."""
from __future__ import annotations

import numpy as np

from ...flatbuffer.schema import ACTIVATIONS, OP_NAMES


def op_name(model, op) -> str:
    return OP_NAMES.get(model.operator_codes[op.opcode_index].builtin_code, "")


def consumers(sg) -> dict[int, list]:
    """tensor index -> operators that read it."""
    out: dict[int, list] = {}
    for op in sg.operators:
        for i in op.inputs:
            if i >= 0:
                out.setdefault(i, []).append(op)
    return out


def rewrite_until_fixed(model, fold_one) -> None:
    """Apply `fold_one(model, sg, op, users)` to every subgraph until no op
    changes: after each rewrite the readers map is rebuilt, because a fold
    removes an operator and rewires its tensors."""
    for sg in model.subgraphs:
        changed = True
        while changed:
            changed = False
            users = consumers(sg)
            for op in list(sg.operators):
                if fold_one(model, sg, op, users):
                    changed = True
                    break


def producers(sg) -> dict[int, object]:
    return {o: op for op in sg.operators for o in op.outputs}


def const(model, sg, index):
    """The constant value of a tensor, or None."""
    if index < 0:
        return None
    return model.buffer_array(sg.tensors[index])


def set_const(model, sg, index, array) -> None:
    """Give a tensor new constant data (always a new buffer: the old one may be shared)."""
    t = sg.tensors[index]
    array = np.ascontiguousarray(array)
    t.buffer = model.add_buffer(array)
    t.shape = np.array(array.shape, np.int32)
    t.shape_signature = None


def replace_uses(sg, old: int, new: int) -> None:
    """Every reader of tensor `old` (and the subgraph outputs) reads `new` instead."""
    for op in sg.operators:
        op.inputs = [new if i == old else i for i in op.inputs]
    sg.outputs = [new if i == old else i for i in sg.outputs]


def fused_activation(op) -> int:
    return (op.builtin_options or {}).get("fused_activation_function", 0)


NONE = ACTIVATIONS["NONE"]
