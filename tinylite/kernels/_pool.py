"""Window geometry shared by the 2-D pooling kernels."""
import numpy as np

from ._base import conv_padding, padding_name
from ._window import window_out_size


def pool_geometry(node):
    x = node.inputs[0]
    if len(x.shape) != 4:
        node.fail(f"expects a 4-D NHWC input, got shape {list(x.shape)}")
    o = node.options
    n, h, w, c = x.shape
    fh, fw = o.get("filter_height", 1), o.get("filter_width", 1)
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    if min(sh, sw) < 1:
        node.fail(f"strides {sh}x{sw} must be positive")
    pad = padding_name(node)
    # Where TFLite's output size is invalid (a VALID filter larger than the input, a zero
    # filter) its pooling kernels give an empty output rather than an error.
    oh = window_out_size(pad, h, fh, sh) or 0
    ow = window_out_size(pad, w, fw, sw) or 0
    pt, pb = conv_padding(h, fh, sh, 1, oh) if pad == "SAME" else (0, 0)
    pl, pr = conv_padding(w, fw, sw, 1, ow) if pad == "SAME" else (0, 0)
    fh, pt, pb = _useful_taps(h, fh, sh, oh, pt)
    fw, pl, pr = _useful_taps(w, fw, sw, ow, pl)
    node.outputs[0].shape = (n, oh, ow, c)
    if pt or pb or pl or pr:
        node.reserve((n, h + pt + pb, w + pl + pr, c), x.dtype, "padded input")
    return dict(fh=fh, fw=fw, sh=sh, sw=sw, oh=oh, ow=ow, pad=(pt, pb, pl, pr))


def _useful_taps(size, f, s, out, before):
    """(filter size, padding before, padding after) without the filter taps
    that read only padding for every output.  Those add nothing to a maximum
    or to an average over the valid taps, but a filter of 2**31 - 1 rows
    (legal in the schema) would otherwise mean a padded copy of terabytes and
    billions of taps.  Geometries whose taps all read the input are
    unchanged."""
    if out == 0:
        return 1, 0, 0                              # an empty output reads nothing
    first = max(0, before - (out - 1) * s)          # earlier taps fall before row 0 for every output
    last = max(min(f - 1, before + size - 1), first)  # later ones fall past the last row for every output
    f, before = last - first + 1, before - first
    return f, before, max((out - 1) * s + f - size - before, 0)


def window_slices(x, g, pad_value):
    """Yield, for each filter tap, the [n, oh, ow, c] strided slice it reads."""
    pt, pb, pl, pr = g["pad"]
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    oh, ow, sh, sw = g["oh"], g["ow"], g["sh"], g["sw"]
    # Span of the taps' start positions; an empty output (oh or ow 0) needs empty slices.
    rows, cols = (oh - 1) * sh + 1 if oh else 0, (ow - 1) * sw + 1 if ow else 0
    for i in range(g["fh"]):
        for j in range(g["fw"]):
            yield x[:, i:i + rows:sh, j:j + cols:sw, :]


class PaddedInput:
    """A padded copy of the input in a buffer filled with the pad value once;
    each refresh only copies the interior (no copy at all without padding)."""

    def __init__(self, x, g, pad_value):
        pt, pb, pl, pr = g["pad"]
        self.x = x
        if pt or pb or pl or pr:
            n, h, w, c = x.shape
            self.padded = np.full((n, h + pt + pb, w + pl + pr, c), pad_value, x.dtype)
            self.interior = self.padded[:, pt:pt + h, pl:pl + w, :]
        else:
            self.padded, self.interior = x, None

    def refresh(self, x):
        if self.interior is not None:
            np.copyto(self.interior, x)


def valid_counts(h, w, g):
    """[oh, ow] number of window taps that fall inside the unpadded input."""
    pt, _, pl, _ = g["pad"]
    rows = np.arange(g["oh"]) * g["sh"] - pt
    cols = np.arange(g["ow"]) * g["sw"] - pl
    rh = np.minimum(rows + g["fh"], h) - np.maximum(rows, 0)
    cw = np.minimum(cols + g["fw"], w) - np.maximum(cols, 0)
    return np.maximum(rh[:, None] * cw[None, :], 1)
