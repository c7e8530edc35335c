"""CONV_2D: 2-D convolution, NHWC input, OHWI filter ([out, kh, kw, in/groups]).

Reference (`eval_float`): im2col (a strided view of the padded input,
copied into a [rows, kh*kw*cin] matrix) times the pre-transposed filter, one
BLAS call per group.  Groups are inferred from the filter's input depth, as
TFLite does.  The optimized kernels (buffers kept across invokes, the bias
in the product, fused with a following max pool, Winograd) are in
kernels/optimized/conv_2d.py.
"""
import numpy as np

from ._base import conv_output_size, conv_padding, fused_float_activation, padding_name


def prepare(node):
    x, w = node.inputs[0], node.inputs[1]
    if len(x.shape) != 4 or len(w.shape) != 4:
        node.fail(f"expects a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    n, h, wd, cin = x.shape
    cout, kh, kw, cg = w.shape
    if cg == 0 or cin % cg:
        node.fail(f"input depth {cin} is not a multiple of the filter depth {cg}")
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    if min(sh, sw, dh, dw) < 1:
        node.fail(f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
    pad = padding_name(node)
    oh = conv_output_size(h, kh, sh, dh, pad)
    ow = conv_output_size(wd, kw, sw, dw, pad)
    node.outputs[0].shape = (n, oh, ow, cout)
    node.geometry = geometry(h, wd, kh, kw, sh, sw, dh, dw, oh, ow, pad)
    node.groups = cin // cg
    if cout % node.groups:
        node.fail(f"{cout} output channels cannot be split into {node.groups} groups")
    if x.dtype == np.float32 and w.dtype != np.int8:   # int8 weights: the hybrid path
        node.expect_dtype(w, np.float32)
        node.act = fused_float_activation(node)
        node.wmat = filter_matrix(w.data, node.groups) if w.data is not None else None
        return eval_float
    from . import _quantized

    return _quantized.prepare_conv(node)



def geometry(h, w, kh, kw, sh, sw, dh, dw, oh, ow, pad):
    """Padding and strides of a 2-D window op, as a dict kernels share."""
    if pad == "SAME":
        pt, pb = conv_padding(h, kh, sh, dh, oh)
        pl, pr = conv_padding(w, kw, sw, dw, ow)
    else:
        pt = pb = pl = pr = 0
    return dict(kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, oh=oh, ow=ow, pad=(pt, pb, pl, pr))


def filter_matrix(filt, groups):
    """[groups, kh*kw*cg, cout/groups] so that patches @ matrix is the convolution."""
    cout, kh, kw, cg = filt.shape
    f = filt.reshape(groups, cout // groups, kh * kw * cg)
    return np.ascontiguousarray(f.transpose(0, 2, 1))


def pad_input(x, g, value=0):
    pt, pb, pl, pr = g["pad"]
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def patches(xp, g):
    """[n, oh, ow, kh, kw, c] strided view of the windows of a padded input."""
    n, _, _, c = xp.shape
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, g["oh"], g["ow"], g["kh"], g["kw"], c),
        (s[0], s[1] * g["sh"], s[2] * g["sw"], s[1] * g["dh"], s[2] * g["dw"], s[3]), writeable=False)


def im2col(x, g, pad_value=0):
    xp = pad_input(x, g, pad_value)
    n, c = x.shape[0], x.shape[3]
    if g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1:
        return xp.reshape(n * g["oh"] * g["ow"], c)
    return patches(xp, g).reshape(n * g["oh"] * g["ow"], g["kh"] * g["kw"] * c)


def eval_float(node, inputs, outputs):
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    out = outputs[0]
    wmat = node.wmat if getattr(node, "wmat", None) is not None else filter_matrix(w, node.groups)
    cols = im2col(x, node.geometry)
    cout = out.shape[-1]
    res = out.reshape(-1, cout)
    if node.groups == 1:
        np.matmul(cols, wmat[0], out=res)
    else:
        g = node.groups
        cg = x.shape[-1] // g
        k = node.geometry["kh"] * node.geometry["kw"]
        grouped = cols.reshape(-1, k, g, cg)
        og = cout // g
        for i in range(g):
            res[:, i * og:(i + 1) * og] = grouped[:, :, i, :].reshape(-1, k * cg) @ wmat[i]
    if b is not None:
        res += b
    if node.act is not None:
        node.act(out)
