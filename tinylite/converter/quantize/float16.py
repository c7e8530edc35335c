"""float16 quantization: float32 constants stored as float16, each read
through a DEQUANTIZE (float16 -> float32) at the start of the graph, as
TensorFlow writes it; the kernels stay float32.  The model gets TensorFlow's
`reduced_precision_support` metadata ("fp16accfp32")."""
from __future__ import annotations

import copy

import numpy as np

from ...flatbuffer.schema import OP_CODES, tensor_type
from ...graph import Metadata, Operator, Tensor
from . import weights as W

FLOAT32 = tensor_type(np.float32)


def quantize(model, keep_float=lambda model, op_index: False):
    """`keep_float(model, k)`: whether op k of the main subgraph keeps float32 constants.  The
    other subgraphs (a WHILE's cond and body) have theirs converted, read through a DEQUANTIZE
    at the start of the subgraph."""
    m = copy.deepcopy(model)
    for index, sg in enumerate(m.subgraphs):
        _convert(m, sg, (lambda k: keep_float(model, k)) if index == 0 else (lambda k: False))
    m.metadata.append(Metadata("reduced_precision_support", m.add_buffer(b"fp16accfp32")))
    return m


def _convert(m, sg, keep_float):
    converted: dict[int, int] = {}
    prefix = []
    for k, op in enumerate(sg.operators):
        if keep_float(k):
            continue
        new_inputs = []
        for i in op.inputs:
            if i >= 0 and i not in converted:
                t = sg.tensors[i]
                a = m.buffer_array(t) if t.type == FLOAT32 else None
                if a is not None and a.size:
                    half = W.to_float16(a)
                    sg.tensors.append(Tensor(name=t.name, shape=np.array(half.shape, np.int32),
                                             type=tensor_type(np.float16), buffer=m.add_buffer(half), has_rank=True))
                    h = len(sg.tensors) - 1
                    sg.tensors.append(Tensor(name=t.name + "_dequantized", shape=np.array(half.shape, np.int32),
                                             type=FLOAT32, has_rank=True))
                    prefix.append(Operator(m.opcode_index(OP_CODES["DEQUANTIZE"]), [h], [len(sg.tensors) - 1]))
                    converted[i] = len(sg.tensors) - 1
            new_inputs.append(converted.get(i, i))
        op.inputs = new_inputs
    sg.operators = prefix + sg.operators
