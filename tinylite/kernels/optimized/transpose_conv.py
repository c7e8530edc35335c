"""Optimized TRANSPOSE_CONV, int8 (per-channel int8 weights, int32 bias,
LiteRT's optimized blocked requantization): one exact float BLAS product, the
taps placed into the output accumulator, then the requantization of
_requantize, chunk by chunk of output rows.

The input's zero point rides in the product: the input rows get a ones
column and the filter matrix a row of -zp * sum(w) per (tap, channel)
column, so every tap that reaches an output pixel brings its own
correction (at the borders fewer taps reach a pixel; a per-channel constant
could not say how many).  Where the taps do not overlap (kernel <= stride,
as the 2x2 stride-2 upsamplers of detection models), placing them is one
strided copy; otherwise the accumulator is cleared and each tap added.

Sums stay exact: each product column (one tap, one channel) is at most
128 * sum|w| + |zp| * sum|w| <= 256 * sum|w| in magnitude (sum over input
channels), and an output pixel sums at most ceil(kh / sh) * ceil(kw / sw)
taps' (x - zp) * w, each at most 255 * sum|w|; so float32 where 256 * that
many taps * the largest tap's sum|w| (per output channel) + |bias| < 2**24,
float64 below 2**31, else the reference kernel.

LiteRT's blocked requantization (kernels/transpose_conv.py) is, for a right
shift of at least 1, a doubling high multiply and a rounding shift, both
ties up: floor((acc * M + 2**30 + 2**(30 + r)) / 2**(31 + r)), the
Requantizer's ruy rounding; the channels past the last block of 8 round as
gemmlowp.  A blocked channel without a right shift keeps the reference.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import register
from .. import transpose_conv as reference
from .._base import binds, op_data
from ._requantize import Requantizer, acc_dtype, chunk_rows


@op_data
class OpData(reference.OpData):
    """The reference TRANSPOSE_CONV's op data and what this optimized kernel adds."""

    opt_tconv: dict = None


def _applies(node, reference_fn):
    x = node.inputs[2]
    return (reference_fn is reference.eval_quantized and x.dtype == np.int8 and node.data.mode == "blocked"
            and node.inputs[1].data is not None)


@register("TRANSPOSE_CONV", when=_applies)
def prepare_int8(node, reference_fn):
    d = node.draft(OpData)
    kh, kw, cout = d.kernel
    shift = np.broadcast_to(np.asarray(d.q_shift, np.int64), (cout,))
    blocked = cout - cout % 8
    if np.any(shift[:blocked] > -1) or np.any(shift > 0):
        return None
    w = node.inputs[1].data                                   # [cout, kh, kw, cin], zero point 0
    cin = w.shape[3]
    # The weights transposed in one casting copy, in float32 (exact: |w| <= 128), with room for the
    # zero point's row; their sums over cin (every partial sum below 2**24 while 128 * cin is) as BLAS
    # products with a ones vector.  (int64 passes over the weights took 2/3 of palm_detection's
    # TRANSPOSE_CONV prepare.)
    wf = np.empty((cin + 1, kh * kw * cout), np.float32)
    np.copyto(wf[:cin].reshape(cin, kh, kw, cout), w.transpose(3, 1, 2, 0), casting="unsafe")
    if 128 * cin < 2**24:
        ones = np.ones(cin, np.float32)
        sums, abs_sums = (ones @ wf[:cin]).astype(np.int64), (ones @ np.abs(wf[:cin])).astype(np.int64)
    else:
        sums = wf[:cin].sum(axis=0, dtype=np.float64).astype(np.int64)
        abs_sums = np.abs(wf[:cin]).sum(axis=0, dtype=np.float64).astype(np.int64)
    correction = -int(d.x_zp) * sums
    # An output pixel gets at most ceil(kh / sh) * ceil(kw / sw) taps.
    sh, sw = d.strides
    per_pixel = -(-kh // sh) * -(-kw // sw)
    acc_range = 256.0 * per_pixel * abs_sums.reshape(kh * kw, cout).max(axis=0).astype(np.float64)
    bias = np.zeros(cout, np.int64) if d.q_bias is None else np.asarray(d.q_bias, np.int64).reshape(cout)
    bound = acc_range + np.abs(bias)
    dtype = acc_dtype(bound)
    if dtype is None:
        return None
    wmat = wf if dtype == np.float32 else wf.astype(dtype)
    wmat[cin] = correction
    d.opt_tconv = dict(wmat=wmat, dtype=dtype, bias=bias, bound=bound, acc_range=acc_range,
                       gemmlowp=np.arange(cout) >= blocked)
    return eval_int8


class _Buffers:
    def __init__(self, node, x, out):
        d = node.data
        p = d.opt_tconv
        dtype = p["dtype"]
        kh, kw, cout = d.kernel
        sh, sw = d.strides
        pt, pl = d.pad_top, d.pad_left
        n, h, wd, cin = x.shape
        _, H, W, _ = out.shape
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        rows = n * h * wd
        xb = np.empty((rows, cin + 1), dtype)
        xb[:, cin] = 1                                          # the zero point's column
        cols = np.empty((rows, kh * kw * cout), dtype)
        calls = [partial(np.copyto, xb[:, :cin], x.reshape(rows, cin), casting="unsafe"),
                 partial(np.dot, xb, p["wmat"], out=cols)]
        fh, fw = max((h - 1) * sh + kh, pt + H), max((wd - 1) * sw + kw, pl + W)
        full = np.zeros((n, fh, fw, cout), dtype)               # never written where no tap lands
        taps = cols.reshape(n, h, wd, kh, kw, cout)
        s = full.strides
        if kh <= sh and kw <= sw:
            # Each output pixel gets at most one tap: place all of them with one strided copy.
            dst = np.lib.stride_tricks.as_strided(full, (n, h, wd, kh, kw, cout),
                                                  (s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]))
            calls.append(partial(np.copyto, dst, taps))
        else:
            calls.append(partial(np.copyto, full, 0))
            for i in range(kh):
                for j in range(kw):
                    dst = full[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw]
                    calls.append(partial(np.add, dst, taps[:, :, :, i, j], out=dst))
        # Output rows of W * cout values (the cropped columns of a row are contiguous).
        acc = full[:, pt:pt + H, pl:pl + W].reshape(n, H, W * cout)
        res = out.reshape(n, H, W * cout)
        step = min(H, chunk_rows(n * W * cout))
        t = np.empty((n, step, W * cout), np.int64)
        mask = np.empty((n, step, W * cout), bool)
        rq = Requantizer(d.q_mult, d.q_shift, p["gemmlowp"], d.q_out_zp, d.q_lo, d.q_hi, p["bound"], tile=W,
                         bias=p["bias"], acc_range=p["acc_range"])
        for r0 in range(0, H, step):
            k = min(H, r0 + step) - r0
            calls += rq.calls(acc[:, r0:r0 + k], t[:, :k], res[:, r0:r0 + k], mask[:, :k])
        self.calls = calls


def eval_int8(node, inputs, outputs):
    fb = node.cache.get("opt_tconv_bufs")
    if fb is None or fb.x is not inputs[2] or fb.out is not outputs[0]:
        fb = node.cache["opt_tconv_bufs"] = _Buffers(node, inputs[2], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_int8)
def _bind(node, inputs, outputs):
    fb = node.cache["opt_tconv_bufs"] = _Buffers(node, inputs[2], outputs[0])
    return list(fb.calls)
