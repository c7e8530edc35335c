"""Fold a MUL by a constant (scalar or per input channel) into the CONV_2D or
DEPTHWISE_CONV_2D that reads its result: scale the filter's input-channel axis instead
(conv(x * c, W) = conv(x, W * c)).  Exact in real arithmetic, with or without SAME
padding (the zeros padded stay zero); only an offset could not move through a padded
conv, so ADD/SUB are left alone.  Keras's Rescaling(1/255) before a model's stem
convolution becomes part of the stem's filter, as TensorFlow's converter writes it: one
elementwise pass over the input fewer, and the same float activations as TensorFlow's
file, which the hybrid (dynamic-range) ops after it quantize at run time."""
from __future__ import annotations

import numpy as np

from ._graph import NONE, const, fused_activation, op_name, rewrite_until_fixed, set_const


def _fold_one(model, sg, mul, users) -> bool:
    if op_name(model, mul) != "MUL" or len(mul.inputs) != 2 or fused_activation(mul) != NONE:
        return False
    out = mul.outputs[0]
    readers = users.get(out, [])
    if len(readers) != 1 or out in sg.outputs:
        return False
    conv = readers[0]
    kind = op_name(model, conv)
    if kind not in ("CONV_2D", "DEPTHWISE_CONV_2D") or conv.inputs[0] != out or out in conv.inputs[1:]:
        return False
    a, b = (const(model, sg, i) for i in mul.inputs)
    if (a is None) == (b is None):
        return False
    x, c = (mul.inputs[0], b) if b is not None else (mul.inputs[1], a)
    xt, ot = sg.tensors[x], sg.tensors[out]
    if c.dtype != np.float32 or list(xt.shape) != list(ot.shape) or len(ot.shape) != 4 or xt.type != ot.type:
        return False
    channels = int(ot.shape[-1])
    if c.size == 1:
        vec = np.full(channels, c.reshape(-1)[0], np.float32)
    elif c.size == channels and c.shape[-1] == channels:
        vec = c.reshape(channels)
    else:
        return False
    filt = const(model, sg, conv.inputs[1])
    if filt is None or filt.dtype != np.float32 or filt.ndim != 4 or len(users.get(conv.inputs[1], [])) != 1:
        return False
    if kind == "CONV_2D":
        # [out, h, w, in]; a grouped convolution's filter has fewer input channels: left alone
        if filt.shape[3] != channels:
            return False
        scaled = filt * vec.reshape(1, 1, 1, -1)
    else:
        # [1, h, w, in * multiplier]: output channel k reads input channel k // multiplier
        if filt.shape[3] % channels:
            return False
        scaled = filt * np.repeat(vec, filt.shape[3] // channels).reshape(1, 1, 1, -1)
    set_const(model, sg, conv.inputs[1], scaled.astype(np.float32))
    conv.inputs = [x] + list(conv.inputs[1:])
    sg.operators.remove(mul)
    return True


def run(model) -> None:
    rewrite_until_fixed(model, _fold_one)
