"""CONV_3D_TRANSPOSE(output_shape, filter, input[, bias]): the gradient of
CONV_3D with respect to its input, float32.  Filter [kd, kh, kw, cout, cin];
each input voxel scatters input @ filter^T into a dilated kd x kh x kw patch
at (d, y, x) * stride - padding, where the padding is the one a CONV_3D from
output_shape back to the input's size would use."""
from __future__ import annotations

import numpy as np

from ._base import activation_name, conv_output_size, conv_padding, float_activation, op_data, OpDataBase, padding_name


@op_data
class OpData(OpDataBase):
    """What CONV_3D_TRANSPOSE's prepare computes for eval."""

    geom: tuple = None
    act: None = None


def prepare(node):
    d = node.draft(OpData)
    shape_in, w, x = node.inputs[0], node.inputs[1], node.inputs[2]
    for spec in (w, x, node.outputs[0]):
        node.expect_dtype(spec, np.float32)
    node.expect_dtype(shape_in, np.int32)
    if len(x.shape) != 5 or len(w.shape) != 5:
        node.fail(f"expects a 5-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    out_shape = tuple(int(v) for v in np.asarray(node.value(0)).reshape(-1))
    kd, kh, kw, cout, cin = w.shape
    if len(out_shape) != 5 or out_shape[0] != x.shape[0] or out_shape[4] != cout or x.shape[4] != cin:
        node.fail(f"output_shape {list(out_shape)}, filter {list(w.shape)} and input {list(x.shape)} do not fit")
    b = node.inputs[3] if node.has_input(3) else None
    if b is not None and b.size != cout:
        node.fail(f"bias has {b.size} elements, expected {cout}")
    o = node.options
    strides = [o.get("stride_d", 1), o.get("stride_h", 1), o.get("stride_w", 1)]
    dil = [o.get("dilation_d_factor", 1), o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)]
    pad = padding_name(node)
    pads = []
    for size, k, s, dl, got in zip(out_shape[1:4], (kd, kh, kw), strides, dil, x.shape[1:4]):
        if conv_output_size(size, k, s, dl, pad) != got:
            node.fail(f"a {pad} convolution maps output size {list(out_shape[1:4])} to a size other than "
                      f"the input's {list(x.shape[1:4])}")
        pads.append(conv_padding(size, k, s, dl, got)[0])
    node.outputs[0].shape = out_shape
    d.geom = (strides, dil, pads)
    d.act = float_activation(activation_name(node))
    return eval_conv_3d_transpose


def eval_conv_3d_transpose(node, inputs, outputs):
    data = node.data
    w, x = inputs[1], inputs[2]
    b = inputs[3] if len(inputs) > 3 else None
    out = outputs[0]
    (sd, sh, sw), (dd, dh, dw), (pd, ph, pw) = data.geom
    kd, kh, kw, cout, cin = w.shape
    n, D, H, W, _ = x.shape
    _, OD, OH, OW, _ = out.shape
    # A grid large enough for every tap, offset by the padding.
    full = np.zeros((n, max((D - 1) * sd + (kd - 1) * dd + 1, pd + OD), max((H - 1) * sh + (kh - 1) * dh + 1, ph + OH),
                     max((W - 1) * sw + (kw - 1) * dw + 1, pw + OW), cout), np.float32)
    for i in range(kd):
        for j in range(kh):
            for k in range(kw):
                contrib = x @ w[i, j, k].T                       # [n, D, H, W, cout]
                full[:, i * dd:i * dd + (D - 1) * sd + 1:sd, j * dh:j * dh + (H - 1) * sh + 1:sh,
                     k * dw:k * dw + (W - 1) * sw + 1:sw] += contrib
    out[...] = full[:, pd:pd + OD, ph:ph + OH, pw:pw + OW]
    if b is not None:
        out += b
    if data.act is not None:
        data.act(out)
