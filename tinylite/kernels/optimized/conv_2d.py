"""Optimized CONV_2D (float32, constant filter and bias, one group).

The padded input buffer, the im2col matrix and the strided views between
them are built once per input array and reused on every invoke, and the
bias rides in the matrix product as an extra all-ones column, so an invoke
is a copy, a copy, one matmul and the activation.  With few input channels
the matrix is kept transposed ([kh*kw*cin + 1, rows]): the im2col copy then
runs along output columns instead of over runs of `cin` elements (2x faster
for cin = 1), and BLAS takes the transposed operand as is.

The interpreter's fusion pass turns this kernel followed by a tiling max
pool into `eval_float_max_pooled` (or, on batches, Winograd's
`eval_float_winograd_pooled`).  Float results differ from the reference's
by summation order only (tests/kernels/test_fast_paths.py).
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from . import _gemm, _winograd, register
from .. import conv_2d as reference
from .._base import activation_calls, binds, Clamp, op_data
from .._pool import PaddedInput
from .._window import patches
from ._cached import cached_calls
from ._hybrid import RowQuantizer, product_dtype, rescale_calls
from ._requantize import padded_buffer


@op_data
class OpData(reference.OpData, _gemm.GemmData):
    """The reference CONV_2D's op data and what this optimized kernel adds."""

    wmat_bias: np.ndarray = None
    # A step fused with the max pool after it (fuse_max_pool):
    pool: tuple | None = None                  # (fh, fw, pooled height, pooled width)
    label: str | None = None                   # how profiles name the fused step
    pool_floor: np.float32 | float = None      # the activation's lower bound, as the pool's initial value
    pool_act: Callable | None = None           # the rest of the activation, after the pool
    winograd_filter: np.ndarray | None = None  # Winograd's path: the transformed filter
    winograd_bias: np.ndarray | None = None
    opt_hybrid: dict = None


# Below this many input channels the fast path builds the im2col matrix transposed.
TRANSPOSED_MAX_CIN = 4

_max_reduce = np.maximum.reduce
# np.dot reaches BLAS with less overhead than np.matmul (0.5 us a call).
_dot = np.dot


def _applies(node, reference_fn):
    bias = node.inputs[2] if node.has_input(2) else None
    return (reference_fn is reference.eval_float and node.data.groups == 1 and node.data.wmat is not None
            and (bias is None or bias.data is not None))


def _with_bias(node):
    """The filter matrix with the bias as its last row (the ones column of the im2col matrix)."""
    d = node.draft(OpData)
    bias = node.inputs[2] if node.has_input(2) else None
    cout = node.inputs[1].shape[0]
    b = np.zeros(cout, np.float32) if bias is None else bias.data
    d.wmat_bias = np.ascontiguousarray(np.concatenate([d.wmat[0], b[None, :]], axis=0))


# --- float32 with a large im2col matrix ---

# Above this many bytes, a whole im2col matrix costs more than it saves: its
# pages are touched at allocate (a 9x9 conv of a 384x384 image needs 383 MB)
# and every invoke streams it through memory twice.  Below it the whole-matrix
# path keeps its fusions (conv + max pool, Winograd for batches: mnist_cnn at
# batch 32 needs 25 MB and ran 1.8x slower chunked).
MAX_IM2COL_BYTES = 64 << 20
CHUNK_BYTES = 1 << 20


def _large_im2col(node, reference_fn):
    if not _applies(node, reference_fn):
        return False
    g, x, out = node.data.geometry, node.inputs[0], node.outputs[0]
    k = g["kh"] * g["kw"] * x.shape[3] + 1
    rows = int(np.prod(out.shape[:3]))
    pointwise = g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"])
    return not pointwise and rows * k * 4 > MAX_IM2COL_BYTES and x.shape[3] > TRANSPOSED_MAX_CIN


# Registered before prepare_fast: where both apply, the chunked kernel runs.
@register("CONV_2D", dtypes=(np.float32,), when=_large_im2col)
def prepare_chunked(node, reference_fn):
    _with_bias(node)
    return eval_float_chunked


class _ChunkBuffers:
    """Per chunk of output rows: the windows copied into a small im2col matrix
    (its ones column set once) and one product with the filter and bias."""

    def __init__(self, node, x, out):
        g = node.data.geometry
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
                calls.append(partial(np.dot, c.reshape(r * ow, k + 1), node.data.wmat_bias, out=dst))
                calls += activation_calls(node.data.act, dst)
        self.calls = calls


eval_float_chunked = cached_calls("chunks", _ChunkBuffers, "eval_float_chunked")


# --- float32, the whole im2col matrix ---

@register("CONV_2D", dtypes=(np.float32,), when=_applies)
def prepare_fast(node, reference_fn):
    _with_bias(node)
    return eval_float_fast


class _FastBuffers:
    """Buffers and views for one (input array, output array) pair.

    With `pool` = (fh, fw, ph, pw), a following non-overlapping max pool,
    the im2col rows are ordered by pool phase, (a, b, n, py, px) for conv
    output (py*fh + a, px*fw + b), and only the conv outputs the pool reads
    are computed.  The product is then fh*fw contiguous [n*ph*pw, cout]
    blocks and the pool is a running maximum over them.

    `copies` fill the im2col matrix: one strided copy, or, for the pooled
    layout with few channels, two.  That copy's runs are then a pool row's
    worth of input pixels, every other one; the first of the two copies
    gathers each distinct (row, column) offset of a pool window's receptive
    field once (16 for a 3x3 conv under a 2x2 pool, against 36 (tap,
    phase) pairs) and the second spreads them over the taps with runs of a
    whole image (measured: 4.3 -> 3.4 us at batch 1, 116 -> 79 at 32).
    """

    def __init__(self, x, out, g, pool=None):
        n, c = x.shape[0], x.shape[3]
        self.pad = PaddedInput(x, g, 0)
        kh, kw = g["kh"], g["kw"]
        p = patches(self.pad.padded, g)                  # [n, oh, ow, kh, kw, c]
        if pool is None:
            grid = (n, g["oh"], g["ow"])
        else:
            fh, fw, ph, pw = pool
            s = p.strides
            p = np.lib.stride_tricks.as_strided(
                p, (fh, fw, n, ph, pw, kh, kw, c),
                (s[1], s[2], s[0], s[1] * fh, s[2] * fw, s[3], s[4], s[5]), writeable=False)
            grid = (fh, fw, n, ph, pw)
        rows, k = int(np.prod(grid)), kh * kw * c
        lead = len(grid)
        if c <= TRANSPOSED_MAX_CIN:
            cols_t = np.empty((k + 1, rows), x.dtype)
            self._ones = cols_t[k]   # the bias row
            self.cols = cols_t.T
            view = cols_t[:k].reshape((kh, kw, c) + grid)
            self.copies = [(view, p.transpose(tuple(range(lead, lead + 3)) + tuple(range(lead))))]
            if pool is not None:
                self.copies = _offsets_first(self.pad.padded, g, pool, view) or self.copies
        else:
            self.cols = np.empty((rows, k + 1), x.dtype)
            self._ones = self.cols[:, k]      # the bias column
            self.copies = [(self.cols[:, :k].reshape(grid + (kh, kw, c)), p)]
        cout = out.shape[-1]
        if pool is None:
            self.res = out.reshape(rows, cout)
        else:
            self.res = np.empty((rows, cout), x.dtype)
            self.phases = self.res.reshape(pool[0] * pool[1], -1, cout)
            self.pooled = out.reshape(-1, cout)
        self.x, self.out = x, out

    def fill_ones(self):
        """Set the bias column at the first invoke, not at allocate: a column of a
        large matrix touches every page of it (tens of ms of page faults at load)."""
        if self._ones is not None:
            self._ones[...] = 1
            self._ones = None


def _offsets_first(xp, g, pool, view):
    """The two copies of _FastBuffers' docstring into `view` ([kh, kw, c, fh,
    fw, n, ph, pw], the transposed im2col matrix), or None where the offsets
    are not much fewer than the (tap, phase) pairs."""
    kh, kw, sh, sw, dh, dw = (g[k] for k in ("kh", "kw", "sh", "sw", "dh", "dw"))
    fh, fw, ph, pw = pool
    rows, cols = (fh - 1) * sh + (kh - 1) * dh + 1, (fw - 1) * sw + (kw - 1) * dw + 1
    if 2 * rows * cols > kh * kw * fh * fw:
        return None
    n, c = xp.shape[0], xp.shape[3]
    s = xp.strides
    # offsets[r, q, c, n, py, px] = xp[n, py*fh*sh + r, px*fw*sw + q, c]
    src = np.lib.stride_tricks.as_strided(xp, (rows, cols, c, n, ph, pw),
                                          (s[1], s[2], s[3], s[0], s[1] * fh * sh, s[2] * fw * sw), writeable=False)
    offsets = np.empty(src.shape, xp.dtype)
    e = offsets.strides
    # view[i, j, c, a, b, ...] = offsets[a*sh + i*dh, b*sw + j*dw, c, ...]
    spread = np.lib.stride_tricks.as_strided(offsets, view.shape, (e[0] * dh, e[1] * dw, e[2], e[0] * sh, e[1] * sw)
                                             + e[3:], writeable=False)
    return [(offsets, src), (view, spread)]


def _multiply(node, x, out, pool=None):
    """Refresh the im2col matrix from `x` and multiply it by the filter (and
    bias): the buffers' product, returned as they are for the caller's epilogue."""
    fb = node.cache.get("fast")
    if fb is None or fb.x is not x or fb.out is not out:
        fb = node.cache["fast"] = _FastBuffers(x, out, node.data.geometry, pool)
    fb.fill_ones()
    fb.pad.refresh(x)
    for dst, src in fb.copies:
        np.copyto(dst, src)
    _dot(fb.cols, node.data.wmat_bias, out=fb.res)
    return fb


# A 1x1 conv straight on the NHWC buffer where its output is at most this many times wider than its input
# (else copying the input beside a ones column costs less than adding the bias over the output).
POINTWISE_MAX_WIDENING = 2


def _pointwise_calls(node, x, out):
    """A 1x1, stride-1, unpadded conv as one product straight on the input's NHWC buffer and the bias
    added over whole output rows, instead of copying the input into an im2col matrix with a ones
    column (measured: blazepose's 128x128 48 -> 48 channels 1.23 -> 1.06 ms, pinto's 48x80 16 -> 16
    65 -> 37 us, deeplabv3's 33x33 480 -> 80 0.81 -> 0.66 ms); None where that does not apply."""
    g = node.data.geometry
    cin, cout = x.shape[-1], out.shape[-1]
    if (g["kh"], g["kw"], g["sh"], g["sw"]) != (1, 1, 1, 1) or any(g["pad"]) or cout > POINTWISE_MAX_WIDENING * cin \
            or not (x.flags.c_contiguous and out.flags.c_contiguous) or not out.size:
        return None
    w = node.data.wmat_bias
    rows = out.reshape(-1, out.shape[2] * cout)
    return [partial(_dot, x.reshape(-1, cin), w[:-1], out.reshape(-1, cout)),
            partial(np.add, rows, np.tile(w[-1], out.shape[2]), out=rows)]


def eval_float_fast(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    pw = node.cache.get("pointwise")
    if pw is None or pw[0] is not inputs[0] or pw[1] is not out:
        pw = node.cache["pointwise"] = (inputs[0], out, _pointwise_calls(node, inputs[0], out))
    if pw[2] is not None:
        for call in pw[2]:
            call()
    else:
        _multiply(node, inputs[0], out)
    if data.act is not None:
        data.act(out)


def eval_float_max_pooled(node, inputs, outputs):
    """The fast path followed by a max pool whose windows neither overlap nor
    pad; `outputs[0]` is the pool's output.  `node` is the one fuse_max_pool
    made: `node.data.pool` = (fh, fw, ph, pw), and the activations split into
    `pool_floor` (a lower bound) and `pool_act` (the rest)."""
    data = node.data
    out = outputs[0]
    fb = _multiply(node, inputs[0], out, data.pool)
    # The pool, and the clamp's lower bound with it: max(lo, max(window)).
    _max_reduce(fb.phases, 0, None, fb.pooled, False, data.pool_floor)
    if data.pool_act is not None:
        data.pool_act(out)


def _bound_multiply(node, x, out, pool=None):
    """_multiply's calls for these arrays, and the buffers they use."""
    fb = node.cache["fast"] = _FastBuffers(x, out, node.data.geometry, pool)
    calls = [fb.fill_ones] + ([] if fb.pad.interior is None else [partial(np.copyto, fb.pad.interior, x)])
    return fb, calls + [partial(np.copyto, dst, src) for dst, src in fb.copies] + [
        partial(_dot, fb.cols, node.data.wmat_bias, fb.res)]


@binds(eval_float_fast)
def _bind_fast(node, inputs, outputs):
    calls = _pointwise_calls(node, inputs[0], outputs[0])
    if calls is None:
        _, calls = _bound_multiply(node, inputs[0], outputs[0])
    return calls + activation_calls(node.data.act, outputs[0])


@binds(eval_float_max_pooled)
def _bind_max_pooled(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    fb, calls = _bound_multiply(node, inputs[0], out, data.pool)
    pool = partial(_max_reduce, fb.phases, 0, None, fb.pooled, False, data.pool_floor)
    return calls + [pool] + activation_calls(data.pool_act, out)


def eval_float_winograd_pooled(node, inputs, outputs):
    """The fused conv + 2x2 max pool by Winograd F(4x4, 3x3), for batches (see _winograd)."""
    _winograd.run(node, inputs[0], outputs[0])


def fuse_max_pool(conv, pool):
    """(eval function, node) of one step computing this convolution followed by
    the max pool `pool` (non-overlapping, unpadded windows): Winograd's where
    it applies (batches of 3x3 stride-1 convolutions under a 2x2 pool), else
    eval_float_max_pooled.  The step reads the convolution's inputs and writes
    the pool's output (the node's `outputs`); `conv` itself is left as prepared."""
    g = pool.data.geometry
    fused = dict(pool=(g["fh"], g["fw"], g["oh"], g["ow"]), outputs=list(pool.outputs),
                 label=f"{conv.op_name}+{pool.op_name}")    # how profiles name the fused step
    act = _combine(conv.data.act, pool.data.act)
    if _winograd.applies(conv, fused["pool"]):
        filt, bias = conv.inputs[1].data, conv.inputs[2].data if conv.has_input(2) else None
        return eval_float_winograd_pooled, conv.derived(
            **fused, winograd_filter=_winograd.transformed_filter(filt), winograd_bias=bias, act=act)
    floor, pool_act = _split_floor(act)
    return eval_float_max_pooled, conv.derived(**fused, pool_floor=floor, pool_act=pool_act)


def _combine(first, second):
    if first is None:
        return second
    if second is None:
        return first

    def both(x):
        first(x)
        second(x)
    return both


def _split_floor(act):
    """(lower bound, what is left to apply) of an activation: a RELU's floor
    rides in the pool's maximum as its initial value."""
    if isinstance(act, Clamp) and act.lo is not None:
        return act.lo, (Clamp(None, act.hi) if act.hi is not None else None)
    return -np.inf, act


# --- int8 and uint8: see _gemm.py ---

@register("CONV_2D", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_conv)
def prepare_int(node, reference_fn):
    return _gemm.plan(node)



# --- int16 activations (16x8): see _gemm16.py ---

def _int16_applies(node, reference_fn):
    return reference_fn is reference._eval_conv and node.data.groups == 1 and node.inputs[1].data is not None


@register("CONV_2D", dtypes=(np.int16,), when=_int16_applies)
def prepare_int16(node, reference_fn):
    from . import _gemm16

    w = node.inputs[1].data
    return _gemm16.plan(node, w.reshape(w.shape[0], -1).T, node.data.q_x_zp)

# --- hybrid: float32 activations, int8 weights (dynamic range) ---

def _hybrid_applies(node, reference_fn):
    return (reference_fn is reference._eval_hybrid_conv and node.data.groups == 1
            and getattr(node.data, "q_wmat", None) is not None)


@register("CONV_2D", dtypes=(np.float32,), when=_hybrid_applies)
def prepare_hybrid(node, reference_fn):
    """LiteRT's hybrid convolution: each image quantized to int8 (see _hybrid),
    one exact float BLAS product with the int8 weights (an im2col matrix past
    CHUNK_BYTES a chunk of output rows at a time), then the float32 rescale by
    weight scale x image scale, the bias and the clamp, as the reference
    computes them."""
    d = node.draft(OpData)
    wmat = d.q_wmat[0]                                  # [K, cout] exact int8 values
    dtype = product_dtype(wmat, 0)
    d.opt_hybrid = dict(wmat=wmat.astype(dtype), dtype=dtype)
    return eval_hybrid


class _HybridBuffers:
    def __init__(self, node, x, out):
        p, g = node.data.opt_hybrid, node.data.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        cout = out.shape[-1]
        pt, pb, pl, pr = g["pad"]
        # Centered values: the border holds 0, set by the first invoke where the buffer is large
        # (see _requantize.padded_buffer: np.zeros cleared all of it at allocate); every invoke
        # quantizes into the whole interior.
        xp, fill = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], 0.0, dtype)
        quantize = RowQuantizer(x, xp[:, pt:pt + h, pl:pl + wd], node.data.q_per_channel,
                                non_negative=node.inputs[0].non_negative)
        self.x, self.out = x, out
        calls = ([] if fill is None else [fill]) + [quantize]
        # The scale per (image, channel): weight scale x the image's factor, a float32 product.
        self.scale = np.empty((n, 1, cout if node.data.q_per_channel else 1), np.float32)
        wscale = node.data.q_wscale if node.data.q_per_channel else node.data.q_wscale[:1]
        calls.append(partial(np.multiply, wscale, quantize.sf[:, None, None], out=self.scale))
        bias = None if node.data.q_bias is None else np.asarray(node.data.q_bias, np.float32)
        rows = out.size // cout
        k = g["kh"] * g["kw"] * cin
        _, oh, ow, _ = out.shape
        pointwise = g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"])
        if pointwise or rows * k * np.dtype(dtype).itemsize <= CHUNK_BYTES:
            if pointwise:
                cols = xp.reshape(rows, cin)
            else:
                view = patches(xp, g)
                cols = np.empty((rows, k), dtype)
                calls.append(partial(np.copyto, cols.reshape(view.shape), view))
            calls += _hybrid_product_calls(cols, p["wmat"], out.reshape(rows, cout), dtype)
            calls += rescale_calls(out.reshape(n, -1, cout), self.scale, bias, node.data.q_clamp)
        else:
            # A large im2col matrix is made and used a chunk of output rows at a time, in cache
            # (the products are exact integers: chunks change no value).
            view = patches(xp, g)                                   # [n, oh, ow, kh, kw, cin]
            step = max(1, min(oh, CHUNK_BYTES // (ow * k * np.dtype(dtype).itemsize)))
            cols = np.empty((step, ow, k), dtype)
            acc = None if dtype == np.float32 else np.empty((step * ow, cout), dtype)
            res = out.reshape(n, oh, ow, cout)
            for b in range(n):
                for r0 in range(0, oh, step):
                    r = min(oh, r0 + step) - r0
                    c = cols[:r]
                    calls.append(partial(np.copyto, c.reshape(view[b, r0:r0 + r].shape), view[b, r0:r0 + r]))
                    dst = res[b, r0:r0 + r].reshape(r * ow, cout)
                    calls += _hybrid_product_calls(c.reshape(r * ow, k), p["wmat"], dst, dtype,
                                                   None if acc is None else acc[:r * ow])
                    calls += rescale_calls(dst, self.scale[b], bias, node.data.q_clamp)
        self.calls = calls


def _hybrid_product_calls(cols, wmat, res, dtype, acc=None):
    """The exact integer product into res (float32), through a float64 accumulator (`acc`,
    else a new one) where needed."""
    if dtype == np.float32:
        return [partial(np.dot, cols, wmat, out=res)]
    acc = np.empty(res.shape, dtype) if acc is None else acc
    return [partial(np.dot, cols, wmat, out=acc),
            partial(np.copyto, res, acc, casting="unsafe")]     # float32(acc), as the reference


eval_hybrid = cached_calls("opt_hybrid_bufs", _HybridBuffers, "eval_hybrid")


# --- float32 in LiteRT's order (the convolutions whose results a hybrid op quantizes) ---

def _litert_order_applies(node, reference_fn):
    from .._litert_order import conv_float
    from ._litert_order import conv_applies

    bias = node.inputs[2] if node.has_input(2) else None
    out = node.outputs[0]
    rows = int(np.prod(out.shape[:-1])) if out.shape else 0
    return (reference_fn is conv_float and not node.reference and node.data.wmat is not None and (bias is None or bias.data is not None)
            and conv_applies(rows, out.shape[-1], node.data.groups))


@register("CONV_2D", dtypes=(np.float32,), when=_litert_order_applies)
def prepare_litert_order(node, reference_fn):
    """_litert_order.conv_float's optimized-resolver order (Eigen's accumulators,
    bit for bit) as a few whole-map calls (see optimized/_litert_order): the im2col
    matrix [taps, pixels] filled into a buffer kept across invokes, above a row of ones
    (the bias's tap), its in-order sums in one einsum (or, where numpy's einsum does not
    sum in order, every product of a chunk in one multiply and its sums in one add.reduce)."""
    return eval_litert_order


class _LiteRTOrderBuffers:
    def __init__(self, node, x, out):
        from ._litert_order import conv_calls, node_calls

        g, data = node.data.geometry, node.data
        n, h, wd, cin = x.shape
        cout = out.shape[-1]
        rows = out.size // cout
        self.x, self.out = x, out
        pt, pb, pl, pr = g["pad"]
        calls = []
        depth = g["kh"] * g["kw"] * cin
        # The im2col matrix [taps, pixels] and a row of ones below it (conv_calls' bias tap).
        with_ones = np.empty((depth + 1, rows), np.float32)
        with_ones[depth] = 1.0
        cols = with_ones[:depth]
        if g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"]):
            calls.append(partial(np.copyto, cols, x.reshape(rows, cin).T))
        else:
            xp = x
            if pt or pb or pl or pr:
                xp = np.zeros((n, h + pt + pb, wd + pl + pr, cin), np.float32)
                calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd], x))
            view = patches(xp, g).transpose(3, 4, 5, 0, 1, 2)          # [kh, kw, cin, n, oh, ow]
            calls.append(partial(np.copyto, cols.reshape(view.shape), view))
        b = node.inputs[2] if node.has_input(2) else None
        bias = None if b is None else np.asarray(b.data, np.float32).reshape(-1)
        calls += conv_calls(cols, data.wmat[0].astype(np.float32), out.reshape(rows, cout), bias, data.act,
                            with_ones)
        self.calls = node_calls(calls)


eval_litert_order = cached_calls("opt_litert_order_bufs", _LiteRTOrderBuffers, "eval_litert_order")
