"""Dynamic-range quantization: int8 weights, float activations, hybrid kernels.

As TensorFlow: the constant weights of CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED with at least 1024 elements become symmetric int8, one scale
per output channel (axis 0; axis 3 for depthwise); biases and everything else
stay float32.  At run time the hybrid kernels quantize each input row (image)
on the fly; FULLY_CONNECTED gets ``asymmetric_quantize_inputs`` as TensorFlow
sets it.

A fused UNIDIRECTIONAL_SEQUENCE_LSTM gets int8 weight matrices per tensor
(the hybrid LSTM), only if every one of them reaches the 1024 elements: see
lstm.py.  A GATHER from a constant table (an Embedding) of at least 1024
elements reads an int8 table through a DEQUANTIZE (weight-only, per tensor),
as TensorFlow writes it: the file shrinks, the results are the dequantized
table's rows.
"""
from __future__ import annotations

import copy

import numpy as np

from ...flatbuffer.schema import OP_CODES, tensor_type
from ...graph import Operator, Tensor
from . import lstm as L
from . import weights as W

MIN_ELEMENTS = 1024
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
FLOAT32 = tensor_type(np.float32)


def quantize(model, keep_float=lambda model, op_index: False, per_channel: bool = True,
             min_elements: int = MIN_ELEMENTS):
    """`keep_float(model, k)`: whether op k of the main subgraph keeps its float weights; the
    other subgraphs' ops (a WHILE's cond and body: a recurrent layer's step) are quantized by
    the same rules."""
    m = copy.deepcopy(model)
    for index, sg in enumerate(m.subgraphs):
        keep = (lambda k: keep_float(model, k)) if index == 0 else (lambda k: False)
        _quantize_subgraph(m, sg, keep, per_channel, min_elements)
    return m


def _quantize_subgraph(m, sg, keep_float, per_channel, min_elements):
    done: dict[int, int] = {}
    new_ops = []
    for k, op in enumerate(sg.operators):
        name = m.op_name(op)
        new_ops.append(op)
        if keep_float(k):
            continue
        if name == L.NAME:
            js = L.dynamic_weights(m, sg, op, min_elements)
            for j in js:
                op.inputs[j] = _int8_const(m, sg, op.inputs[j], None, done)
            if js and op.builtin_options is not None:
                op.builtin_options["asymmetric_quantize_inputs"] = True
            continue
        if name == "GATHER" and len(op.inputs) > 1:
            t = sg.tensors[op.inputs[0]]
            w = m.buffer_array(t)
            if w is not None and t.type == FLOAT32 and w.size >= min_elements:
                q = _int8_const(m, sg, op.inputs[0], None, done)
                f = len(sg.tensors)
                sg.tensors.append(Tensor(name=t.name + "_dequantized", shape=np.array(w.shape, np.int32),
                                         type=FLOAT32, buffer=0, has_rank=True))
                new_ops.insert(len(new_ops) - 1, Operator(m.opcode_index(OP_CODES["DEQUANTIZE"]), [q], [f]))
                op.inputs = [f] + list(op.inputs[1:])
            continue
        axis = WEIGHT_AXIS.get(name)
        if axis is None or len(op.inputs) < 2:
            continue
        wi = op.inputs[1]
        t = sg.tensors[wi]
        w = m.buffer_array(t)
        if w is None or t.type != FLOAT32 or w.size < min_elements:
            continue
        if sg.tensors[op.inputs[0]].type != FLOAT32:
            continue
        if wi not in done:
            q, scale = W.symmetric_int8(w, axis if per_channel else None)
            sg.tensors.append(Tensor(name=t.name, shape=np.array(q.shape, np.int32), type=tensor_type(np.int8),
                                     buffer=m.add_buffer(q), quantization=W.weight_params(scale, axis if per_channel
                                                                                           else 0),
                                     has_rank=True))
            done[wi] = len(sg.tensors) - 1
        op.inputs = [done[wi] if j == 1 else i for j, i in enumerate(op.inputs)]
        if name == "FULLY_CONNECTED" and op.builtin_options is not None:
            op.builtin_options["asymmetric_quantize_inputs"] = True
    sg.operators = new_ops


def _int8_const(m, sg, wi, axis, done):
    """The int8 (symmetric, per tensor when axis is None) version of constant tensor wi of sg."""
    key = (wi, "per-tensor")
    if key in done:
        return done[key]
    t = sg.tensors[wi]
    q, scale = W.symmetric_int8(m.buffer_array(t), axis)
    sg.tensors.append(Tensor(name=t.name, shape=np.array(q.shape, np.int32), type=tensor_type(np.int8),
                             buffer=m.add_buffer(q), quantization=W.weight_params(scale, axis), has_rank=True))
    done[key] = len(sg.tensors) - 1
    return done[key]
