"""DEPTHWISE_CONV_2D: each input channel c convolved with its own filters;
filter [1, kh, kw, cin * m], output channel c * m + k reads input channel c.

Float path: one vectorized multiply-accumulate per filter tap over a strided
view of the padded input (no per-pixel loops).
"""
import numpy as np

from ._base import activation_name, padding_name
from ._window import window_out_size
from ._base import float_activation
from .conv_2d import geometry, pad_input, patches


def prepare(node):
    x, w = node.inputs[0], node.inputs[1]
    if len(x.shape) != 4 or len(w.shape) != 4:
        node.fail(f"expects a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    n, h, wd, cin = x.shape
    one, kh, kw, cout = w.shape
    if one != 1:
        node.fail(f"filter must have shape [1, kh, kw, channels], got {list(w.shape)}")
    if cin <= 0 or cout % cin:
        node.fail(f"filter channels {cout} are not a multiple of the input channels {cin}")
    # TFLite derives the multiplier from the shapes; it never reads the depth_multiplier option.
    node.multiplier = cout // cin
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    pad = padding_name(node)
    oh = window_out_size(pad, h, kh, sh, dh)
    ow = window_out_size(pad, wd, kw, sw, dw)
    if oh is None or ow is None:
        node.fail(f"invalid window: input {h}x{wd}, filter {kh}x{kw}, strides {sh}x{sw}, "
                  f"dilations {dh}x{dw}, padding {pad}")
    node.outputs[0].shape = (n, oh, ow, cout)
    node.geometry = geometry(h, wd, kh, kw, sh, sw, dh, dw, oh, ow, pad)
    if node.has_input(2) and node.inputs[2].size != cout:
        node.fail(f"bias has {node.inputs[2].size} elements, expected {cout}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if w.data is not None:
            node.taps = filter_taps(w.data, cin)
        node.act = float_activation(activation_name(node))
        from .optimized import depthwise_conv_2d as optimized

        return optimized.plan_float(node) or eval_float
    from . import _quantized

    return _quantized.prepare_depthwise_conv(node)


def filter_taps(filt, cin):
    """[kh, kw, cin, multiplier]: the weights each tap multiplies into each input channel."""
    _, kh, kw, cout = filt.shape
    return np.ascontiguousarray(filt.reshape(kh, kw, cin, cout // cin))


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    b = inputs[2] if len(inputs) > 2 else None
    if out.size == 0:
        return
    g = node.geometry
    taps = getattr(node, "taps", None)
    if taps is None:
        taps = filter_taps(inputs[1], x.shape[3])
    windows = patches(pad_input(x, g), g)          # [n, oh, ow, kh, kw, cin], a view
    acc = out.reshape(out.shape[:3] + taps.shape[2:])  # [n, oh, ow, cin, multiplier]
    np.multiply(windows[:, :, :, 0, 0, :, None], taps[0, 0], out=acc)
    tmp = np.empty_like(acc) if g["kh"] * g["kw"] > 1 else None
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            if i or j:
                np.multiply(windows[:, :, :, i, j, :, None], taps[i, j], out=tmp)
                acc += tmp
    if b is not None:
        out += b
    if node.act is not None:
        node.act(out)
