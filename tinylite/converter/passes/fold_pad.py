"""Fold a zero PAD into the CONV_2D or DEPTHWISE_CONV_2D after it (padding VALID) when
the PAD adds exactly the border SAME padding would: the conv then reads the PAD's input
with padding SAME.  Exact in float (SAME pads with zeros too), one op and one activation
buffer fewer; Keras writes this pattern for every strided convolution of the
keras.applications models (ZeroPadding2D(correct_pad(...)) then a VALID conv), and
TensorFlow's converter folds it the same way."""
from __future__ import annotations

from ...flatbuffer.schema import PADDINGS
from ._graph import const, op_name, rewrite_until_fixed

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) that padding SAME adds along one spatial axis of `size`."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _padding(op):
    value = (op.builtin_options or {}).get("padding")
    return PADDINGS.get(value, value) if isinstance(value, str) else value


def _fold_one(model, sg, pad, users) -> bool:
    if op_name(model, pad) != "PAD" or len(pad.inputs) != 2:
        return False
    out = pad.outputs[0]
    readers = users.get(out, [])
    if len(readers) != 1 or out in sg.outputs:
        return False
    conv = readers[0]
    if op_name(model, conv) not in _CONVS or conv.inputs[0] != out or _padding(conv) != PADDINGS["VALID"]:
        return False
    x = sg.tensors[pad.inputs[0]]
    if x.type != sg.tensors[out].type or (x.quantization is not None and x.quantization.scale is not None):
        return False
    # SAME's border depends only on the spatial size (a dynamic batch is fine)
    shape = [int(d) for d in x.shape]
    if len(shape) != 4 or min(shape) <= 0 or (x.shape_signature is not None and min(x.shape_signature[1:3]) < 0):
        return False
    paddings = const(model, sg, pad.inputs[1])
    filt = const(model, sg, conv.inputs[1])
    if paddings is None or paddings.shape != (4, 2) or filt is None or filt.ndim != 4:
        return False
    opts = conv.builtin_options or {}
    want = [(0, 0), same_padding(shape[1], filt.shape[1], opts.get("stride_h", 1), opts.get("dilation_h_factor", 1)),
            same_padding(shape[2], filt.shape[2], opts.get("stride_w", 1), opts.get("dilation_w_factor", 1)), (0, 0)]
    if [tuple(int(v) for v in row) for row in paddings] != want:
        return False
    conv.inputs = [pad.inputs[0]] + list(conv.inputs[1:])
    conv.builtin_options = dict(opts, padding=PADDINGS["SAME"] if not isinstance(opts.get("padding"), str) else "SAME")
    sg.operators.remove(pad)
    return True


def run(model) -> None:
    rewrite_until_fixed(model, _fold_one)
