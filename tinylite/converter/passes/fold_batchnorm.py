"""Fold a per-channel MUL and ADD by constants (an inference BatchNormalization,
a Rescaling, a Normalization) into the CONV_2D, DEPTHWISE_CONV_2D or
FULLY_CONNECTED before it: scale the filter and the bias, shift the bias."""
from __future__ import annotations

import numpy as np

from ._graph import NONE, const, fused_activation, op_name, rewrite_until_fixed, set_const

_FOLDABLE = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def _channel_vector(c, channels):
    """`c` as a [channels] vector when it broadcasts only along the last axis; else None."""
    if c is None or c.dtype != np.float32:
        return None
    if c.size == 1:
        return np.full(channels, c.reshape(-1)[0], np.float32)
    if c.shape[-1] != channels or c.size != channels:
        return None
    return c.reshape(channels)


def _fold_one(model, sg, op, users) -> bool:
    name = op_name(model, op)
    if name not in _FOLDABLE or fused_activation(op) != NONE or len(op.inputs) < 2:
        return False
    out = op.outputs[0]
    readers = users.get(out, [])
    if len(readers) != 1 or out in sg.outputs:
        return False
    nxt = readers[0]
    kind = op_name(model, nxt)
    if kind not in ("MUL", "ADD", "SUB") or len(nxt.inputs) != 2:
        return False
    other = nxt.inputs[1] if nxt.inputs[0] == out else nxt.inputs[0]
    if kind == "SUB" and nxt.inputs[0] != out:
        return False
    weights = const(model, sg, op.inputs[1])
    if weights is None or weights.dtype != np.float32:
        return False
    bias_index = op.inputs[2] if len(op.inputs) > 2 else -1
    bias = const(model, sg, bias_index) if bias_index >= 0 else None
    if bias_index >= 0 and bias is None:
        return False
    channels = sg.tensors[out].shape[-1]
    vec = _channel_vector(const(model, sg, other), int(channels))
    if vec is None:
        return False
    # The result's shape must be the conv's: a constant must not broadcast the output up.
    if list(sg.tensors[nxt.outputs[0]].shape) != list(sg.tensors[out].shape):
        return False
    if bias is None:
        bias = np.zeros(int(channels), np.float32)
    if kind == "MUL":
        axis_shape = (-1,) + (1,) * (weights.ndim - 1) if name != "DEPTHWISE_CONV_2D" else (1,) * (weights.ndim - 1) + (-1,)
        set_const(model, sg, op.inputs[1], (weights * vec.reshape(axis_shape)).astype(np.float32))
        new_bias = bias * vec
    else:
        new_bias = bias + vec if kind == "ADD" else bias - vec
    new_bias = new_bias.astype(np.float32)
    if bias_index >= 0:
        set_const(model, sg, bias_index, new_bias)
    else:
        from ...flatbuffer.schema import tensor_type
        from ...graph import Tensor

        sg.tensors.append(Tensor(name=sg.tensors[op.inputs[1]].name + "/bias", shape=np.array(new_bias.shape, np.int32),
                                 type=tensor_type(np.float32), has_rank=True))
        set_const(model, sg, len(sg.tensors) - 1, new_bias)
        op.inputs = list(op.inputs[:2]) + [len(sg.tensors) - 1] + list(op.inputs[3:])
    # The folded op now writes the MUL/ADD's output tensor.
    op.outputs = [nxt.outputs[0]]
    sg.operators.remove(nxt)
    return True


def run(model) -> None:
    rewrite_until_fixed(model, _fold_one)
