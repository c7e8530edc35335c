"""TRANSPOSE_CONV: the gradient of CONV_2D with respect to its input.  Inputs:
output_shape (int32 [4]), weights [cout, kh, kw, cin], input, optional bias.

Each input pixel scatters input @ weights into a kh x kw patch of the output,
at (y * stride - pad_top, x * stride - pad_left); the padding is the one a
CONV_2D from the output back to the input would use.
"""
import numpy as np

from ._base import conv_padding, fused_float_activation, padding_name
from ._quantization import prepare_quantized
from ._window import window_out_size


def prepare(node):
    shape_in, w, x = node.inputs[0], node.inputs[1], node.inputs[2]
    if len(shape_in.shape) != 1 or len(w.shape) != 4 or len(x.shape) != 4:
        node.fail(f"expects a 1-D output shape, 4-D weights and a 4-D input, got shapes "
                  f"{list(shape_in.shape)}, {list(w.shape)} and {list(x.shape)}")
    node.expect_dtype(shape_in, np.int32)
    out_shape = tuple(int(d) for d in np.asarray(node.value(0)).reshape(-1))
    cout, kh, kw, cin = w.shape
    n, h, wd, c = x.shape
    if c != cin:
        node.fail(f"input has {c} channels, the weights expect {cin}")
    if len(out_shape) != 4 or out_shape[0] != n or out_shape[3] != cout or min(out_shape[1:3]) <= 0:
        node.fail(f"output shape {list(out_shape)} does not fit batch {n} and {cout} output channels")
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    pad = padding_name(node)
    H, W = out_shape[1:3]
    # The convolution going the other way (output -> input) must give back the input's size.
    ih, iw = window_out_size(pad, H, kh, sh), window_out_size(pad, W, kw, sw)
    if (ih, iw) != (h, wd):
        node.fail(f"a {pad} {kh}x{kw} convolution with strides {sh}x{sw} maps output size {H}x{W} to "
                  f"{ih}x{iw}, not to the input's {h}x{wd}")
    node.pad_top = conv_padding(H, kh, sh, 1, h)[0]
    node.pad_left = conv_padding(W, kw, sw, 1, wd)[0]
    node.strides = (sh, sw)
    node.outputs[0].shape = out_shape
    if node.has_input(3) and node.inputs[3].size != cout:
        node.fail(f"bias has {node.inputs[3].size} elements, expected {cout}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if w.data is not None:
            node.wmat = weight_matrix(w.data)
        node.act = fused_float_activation(node)
        return eval_float
    return prepare_quantized(node)


def weight_matrix(w):
    """[cin, kh * kw * cout], so that input rows @ matrix give every tap's contribution."""
    cin = w.shape[3]
    return np.ascontiguousarray(w.transpose(3, 1, 2, 0).reshape(cin, -1))


def eval_float(node, inputs, outputs):
    w, x, out = inputs[1], inputs[2], outputs[0]
    b = inputs[3] if len(inputs) > 3 else None
    cout, kh, kw, cin = w.shape
    n, h, wd, _ = x.shape
    _, H, W, _ = out.shape
    sh, sw = node.strides
    pt, pl = node.pad_top, node.pad_left
    wmat = getattr(node, "wmat", None)
    if wmat is None:
        wmat = weight_matrix(w)
    cols = (x.reshape(-1, cin) @ wmat).reshape(n, h, wd, kh, kw, cout)
    # Scatter into an output grid that starts pad_top/pad_left before the real one.
    full = np.zeros((n, max((h - 1) * sh + kh, pt + H), max((wd - 1) * sw + kw, pl + W), cout), np.float32)
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw] += cols[:, :, :, i, j]
    out[...] = full[:, pt:pt + H, pl:pl + W]
    if b is not None:
        out += b
    if node.act is not None:
        node.act(out)
