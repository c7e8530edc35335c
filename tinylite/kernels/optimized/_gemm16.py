"""CONV_2D and FULLY_CONNECTED with int16 activations (16x8: int8 weights;
FULLY_CONNECTED also 16x16), as one exact float64 BLAS product and a few
requantization passes (a convolution's windows copied a block of images or
rows at a time; followed by a tiling MAX_POOL_2D, the products pooled before
the requantization: fuse_max_pool); DEPTHWISE_CONV_2D 16x8 as one float64
einsum over the windows and the same passes.

The products of an int16 input and int8 (int16) weights summed over K stay
exact integers in float64 while every partial sum is below 2**53: the bound,
32768 x the column's sum of |w| plus |bias|, is checked at prepare from the
constant weights (else the reference runs).  The input's zero point (0 in
TFLite's 16-bit scheme, but the double-precision FULLY_CONNECTED takes any)
is folded into the bias: sum((x - zp) * w) + b = sum(x * w) + (b - zp * sum(w)).

Each of the reference's requantizations (tinylite/kernels/_quantization.py)
then takes a few float64 passes giving the same integers:

- "mbqm64" (LiteRT's int64 MultiplyByQuantizedMultiplier: a 16-bit multiplier
  R and one rounding shift t = 15 - shift, out = (acc * R + 2**(t-1)) >> t):
  with m = R / 2**t folded into the weights (a power-of-two scaling of an
  integer product: the product's partial sums are those of the integer one
  times 2**-t, exact while |acc| * R < 2**53), out - lo = floor(v) with
  v = acc * m + (2**(t-1) + bias * R + (zp - lo) * 2**t) / 2**t; v is a
  multiple of 2**-t, exact inside the clamp [0, hi - lo] when
  (hi - lo + 1) * 2**t <= 2**53, and outside it the sum's one rounding cannot
  cross a bound (monotone, bounds representable).  So: the product, an add,
  the clip, the truncating cast into the output's unsigned view and a
  wrapping add of lo.  The reference wraps the shifted value to int32; where
  that could happen (|acc + bias| * R / 2**t near 2**31) the reference runs.
- "double" (the double-precision FULLY_CONNECTED: round half away from zero
  of acc * real_multiplier): the same float64 product rounding as the
  reference, then trunc(x + copysign(0.5, x)), which is the reference's
  sign(x) * floor(|x| + 0.5) also in float64 (the rounding of a sum is
  symmetric), with the clamp moved before the truncation (integer bounds
  commute with it).  "double32" is the same where the int32 sum cannot wrap.
- "ruy" / "gemmlowp" (an int32 bias asked for by the model): _requantize's
  Requantizer, as the 8-bit kernels.
"""
from __future__ import annotations

from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .._window import patches
from ._gemm import GemmData
from ._cached import cached_calls
from ._requantize import Requantizer, chunk_rows, padded_buffer

XMAX = 1 << 15


def plan(node, wmat, x_zp):
    """The eval for a prepared 16-bit CONV_2D (groups 1) or FULLY_CONNECTED, or None:
    `wmat` [K, cout] the constant integer weights (K ordered as the windows)."""
    # The constants go in _gemm's field (the op's OpData has it; the int8 kernel does not run on int16).
    d = node.draft(GemmData)
    b = node.inputs[2] if node.has_input(2) else None
    if b is not None and b.data is None:
        return None
    mode = d.q_mode
    w = np.asarray(wmat, np.float64)
    cout = w.shape[1]
    sums = w.sum(axis=0)
    abs_sums = np.abs(w).sum(axis=0)            # exact: below 2**53
    bias = np.zeros(cout, np.int64) if d.q_bias is None else np.asarray(d.q_bias, np.int64).reshape(-1)
    bias = bias - int(x_zp) * sums.astype(np.int64)
    xmax = XMAX + abs(int(x_zp))
    acc_range = xmax * abs_sums
    bound = acc_range + np.abs(bias).astype(np.float64)
    if float(bound.max(initial=0)) >= 2.0**53:
        return None
    p = dict(mode=mode, lo=int(d.q_lo), hi=int(d.q_hi), zp=int(d.q_out_zp))
    if mode == "mbqm64":
        consts = _mbqm64_constants(d.q_mult, d.q_shift, bias, bound, p["zp"], p["lo"], p["hi"], cout)
        if consts is None:
            return None
        p["m"], p["c"] = consts
        p["wmat"] = np.ascontiguousarray(w * p["m"])      # exact: a power-of-two scaling per column
    elif mode in ("double", "double32"):
        if mode == "double32" and float(bound.max(initial=0)) >= 2.0**31:
            return None
        p["wmat"] = np.ascontiguousarray(w)
        p["bias"] = bias.astype(np.float64) if bias.any() else None
        p["real"] = np.ascontiguousarray(np.broadcast_to(np.asarray(d.q_real, np.float64), (cout,)))
        if p["bias"] is not None:
            # The bias as one more weight row, against a column of ones after the input (exact: the
            # bound covers it), so the product is acc + bias, without an add pass.
            p["wmat_bias"] = np.ascontiguousarray(np.concatenate([w, p["bias"][None, :]]))
    elif mode in ("ruy", "gemmlowp"):
        if float(bound.max(initial=0)) >= 2.0**31 or not Requantizer.applies(d.q_shift):
            return None
        p["wmat"] = np.ascontiguousarray(w)
        p["rq"] = Requantizer(d.q_mult, d.q_shift, mode == "gemmlowp", p["zp"], p["lo"], p["hi"], bound,
                              bias=bias, acc_range=acc_range)
    else:
        return None
    if (node.op_name == "FULLY_CONNECTED" and mode != "mbqm64" and x_zp == 0 and float(np.abs(w).max(initial=0)) <= 128
            and w.nbytes >= BYTE_SPLIT_MIN_BYTES):
        from .fully_connected import _k_split

        p["ksplit"] = _k_split(w, 255)
    d.opt_conv = p
    return eval_gemm16


def _mbqm64_constants(mult, shift, bias, bound, zp, lo, hi, cout):
    """(m, c) per channel for "mbqm64" (module docstring), or None where the float64
    passes would not give the reference's integers."""
    mult = np.broadcast_to(np.asarray(mult, np.int64), (cout,))
    shift = np.broadcast_to(np.asarray(shift, np.int64), (cout,))
    reduced = np.where(mult < 0x7FFF0000, (mult + (1 << 15)) >> 16, 0x7FFF)
    t = 15 - shift
    if np.any(t < 1) or np.any((hi - lo + 1) * np.ldexp(1.0, t) > 2.0**53):
        return None
    if np.any(bound * reduced >= 2.0**53):
        return None
    # No int32 wrap of the shifted value: |acc + bias| * R / 2**t + 1 below 2**31.
    if np.any(bound * reduced / np.ldexp(1.0, t) + 1 >= 2.0**31):
        return None
    numerator = [(1 << (int(ti) - 1)) + int(bi) * int(ri) + ((zp - lo) << int(ti))
                 for ti, bi, ri in zip(t, bias, reduced)]
    if any(abs(v) >= 1 << 53 for v in numerator):
        return None
    scale = np.ldexp(1.0, -t)
    return reduced * scale, np.asarray(numerator, np.float64) * scale


def _requant_calls(p, acc, out, scratch):
    """Calls taking `acc` (float64 [rows, cout], the product) into `out` ([rows, cout], int16)."""
    mode = p["mode"]
    if mode == "mbqm64":
        u = out.view(np.uint16)
        calls = [partial(np.add, acc, p["c"], out=acc), partial(_clip, acc, 0.0, float(p["hi"] - p["lo"]), out=acc),
                 partial(np.copyto, u, acc, casting="unsafe")]
        lo_wrap = p["lo"] % 65536
        if lo_wrap:
            calls.append(partial(np.add, u, np.uint16(lo_wrap), out=u))
        return calls
    if mode in ("double", "double32"):
        calls = []
        if p["bias"] is not None:
            calls.append(partial(np.add, acc, p["bias"], out=acc))
        calls += [partial(np.multiply, acc, p["real"], out=acc),
                  partial(np.copysign, 0.5, acc, out=scratch),
                  partial(np.add, acc, scratch, out=acc),
                  partial(_clip, acc, float(p["lo"] - p["zp"]), float(p["hi"] - p["zp"]), out=acc),
                  partial(np.copyto, out, acc, casting="unsafe")]
        if p["zp"]:
            calls.append(partial(np.add, out, out.dtype.type(p["zp"]), out=out))
        return calls
    t = np.empty(acc.shape, np.int64)
    mask = np.empty(acc.shape, bool)
    return p["rq"].calls(acc, t, out, mask)


# A FULLY_CONNECTED with this many bytes of float64 weights or more, on up to BYTE_SPLIT_MAX_ROWS
# rows, multiplies the input's two bytes in float32 (see _Buffers._byte_split).
BYTE_SPLIT_MIN_BYTES = 1 << 20
BYTE_SPLIT_MAX_ROWS = 16

# The float64 windows of one block of output rows stay below this many bytes (in L2).
COLS_BLOCK_BYTES = 1 << 20


def _blocks(n, rows, row_bytes):
    """(i0, i1, r0, r1): images i0:i1, rows r0:r1 of each, in blocks of up to COLS_BLOCK_BYTES
    (`row_bytes` a row): whole images together where one fits, else rows of one image."""
    per_image = rows * row_bytes
    if per_image <= COLS_BLOCK_BYTES:
        step = max(1, COLS_BLOCK_BYTES // max(1, per_image))
        return [(i, min(n, i + step), 0, rows) for i in range(0, n, step)]
    br = max(1, COLS_BLOCK_BYTES // max(1, row_bytes))
    return [(i, i + 1, r, min(rows, r + br)) for i in range(n) for r in range(0, rows, br)]


class _Scratch:
    """Float64 buffers shared by the blocks of one kernel (they run one after another), each as
    large as the largest block asks: views of them shaped per block."""

    def __init__(self, *sizes):
        self.buffers = [np.empty(size, np.float64) for size in sizes]

    def views(self, *shapes):
        return [b[:int(np.prod(shape))].reshape(shape) for b, shape in zip(self.buffers, shapes)]


class _Buffers:
    def __init__(self, node, x, out):
        p = node.data.opt_conv
        wmat = p["wmat"]
        k, cout = wmat.shape
        self.x, self.out = x, out
        self.calls = calls = []
        if out.size == 0:
            return
        g = getattr(node.data, "geometry", None)
        if node.op_name == "FULLY_CONNECTED" or g is None:
            rows = x.size // k
            if p.get("ksplit") is not None and rows <= BYTE_SPLIT_MAX_ROWS:
                self._byte_split(p, x.reshape(rows, k), out.reshape(rows, cout), calls)
                return
            if p.get("wmat_bias") is not None:
                cols = np.empty((rows, k + 1), np.float64)
                cols[:, k] = 1.0
                calls.append(partial(np.copyto, cols[:, :k], x.reshape(rows, k), casting="unsafe"))
                wmat, p = p["wmat_bias"], dict(p, bias=None)
            else:
                cols = np.empty((rows, k), np.float64)
                calls.append(partial(np.copyto, cols, x.reshape(rows, k), casting="unsafe"))
        elif g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"]):
            rows = x.size // k
            cols = np.empty((rows, k), np.float64)
            calls.append(partial(np.copyto, cols.reshape(x.shape), x, casting="unsafe"))
        else:
            self._windows(node, p, g, x, out, calls)
            return
        res = out.reshape(rows, cout)
        step = min(rows, max(chunk_rows(cout), 16))
        acc = np.empty((step, cout), np.float64)
        scratch = np.empty((step, cout), np.float64)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            a = acc[:r1 - r0]
            calls.append(partial(np.dot, cols[r0:r1], wmat, out=a))
            calls += _requant_calls(p, a, res[r0:r1], scratch[:r1 - r0])

    @staticmethod
    def _byte_split(p, x2, res, calls):
        """A long product at a few rows, bound by reading its weights: x = 256 * hi + lo with
        hi = x >> 8 in [-128, 127] and lo = x & 255 in [0, 255], both rows multiplied by
        the int8 weights in float32 (half the bytes of float64 weights), split along the
        depth into parts whose partial sums stay below 2**24 (fully_connected._k_split, 255
        x the column's |w| sums), then summed exactly in float64: the parts, and hi * 256 + lo."""
        w = p["ksplit"]
        parts, kp, cout = w.shape
        rows, k = x2.shape
        xb = np.zeros((2 * rows, parts * kp), np.float32)
        sums = np.empty((parts, 2 * rows, cout), np.float32)
        both = np.empty((2 * rows, cout), np.float64)
        acc = np.empty((rows, cout), np.float64)
        scratch = np.empty((rows, cout), np.float64)
        calls += [partial(np.right_shift, x2, 8, out=xb[:rows, :k], casting="unsafe"),
                  partial(np.bitwise_and, x2, 255, out=xb[rows:, :k], casting="unsafe"),
                  partial(np.matmul, xb.reshape(2 * rows, parts, kp).transpose(1, 0, 2), w, out=sums),
                  partial(np.add.reduce, sums, axis=0, dtype=np.float64, out=both),
                  partial(np.multiply, both[:rows], 256.0, out=acc),
                  partial(np.add, acc, both[rows:], out=acc)]
        calls += _requant_calls(p, acc, res, scratch)

    @staticmethod
    def _windows(node, p, g, x, out, calls):
        """im2col by blocks of output rows of one image (COLS_BLOCK_BYTES of windows), each
        copied, multiplied and requantized while in cache (a whole batch's float64 windows
        would be tens of MB)."""
        wmat = p["wmat"]
        k, cout = wmat.shape
        n, h, wd, cin = x.shape
        oh, ow = g["oh"], g["ow"]
        pt, pb, pl, pr = g["pad"]
        xp, fill = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], node.data.q_x_zp, np.float64)
        if fill is not None:
            calls.append(fill)
        calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd, :], x, casting="unsafe"))
        view = patches(xp, g)                                   # [n, oh, ow, kh, kw, cin]
        res = out.reshape(n, oh * ow, cout)
        blocks = _blocks(n, oh, ow * k * 8)
        most = max((i1 - i0) * (r1 - r0) * ow for i0, i1, r0, r1 in blocks)
        buffers = _Scratch(most * k, most * cout, most * cout)
        for i0, i1, r0, r1 in blocks:
            m = (i1 - i0) * (r1 - r0) * ow
            block = view[i0:i1, r0:r1]
            cols, acc, scratch = buffers.views((m, k), (m, cout), (m, cout))
            calls += [partial(np.copyto, cols.reshape(block.shape), block, casting="unsafe"),
                      partial(np.dot, cols, wmat, out=acc)]
            calls += _requant_calls(p, acc, res[i0:i1, r0 * ow:r1 * ow].reshape(m, cout), scratch)


eval_gemm16 = cached_calls("opt_gemm16_bufs", _Buffers, "eval_gemm16")



# --- CONV_2D 16x8 followed by a tiling max pool ---

def fusable_max_pool(conv, pool) -> bool:
    """Whether fuse_max_pool applies to this 16-bit CONV_2D (eval_gemm16) and the int16
    max pool after it: the conv's own clamp leaves nothing for the pool's to clamp."""
    p = conv.data.opt_conv
    return (conv.outputs[0].dtype == pool.outputs[0].dtype == np.int16 and p is not None
            and p["mode"] in ("mbqm64", "ruy", "gemmlowp")
            and pool.data.q_lo <= p["lo"] and pool.data.q_hi >= p["hi"])


def fuse_max_pool(conv, pool):
    """(eval function, node) of one step computing this 16-bit convolution and the
    max pool after it whose windows tile its output (stride = filter, no padding):
    the maximum of the products, then only the maxima requantized.  Exact: the
    requantization is non-decreasing in the accumulator (a positive multiplier,
    floors and roundings, a clamp), so it commutes with max (as _gemm.fuse_max_pool
    for 8 bits).  The step writes the pool's output."""
    g = pool.data.geometry
    return eval_gemm16_max_pooled, conv.derived(
        pool=(g["fh"], g["fw"], g["oh"], g["ow"]), outputs=list(pool.outputs), label=f"{conv.op_name}+{pool.op_name}")


class _PooledBuffers:
    """The im2col rows of one image's pooled rows ordered (py, a, b, px) for conv output
    (py * fh + a, px * fw + b), a block of them at a time (COLS_BLOCK_BYTES of float64
    windows): the pool is one maximum over the block's (a, b) axes.  Conv outputs the
    pool does not read (past the last whole window) are not computed."""

    def __init__(self, node, x, out):
        p = node.data.opt_conv
        g = node.data.geometry
        fh, fw, ph, pw = node.data.pool
        wmat = p["wmat"]
        k, cout = wmat.shape
        n, h, wd, cin = x.shape
        pt, pb, pl, pr = g["pad"]
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        xp, fill = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], node.data.q_x_zp, np.float64)
        calls = [fill] if fill is not None else []
        calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd, :], x, casting="unsafe"))
        view = patches(xp, g)                                        # [n, oh, ow, kh, kw, cin]
        st = view.strides
        src = np.lib.stride_tricks.as_strided(
            view, (n, ph, fh, fw, pw) + view.shape[3:], (st[0], st[1] * fh, st[1], st[2], st[2] * fw) + st[3:],
            writeable=False)
        block = fh * fw * pw                                         # conv rows per pooled row
        res = out.reshape(n, ph * pw, cout)
        blocks = _blocks(n, ph, block * k * 8)
        most = max((i1 - i0) * (r1 - r0) for i0, i1, r0, r1 in blocks)
        buffers = _Scratch(most * block * k, most * block * cout, most * pw * cout, most * pw * cout)
        for i0, i1, r0, r1 in blocks:
            r = (i1 - i0) * (r1 - r0)                                # pooled rows (image, py) in the chunk
            part = src[i0:i1, r0:r1]
            cols, a, m, scratch = buffers.views((r * block, k), (r * block, cout), (r * pw, cout), (r * pw, cout))
            calls += [partial(np.copyto, cols.reshape(part.shape), part, casting="unsafe"),
                      partial(np.dot, cols, wmat, out=a),
                      partial(np.maximum.reduce, a.reshape(r, fh, fw, pw, cout), axis=(1, 2),
                              out=m.reshape(r, pw, cout))]
            calls += _requant_calls(p, m, res[i0:i1, r0 * pw:r1 * pw].reshape(r * pw, cout), scratch)
        self.calls = calls


eval_gemm16_max_pooled = cached_calls("opt_gemm16_pooled_bufs", _PooledBuffers, "eval_gemm16_max_pooled")

# --- DEPTHWISE_CONV_2D 16x8 ---

def plan_depthwise(node):
    """The eval for a prepared int16 DEPTHWISE_CONV_2D (constant filter, "mbqm64"), or None:
    the taps, scaled per output channel by m (exact, as the weights above), summed over
    the windows of a float64 copy of the input by one einsum per chunk of output rows
    (exact integer sums times 2**-t: their order is free), then the requantization's
    add, clip, cast and wrap."""
    d = node.draft(GemmData)
    b = node.inputs[2] if node.has_input(2) else None
    if d.q_taps is None or d.q_mode != "mbqm64" or (b is not None and b.data is None):
        return None
    kh, kw, cin, m = d.q_taps.shape
    cout = cin * m
    taps = d.q_taps.reshape(kh * kw, cout)
    bias = np.zeros(cout, np.int64) if d.q_bias is None else np.asarray(d.q_bias, np.int64).reshape(-1)
    bound = XMAX * np.abs(taps).sum(axis=0) + np.abs(bias).astype(np.float64)
    if float(bound.max(initial=0)) >= 2.0**53:
        return None
    p = dict(mode="mbqm64", lo=int(d.q_lo), hi=int(d.q_hi), zp=int(d.q_out_zp))
    consts = _mbqm64_constants(d.q_mult, d.q_shift, bias, bound, p["zp"], p["lo"], p["hi"], cout)
    if consts is None:
        return None
    p["m"], p["c"] = consts
    p["taps"] = np.ascontiguousarray((d.q_taps * p["m"].reshape(cin, m)))       # [kh, kw, cin, m]
    d.opt_conv = p
    return eval_depthwise16


class _DepthwiseBuffers:
    def __init__(self, node, x, out):
        p = node.data.opt_conv
        g = node.data.geometry
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        m = cout // cin
        pt, pb, pl, pr = g["pad"]
        xp, fill = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], 0.0, np.float64)
        calls = [fill] if fill is not None else []
        calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd, :], x, casting="unsafe"))
        windows = patches(xp, g)                                   # [n, oh, ow, kh, kw, cin]
        rows = min(oh, chunk_rows(n * ow * cout))
        acc = np.empty((n, rows, ow, cin, m), np.float64)
        outf = out.reshape(n, oh, ow, cout)
        for r0 in range(0, oh, rows):
            k = min(oh, r0 + rows) - r0
            a = acc[:, :k]
            calls.append(partial(np.einsum, "nhwijc,ijcm->nhwcm", windows[:, r0:r0 + k], p["taps"], out=a))
            # Views (a chunk of rows of several images is not contiguous): the passes are elementwise.
            calls += _requant_calls(p, a.reshape(n, k, ow, cout), outf[:, r0:r0 + k], None)
        self.calls = calls


eval_depthwise16 = cached_calls("opt_dw16_bufs", _DepthwiseBuffers, "eval_depthwise16")
