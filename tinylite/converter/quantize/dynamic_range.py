"""Dynamic-range quantization: int8 weights, float activations, hybrid kernels.

As TensorFlow: the constant weights of CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED with at least 1024 elements become symmetric int8, one scale
per output channel (axis 0; axis 3 for depthwise); biases and everything else
stay float32.  At run time the hybrid kernels quantize each input row (image)
on the fly; FULLY_CONNECTED gets ``asymmetric_quantize_inputs`` as TensorFlow
sets it.
"""
from __future__ import annotations

import copy

import numpy as np

from ...flatbuffer.schema import tensor_type
from ...graph import Tensor
from . import weights as W

MIN_ELEMENTS = 1024
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
FLOAT32 = tensor_type(np.float32)


def quantize(model, keep_float=lambda model, op_index: False, per_channel: bool = True,
             min_elements: int = MIN_ELEMENTS):
    m = copy.deepcopy(model)
    sg = m.subgraphs[0]
    done: dict[int, int] = {}
    for k, op in enumerate(sg.operators):
        name = m.op_name(op)
        axis = WEIGHT_AXIS.get(name)
        if axis is None or len(op.inputs) < 2 or keep_float(model, k):
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
    return m
