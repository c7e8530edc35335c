"""Window geometry shared by the 2-D pooling kernels."""
from functools import partial

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


class TapViews(PaddedInput):
    """The tap slices of `window_slices`, built once per input array.

    The views into the padded buffer (or into the input itself, without
    padding) stay valid as long as the input array does, so they are cached
    on the node.
    """

    def __init__(self, x, g, pad_value):
        super().__init__(x, g, pad_value)
        self.views = list(window_slices(self.padded, dict(g, pad=(0, 0, 0, 0)), pad_value))

    def refresh(self, x):
        super().refresh(x)
        return self.views


class SeparableMax:
    """Window maximum as a maximum over the window's rows, then over its columns
    (exact: max is associative).  A 2x2 window is then two vectorized passes
    instead of four, a 3x3 one six instead of nine, and the first pass runs
    along whole input rows.  Buffers and views are built once per input array.
    """

    def __init__(self, x, g):
        self.pad = PaddedInput(x, g, -np.inf)
        self.x = x
        xp = self.pad.padded
        n, _, wp, c = xp.shape
        oh, ow, sh, sw = g["oh"], g["ow"], g["sh"], g["sw"]
        rows, cols = (oh - 1) * sh + 1 if oh else 0, (ow - 1) * sw + 1 if ow else 0
        self.row_taps = [xp[:, i:i + rows:sh] for i in range(g["fh"])]
        self.rowmax = self.row_taps[0] if g["fh"] == 1 else np.empty((n, oh, wp, c), x.dtype)
        self.col_taps = [self.rowmax[:, :, j:j + cols:sw] for j in range(g["fw"])]

    def run(self, x, out):
        cached = self.__dict__.get("bound")
        if cached is None or cached[0] is not out:
            cached = self.bound = (out, self.calls(x, out))
        for call in cached[1]:
            call()

    def calls(self, x, out) -> list:
        """run(x, out) as zero-argument calls (see kernels._base.binds)."""
        calls = [] if self.pad.interior is None else [partial(np.copyto, self.pad.interior, x)]
        for taps, acc in ((self.row_taps, self.rowmax), (self.col_taps, out)):
            if len(taps) == 1:
                if taps[0] is not acc:
                    calls.append(partial(np.copyto, acc, taps[0]))
                continue
            calls.append(partial(np.maximum, taps[0], taps[1], out=acc))
            calls += [partial(np.maximum, acc, t, out=acc) for t in taps[2:]]
        return calls


def separable_max(node, x, out):
    """Write the window maximum of `x` into `out` (buffers cached per node and input array)."""
    cached = getattr(node, "sepmax", None)
    if cached is None or cached.x is not x:
        cached = node.sepmax = SeparableMax(x, node.geometry)
    cached.run(x, out)


def tap_views(node, x, pad_value):
    """Current tap views for input `x` (cached per node and input array)."""
    cached = getattr(node, "taps", None)
    if cached is None or cached.x is not x:
        cached = node.taps = TapViews(x, node.geometry, pad_value)
    return cached.refresh(x)


def valid_counts(h, w, g):
    """[oh, ow] number of window taps that fall inside the unpadded input."""
    pt, _, pl, _ = g["pad"]
    rows = np.arange(g["oh"]) * g["sh"] - pt
    cols = np.arange(g["ow"]) * g["sw"] - pl
    rh = np.minimum(rows + g["fh"], h) - np.maximum(rows, 0)
    cw = np.minimum(cols + g["fw"], w) - np.maximum(cols, 0)
    return np.maximum(rh[:, None] * cw[None, :], 1)
