"""Helpers of the window, resize and reduction kernels: TFLite's output-size
rule (with its failure cases), the padding, strides and im2col of the
convolutions, reduction axes, resize coordinates."""
from __future__ import annotations

import itertools

import numpy as np

from ._base import conv_padding, op_data, OpDataBase


@op_data
class WindowData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    axes: tuple = None
    kept_shape: tuple = None
    count: int = None


def window_out_size(padding, size, filter_size, stride, dilation=1):
    """Output length of a window op as TFLite's ComputeOutSizeChecked gives it,
    or None where TFLite reports an error (bad arguments, negative size)."""
    if size < 0 or filter_size <= 0 or stride <= 0 or dilation <= 0:
        return None
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        num = size + stride - 1
    elif padding == "VALID":
        num = size + stride - effective
    else:
        return None
    # C++ integer division truncates toward zero: a numerator in (-stride, 0) gives an empty output.
    out = -(-num // stride) if num < 0 else num // stride
    return None if out < 0 else out


# --- reductions (MEAN, SUM, REDUCE_MAX) ---

def prepare_reduction(node):
    """Resolve the axis input and set the output shape, as TFLite's reducers do.

    Sets ``node.data.axes`` (unique, non-negative, in the order given) and
    ``node.data.kept_shape`` (the output shape with reduced axes kept as 1), which
    eval reduces into with ``keepdims=True``.
    """
    od = node.draft(WindowData)
    x, axis = node.inputs[0], node.inputs[1]
    node.expect_dtype(axis, np.int32)
    rank = len(x.shape)
    axes = []
    # An empty axis tensor needs no value (models store it without data, so it is not "constant").
    values = [] if axis.size == 0 else np.asarray(node.value(1)).reshape(-1).tolist()
    for a in values:
        if rank == 0:
            break       # TFLite ignores the axes of a scalar input
        r = a + rank if a < 0 else a
        if not 0 <= r < rank:
            node.fail(f"axis {a} is out of range for an input of rank {rank}")
        if r not in axes:
            axes.append(r)
    od.axes = tuple(axes)
    od.kept_shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    od.count = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    if node.options.get("keep_dims"):
        node.outputs[0].shape = od.kept_shape
    else:
        node.outputs[0].shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)


def is_quantized_type(spec):
    return spec.dtype in (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


# --- resize coordinates (RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR) ---

def resize_scale(in_size, out_size, align_corners):
    """Source pixels per output pixel, in float32 as TFLite computes it."""
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def resize_size(node, minimum=1):
    """(height, width) from the size input: a 1-D int32 tensor of two values >= minimum."""
    x, size = node.inputs[0], node.inputs[1]
    if len(x.shape) != 4:
        node.fail(f"expects a 4-D NHWC input, got shape {list(x.shape)}")
    node.expect_dtype(size, np.int32)
    if len(size.shape) != 1 or size.shape[0] != 2:
        node.fail(f"size must be a 1-D tensor of 2 elements, got shape {list(size.shape)}")
    oh, ow = (int(v) for v in np.asarray(node.value(1)).reshape(-1))
    if min(oh, ow) < minimum:
        node.fail(f"output size must be at least {minimum}, got {[oh, ow]}")
    return oh, ow


def geometry(h, w, kh, kw, sh, sw, dh, dw, oh, ow, pad):
    """Padding and strides of a 2-D window op, as a dict kernels share."""
    if pad == "SAME":
        pt, pb = conv_padding(h, kh, sh, dh, oh)
        pl, pr = conv_padding(w, kw, sw, dw, ow)
    else:
        pt = pb = pl = pr = 0
    return dict(kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, oh=oh, ow=ow, pad=(pt, pb, pl, pr))


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


def reserve_padded(node, x, g):
    """Count the padded copy of the input a window op makes (a dilation of 2**30
    in the file would make it terabytes) in the model's memory check."""
    pt, pb, pl, pr = g["pad"]
    if pt or pb or pl or pr:
        n, h, w, c = x.shape
        node.reserve((n, h + pt + pb, w + pl + pr, c), x.dtype, "padded input")


# --- REDUCE_WINDOW and STABLEHLO_REDUCE_WINDOW ---

def reduce_window_input(node, types):
    """The input (one of `types`), checked to share its type with the init value and the output."""
    x, init = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *types)
    if init.dtype != x.dtype or node.outputs[0].dtype != x.dtype:
        node.fail(f"init value and output must have the input's type {x.dtype.name}")
    return x


def reduce_window_shape(sizes, window, strides, dilations):
    """The number of whole windows along each dimension (0 where none fits)."""
    shape = []
    for size, w, d, s in zip(sizes, window, dilations, strides):
        span = (w - 1) * d + 1
        shape.append(0 if size < span else (size - span) // s + 1)
    return tuple(shape)


def fold_windows(x, out, window, strides, dilations, fold):
    """Folds every window of `x` into `out` (already holding the initial value)
    in the window's row-major order, as LiteRT does: for each offset in the
    window, fold(out, the strided view of x that offset picks for every output)."""
    for offsets in itertools.product(*[range(w) for w in window]):
        fold(out, x[tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                          for o, d, s, n in zip(offsets, dilations, strides, out.shape))])


# --- float DEPTHWISE_CONV_2D (the reference's order and LiteRT's optimized one) ---

def filter_taps(filt, cin):
    """[kh, kw, cin, multiplier]: the weights each tap multiplies into each input channel."""
    _, kh, kw, cout = filt.shape
    return np.ascontiguousarray(filt.reshape(kh, kw, cin, cout // cin))


def depthwise_operands(node, inputs, out, pad):
    """What a float depthwise eval sums, or None for an empty output: the
    windows [n, oh, ow, kh, kw, cin] of the input padded by ``pad(x, geometry)``,
    the taps [kh, kw, cin, multiplier] (precomputed for a constant filter) and
    `out` viewed as the accumulator [n, oh, ow, cin, multiplier]."""
    if out.size == 0:
        return None
    x, g = inputs[0], node.data.geometry
    taps = node.data.taps
    if taps is None:
        taps = filter_taps(inputs[1], x.shape[3])
    return patches(pad(x, g), g), taps, out.reshape(out.shape[:3] + taps.shape[2:])
