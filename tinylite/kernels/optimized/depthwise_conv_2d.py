"""DEPTHWISE_CONV_2D, int8 and uint8: one vectorized multiply-add per filter
tap, in float32 (exact: see _requantize), then the requantization, chunk by
chunk of output rows so that every pass after the first runs in cache.

The input is copied once per invoke into a float buffer whose border holds the
input zero point, so no centering pass is needed: sum((x - zp) * w) + bias =
sum(x * w) + (bias - zp * sum(w)), the second term a constant per channel.
With a stride of 1 along the width, a tap's view of a row of output pixels is
one contiguous run of ow * channels values, multiplied by the tap's weights
tiled ow times (long inner loops instead of one numpy loop per pixel).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import depthwise_conv_2d as reference
from .._base import binds
from . import register
from ._requantize import Requantizer, acc_dtype, chunk_rows


@register("DEPTHWISE_CONV_2D", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_depthwise)
def prepare_int(node, reference_fn):
    return plan(node)


def plan(node):
    """The optimized eval for this prepared node, or None (the reference kernel runs)."""
    from . import ENABLED

    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    if not ENABLED or x.dtype not in (np.int8, np.uint8) or getattr(node, "q_taps", None) is None:
        return None
    b = node.inputs[2] if node.has_input(2) else None
    if b is not None and b.data is None:
        return None
    if not Requantizer.applies(node.q_shift):
        return None
    kh, kw, cin, m = node.q_taps.shape
    gemmlowp = True if node.q_simd is None else ~node.q_simd
    if cin == 1:
        # Each output channel is a plain convolution of the one input channel.
        from ._gemm import GemmConv

        return GemmConv.plan(node, node.q_taps.reshape(kh * kw, m), gemmlowp)
    taps = node.q_taps.reshape(kh, kw, cin * m)                     # exact integers
    bias = np.zeros(cin * m) if node.q_bias is None else node.q_bias.astype(np.float64)
    folded = bias - node.q_x_zp * node.q_taps.sum(axis=(0, 1)).reshape(-1)
    xmax = 128.0 if x.dtype == np.int8 else 255.0
    bound = xmax * np.abs(taps).sum(axis=(0, 1)) + np.abs(folded)
    dtype = acc_dtype(bound)
    if dtype is None:
        return None
    node.opt_dw = dict(taps=node.q_taps.astype(dtype), bias=folded.astype(dtype), dtype=dtype,
                       gemmlowp=gemmlowp, bound=float(bound.max()))
    return eval_int


class _Buffers:
    def __init__(self, node, x, out):
        p = node.opt_dw
        g = node.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        m = cout // cin
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        pt, pb, pl, pr = g["pad"]
        self.xp = np.full((n, h + pt + pb, wd + pl + pr, cin), node.q_x_zp, dtype)
        self.interior = self.xp[:, pt:pt + h, pl:pl + wd, :]
        s = self.xp.strides
        flat = m == 1 and g["sw"] == 1        # a window row of outputs is one contiguous run
        rows = min(oh, chunk_rows(n * ow * cout))
        self.acc = np.empty((n, rows, ow * cout), dtype)
        self.t = np.empty((n, rows, ow * cout), np.int64)
        self.mask = np.empty((n, rows, ow * cout), bool)
        rq = Requantizer(node.q_mult, node.q_shift, p["gemmlowp"], node.q_out_zp, node.q_lo, node.q_hi, p["bound"], ow)
        bias = np.tile(p["bias"], ow)
        outf = out.reshape(n, oh, ow * cout)
        kh, kw, sh, sw, dh, dw = (g[key] for key in ("kh", "kw", "sh", "sw", "dh", "dw"))
        if flat:
            taps = np.ascontiguousarray(np.tile(p["taps"].reshape(kh, kw, cout), (1, 1, ow)))
        else:
            taps = p["taps"]
        calls = []
        if self.interior.size:
            calls.append(partial(np.copyto, self.interior, x, casting="unsafe"))
        # einsum sums the taps in one pass over the windows (its sum-of-products loops), about twice as
        # fast as a multiply and an add per tap; the sums are exact integers, so their order is free.
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            k = r1 - r0
            acc = self.acc[:, :k]
            base = self.xp[:, r0 * sh:]
            if flat:
                win = np.lib.stride_tricks.as_strided(base, (n, k, kh, kw, ow * cout),
                                                      (s[0], s[1] * sh, s[1] * dh, s[2] * dw, s[3]), writeable=False)
                calls.append(partial(np.einsum, "nrijq,ijq->nrq", win, taps, out=acc))
            else:
                win = np.lib.stride_tricks.as_strided(base, (n, k, kh, kw, ow, cin),
                                                      (s[0], s[1] * sh, s[1] * dh, s[2] * dw, s[2] * sw, s[3]),
                                                      writeable=False)
                calls.append(partial(np.einsum, "nrijwc,ijcm->nrwcm", win, taps,
                                     out=acc.reshape(n, k, ow, cin, m)))
            if bias.any():
                calls.append(partial(np.add, acc, bias, out=acc))
            calls += rq.calls(acc, self.t[:, :k], outf[:, r0:r1], self.mask[:, :k])
        self.calls = calls
        self.x, self.out = x, out


def eval_int(node, inputs, outputs):
    fb = node.cache.get("opt_dw_bufs")
    if fb is None or fb.x is not inputs[0] or fb.out is not outputs[0]:
        fb = node.cache["opt_dw_bufs"] = _Buffers(node, inputs[0], outputs[0])
    for call in fb.calls:
        call()


@binds(eval_int)
def _bind(node, inputs, outputs):
    node.cache["opt_dw_bufs"] = _Buffers(node, inputs[0], outputs[0])
    return list(node.cache["opt_dw_bufs"].calls)
