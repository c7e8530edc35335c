"""CONV_2D, int8 and uint8 (one group): im2col and one float BLAS product per
chunk of output rows, exact (see _requantize), then the requantization of
that chunk while it is in cache.

The input is copied once per invoke, cast to float, into a buffer whose border
holds the input zero point (so padding contributes zero after centering) and,
for a 1x1 stride-1 convolution, whose extra last channel holds 1: the bias rides
in the product as one more weight row, folded with the centering:
sum((x - zp) * w) + bias = sum(x * w) + (bias - zp * sum(w)).
Other geometries copy the windows into an im2col matrix with a ones column.

`GemmConv` also serves DEPTHWISE_CONV_2D with one input channel (a depth
multiplier as large as 128 is then a product with kh*kw rows).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .._base import binds
from ._requantize import Requantizer, acc_dtype, chunk_rows, padded_buffer

TILE_ELEMENTS = 512


def plan(node):
    """The optimized eval for this prepared node, or None (the reference kernel runs)."""
    from . import ENABLED

    x, w = node.inputs[0], node.inputs[1]
    if not ENABLED or x.dtype not in (np.int8, np.uint8) or node.groups != 1 or w.data is None:
        return None
    if node.q_mode not in ("ruy", "gemmlowp"):
        return None
    cout = w.shape[0]
    return GemmConv.plan(node, w.data.reshape(cout, -1).T, node.q_wzp, node.q_mode == "gemmlowp")


class GemmConv:
    """The constants of one integer convolution as a product: `wmat` [K, cout]
    integer weights (minus `wzp`), K ordered (kh, kw, cin) like the windows."""

    @staticmethod
    def plan(node, wmat, wzp, gemmlowp):
        if not Requantizer.applies(node.q_shift):
            return None
        b = node.inputs[2] if node.has_input(2) else None
        if b is not None and b.data is None:
            return None
        k, cout = wmat.shape
        # Integer sums first (exact, and cheap at load: no float64 copy of the weights).
        centered = wmat.astype(np.int32) - int(wzp)
        bias = np.zeros(cout, np.int64) if node.q_bias is None else node.q_bias.astype(np.int64)
        folded = bias - int(node.q_x_zp) * centered.sum(axis=0, dtype=np.int64)
        xmax = 128 if node.inputs[0].dtype == np.int8 else 255
        bound = (xmax * np.abs(centered).sum(axis=0, dtype=np.int64) + np.abs(folded)).astype(np.float64)
        dtype = acc_dtype(bound)
        if dtype is None:
            return None
        matrix = np.empty((k + 1, cout), dtype)
        matrix[:k] = centered
        matrix[k] = folded
        node.opt_conv = dict(wmat=matrix, dtype=dtype, gemmlowp=gemmlowp, bound=float(bound.max()))
        return eval_int


class _Buffers:
    def __init__(self, node, x, out):
        from ..conv_2d import patches

        p = node.opt_conv
        g = node.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        pt, pb, pl, pr = g["pad"]
        rows = n * oh * ow
        calls = []
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        pointwise = g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"])
        if pointwise:
            xp = np.empty((n, h, wd, cin + 1), dtype)
            xp[..., cin] = 1
            calls.append(partial(np.copyto, xp[..., :cin], x, casting="unsafe"))
            cols = xp.reshape(rows, cin + 1)
        else:
            k = g["kh"] * g["kw"] * cin
            cols = np.empty((rows, k + 1), dtype)
            cols[:, k] = 1
            if any(g["pad"]):
                xp = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], node.q_x_zp, dtype)
                calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd, :], x, casting="unsafe"))
            else:
                xp = x
            view = patches(xp, g)
            calls.append(partial(np.copyto, cols[:, :k].reshape(view.shape), view, casting="unsafe"))
        # The requantization sees `tile` output rows as one row of tile * cout values (see Requantizer).
        tile = min(rows, -(-TILE_ELEMENTS // cout))
        step = min(rows, max(chunk_rows(cout), 16))
        step = max(tile, step - step % tile)
        acc = np.empty((step, cout), dtype)
        t = np.empty(step * cout, np.int64)
        mask = np.empty(step * cout, bool)
        args = (node.q_mult, node.q_shift, p["gemmlowp"], node.q_out_zp, node.q_lo, node.q_hi, p["bound"])
        rq, rq1 = Requantizer(*args, tile=tile), Requantizer(*args)
        res = out.reshape(rows, cout)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            k = r1 - r0
            a = acc[:k]
            calls.append(partial(np.dot, cols[r0:r1], p["wmat"], out=a))
            main = k - k % tile
            if main:
                shape = (main // tile, tile * cout)
                calls += rq.calls(a[:main].reshape(shape), t[:main * cout].reshape(shape),
                                  res[r0:r0 + main].reshape(shape), mask[:main * cout].reshape(shape))
            if main < k:
                shape = (k - main, cout)
                calls += rq1.calls(a[main:], t[:(k - main) * cout].reshape(shape), res[r0 + main:r1],
                                   mask[:(k - main) * cout].reshape(shape))
        self.calls = calls
        self.x, self.out = x, out


def eval_int(node, inputs, outputs):
    fb = getattr(node, "opt_conv_bufs", None)
    if fb is None or fb.x is not inputs[0] or fb.out is not outputs[0]:
        fb = node.opt_conv_bufs = _Buffers(node, inputs[0], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_int)
def _bind(node, inputs, outputs):
    node.opt_conv_bufs = _Buffers(node, inputs[0], outputs[0])
    return list(node.opt_conv_bufs.calls)


# --- float32 with a large im2col matrix ---

# Above this many bytes, a whole im2col matrix costs more than it saves: its
# pages are touched at allocate (a 9x9 conv of a 384x384 image needs 383 MB)
# and every invoke streams it through memory twice.  Below it the whole-matrix
# path keeps its fusions (conv + max pool, Winograd for batches: mnist_cnn at
# batch 32 needs 25 MB and ran 1.8x slower chunked).
MAX_IM2COL_BYTES = 64 << 20
CHUNK_BYTES = 1 << 20


def plan_float(node):
    """A chunked eval for a float convolution whose im2col matrix would be large, or None."""
    from . import ENABLED

    g, x, out = node.geometry, node.inputs[0], node.outputs[0]
    if not ENABLED or getattr(node, "wmat_bias", None) is None or node.groups != 1:
        return None
    k = node.wmat_bias.shape[0]
    rows = int(np.prod(out.shape[:3]))
    pointwise = g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"])
    if pointwise or rows * k * 4 <= MAX_IM2COL_BYTES or x.shape[3] <= 4:
        return None
    return eval_float


class _FloatBuffers:
    """Per chunk of output rows: the windows copied into a small im2col matrix
    (its ones column set once) and one product with the filter and bias."""

    def __init__(self, node, x, out):
        from .._base import activation_calls
        from ..conv_2d import patches

        g = node.geometry
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        pt, pb, pl, pr = g["pad"]
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        calls = []
        if any(g["pad"]):
            xp = np.zeros((n, h + pt + pb, wd + pl + pr, cin), np.float32)     # untouched pages stay lazy
            calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd], x))
        else:
            xp = x
        view = patches(xp, g)                                   # [n, oh, ow, kh, kw, cin]
        k = g["kh"] * g["kw"] * cin
        per_row = ow * (k + 1) * 4
        step = max(1, min(oh, CHUNK_BYTES // per_row))        # output image rows per chunk
        cols = np.empty((n, step, ow, k + 1), np.float32)
        cols[..., k] = 1
        res = out.reshape(n, oh, ow, cout)
        for b in range(n):
            for r0 in range(0, oh, step):
                r = min(oh, r0 + step) - r0
                c = cols[b, :r]
                windows = c[..., :k].reshape(r, ow, g["kh"], g["kw"], cin)
                assert np.shares_memory(windows, cols)           # a view: the copy lands in the matrix
                calls.append(partial(np.copyto, windows, view[b, r0:r0 + r]))
                dst = res[b, r0:r0 + r].reshape(r * ow, cout)
                calls.append(partial(np.dot, c.reshape(r * ow, k + 1), node.wmat_bias, out=dst))
                calls += activation_calls(node.act, dst)
        self.calls = calls


def eval_float(node, inputs, outputs):
    fb = getattr(node, "opt_fconv_bufs", None)
    if fb is None or fb.x is not inputs[0] or fb.out is not outputs[0]:
        fb = node.opt_fconv_bufs = _FloatBuffers(node, inputs[0], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    node.opt_fconv_bufs = _FloatBuffers(node, inputs[0], outputs[0])
    return list(node.opt_fconv_bufs.calls)
