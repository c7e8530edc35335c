"""CONV_2D, int8 and uint8 (one group): im2col and one float BLAS product per
chunk of output rows, exact (see _requantize), then the requantization of
that chunk while it is in cache.

The input is copied once per invoke, cast to float, into a buffer whose border
holds the input zero point (so padding contributes zero after centering); a
1x1 stride-1 convolution multiplies that copy, other geometries copy the
windows into an im2col matrix.  The bias, folded with the centering,
sum((x - zp) * w) + bias = sum(x * w) + (bias - zp * sum(w)),
rides in the requantization's constant (see _requantize), not in the product:
no ones column to fill at allocate or to stride around at every copy.

`GemmConv` also serves DEPTHWISE_CONV_2D with one input channel (a depth
multiplier as large as 128 is then a product with kh*kw rows).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .._window import patches
from ._requantize import Requantizer, acc_dtype, chunk_rows, padded_buffer
from ._cached import cached_calls
from .._base import OpDataBase, op_data


@op_data
class GemmData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    opt_conv: dict = None

TILE_ELEMENTS = 512


def plan(node):
    """The optimized eval for this prepared node, or None (the reference kernel runs)."""
    from . import ENABLED

    x, w = node.inputs[0], node.inputs[1]
    if not ENABLED or x.dtype not in (np.int8, np.uint8) or node.data.groups != 1 or w.data is None:
        return None
    if node.data.q_mode not in ("ruy", "gemmlowp"):
        return None
    cout = w.shape[0]
    return GemmConv.plan(node, w.data.reshape(cout, -1).T, node.data.q_wzp, node.data.q_mode == "gemmlowp")


class GemmConv:
    """The constants of one integer convolution as a product: `wmat` [K, cout]
    integer weights (minus `wzp`), K ordered (kh, kw, cin) like the windows."""

    @staticmethod
    def plan(node, wmat, wzp, gemmlowp):
        d = node.draft(GemmData)
        if not Requantizer.applies(d.q_shift):
            return None
        b = node.inputs[2] if node.has_input(2) else None
        if b is not None and b.data is None:
            return None
        cout = wmat.shape[1]
        # One float32 pass makes the centered weights (exact: |w - zp| <= 255) in wmat's memory
        # order; their column sums are exact integers (see _column_sums).  (int32/int64 passes
        # cost three times as much at load.)
        centered = (np.subtract(wmat, np.float32(wzp), dtype=np.float32) if wzp else
                    wmat.astype(np.float32))
        sums, abs_sums = _column_sums(centered)
        bias = np.zeros(cout, np.int64) if d.q_bias is None else d.q_bias.astype(np.int64)
        folded = bias - int(d.q_x_zp) * sums
        xmax = 128 if node.inputs[0].dtype == np.int8 else 255
        acc_range = (xmax * abs_sums).astype(np.float64)
        bound = acc_range + np.abs(folded)
        dtype = product_dtype(acc_range, bound)
        if dtype is None:
            return None
        d.opt_conv = dict(wmat=centered if dtype == np.float32 else centered.astype(dtype), bias=folded,
                          dtype=dtype, gemmlowp=gemmlowp, bound=bound, acc_range=acc_range)
        return eval_int


def product_dtype(acc_range, bound):
    """The product's dtype: float32 where its sums of x * w stay exact (|sum| <= `acc_range`
    below 2**24), float64 past that; None where the int32 accumulator with the bias (`bound`)
    could wrap.  The folded bias is not in the product (it rides in the requantization's
    constant), so a large bias alone does not need float64 (the bound covers it there)."""
    if acc_dtype(bound) is None:
        return None
    return acc_dtype(acc_range)


def _column_sums(centered):
    """(sums, sums of absolute values) over axis 0 of the [K, cout] float32 integer weights, as
    int64.  Below 2**24 (255 * K) every partial sum is an exact float32 integer whatever the order,
    so they are BLAS products with a ones vector: numpy's reduction down the rows of wmat's
    transposed layout ran ~10x slower (mobilenet_v2's 1x1 convs: 13% of its load)."""
    k = centered.shape[0]
    if 255 * k < 2**24:
        ones = np.ones(k, np.float32)
        return (ones @ centered).astype(np.int64), (ones @ np.abs(centered)).astype(np.int64)
    return (centered.sum(axis=0, dtype=np.float64).astype(np.int64),
            np.abs(centered).sum(axis=0, dtype=np.float64).astype(np.int64))


class _Buffers:
    def __init__(self, node, x, out):
        p = node.data.opt_conv
        g = node.data.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        rows = n * oh * ow
        calls = []
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        if scaled_applies(rows, g["kh"] * g["kw"] * cin, cout):
            step = rows if rows * cout <= ONE_CHUNK_ELEMENTS else min(rows, max(chunk_rows(cout), 16))
            scaled = scaled_product(node, out.dtype, step * cout)
            if scaled is not None:
                self.calls = _scaled_calls(node, x, out, step, *scaled)
                return
        pointwise = g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"])
        if pointwise:
            xp = np.empty((n, h, wd, cin), dtype)
            calls.append(partial(np.copyto, xp, x, casting="unsafe"))
            cols = xp.reshape(rows, cin)
        else:
            k = g["kh"] * g["kw"] * cin
            cols = np.empty((rows, k), dtype)
            view = patches(_padded_input(node, x, dtype, calls), g)
            calls.append(partial(np.copyto, cols.reshape(view.shape), view, casting="unsafe"))
        # The requantization sees `tile` output rows as one row of tile * cout values (see Requantizer).
        # A tile dividing the rows leaves no remainder rows (another product and requantization: 7 calls).
        tile = _divisor_at_least(rows, min(rows, -(-TILE_ELEMENTS // cout)))
        step = min(rows, max(chunk_rows(cout), 16))
        step = max(tile, step - step % tile)
        if rows * cout <= ONE_CHUNK_ELEMENTS:
            step = rows
        fill = _row_major(p) if rows >= ROW_MAJOR_MIN_ROWS else None
        if fill is not None:
            calls.insert(0, fill)
        acc = np.empty((step, cout), dtype)
        t = np.empty(step * cout, np.int64)
        mask = np.empty(step * cout, bool)
        data = node.data
        args = (data.q_mult, data.q_shift, p["gemmlowp"], data.q_out_zp, data.q_lo, data.q_hi, p["bound"])
        rq = Requantizer(*args, tile=tile, bias=p["bias"], acc_range=p["acc_range"])
        rq1 = None          # the untiled requantizer of a chunk's remainder rows, made where one has them
        res = out.reshape(rows, cout)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            k = r1 - r0
            a = acc[:k]
            if fill is None:
                calls.append(partial(np.dot, cols[r0:r1], p["wmat"], out=a))
            else:
                calls.append(partial(_dot_filter, cols[r0:r1], p, a))
            main = k - k % tile
            if main:
                shape = (main // tile, tile * cout)
                calls += rq.calls(a[:main].reshape(shape), t[:main * cout].reshape(shape),
                                  res[r0:r0 + main].reshape(shape), mask[:main * cout].reshape(shape), True)
            if main < k:
                shape = (k - main, cout)
                if rq1 is None:
                    rq1 = Requantizer(*args, bias=p["bias"], acc_range=p["acc_range"]) if tile > 1 else rq
                calls += rq1.calls(a[main:], t[:(k - main) * cout].reshape(shape), res[r0 + main:r1],
                                   mask[:(k - main) * cout].reshape(shape), True)
        self.calls = calls
        self.x, self.out = x, out


eval_int = cached_calls("opt_conv_bufs", _Buffers, "eval_int")


# Products with up to this many terms per output (K), and at least twice as many outputs per row
# (cout), take the scaled float64 form: float64 BLAS costs twice float32's per term and the window
# copy twice the bytes, while the passes saved are per output.  Measured per conv, against float32
# BLAS and the five requantization passes: 112x112x16 -> 96 2.67 -> 1.89 ms, 56x56x24 -> 144
# 1.10 -> 0.75, 28x28x32 -> 192 0.41 -> 0.38; slower at 112x112x32 -> 16 (0.92 -> 1.26) and
# 224x224x3 -> 32 3x3 (1.80 -> 1.93), and at K = 64 even.
SCALED_MAX_K = 48
# Also products of up to this many multiply-adds, whatever their shape: there the calls cost more
# than the arithmetic, and the scaled form takes two fewer (float64 BLAS's extra cost past it: rnet's
# 9x9 3x3x28 -> 48, 1M multiply-adds, 43 -> 70 us).
SCALED_SMALL_MACS = 1 << 14


def scaled_applies(rows, k, cout) -> bool:
    """Whether a product of `rows` windows of `k` terms by `cout` filters takes the scaled
    float64 form (where the requantization allows it: scaled_product)."""
    return (k <= SCALED_MAX_K and cout >= 2 * k) or rows * (k + 1) * cout <= SCALED_SMALL_MACS


def scaled_product(node, out_dtype, size):
    """(wmat, rq, wrap) for the scaled float64 form of this conv whose products come in chunks
    of up to `size` values, or None: wmat [K + 1, cout] holds the
    centered weights times the requantization's per-channel scale, over a last row holding its
    constant, so that [windows, 1] @ wmat is the requantization's float value itself (exact, see
    Requantizer.product_form) and only its clamp and cast remain: one product and two passes per
    chunk instead of a product and five passes.  Built once per node and output type."""
    p, data = node.data.opt_conv, node.data
    # (A conv fused with a max pool shares opt_conv with its unfused node, under its own clamp.)
    clamp = (int(data.q_out_zp), int(data.q_lo), int(data.q_hi))
    rq = p.get(("scaled rq",) + clamp)
    if rq is None:
        # Kept: the scaled form's calls use no scratch of the requantizer's (finish_calls takes its
        # buffers from the caller), so every bind of the node can share it.
        rq = p[("scaled rq",) + clamp] = Requantizer(data.q_mult, data.q_shift, p["gemmlowp"], *clamp, p["bound"],
                                                     bias=p["bias"], acc_range=p["acc_range"])
    wrap = rq.wraps(out_dtype, size)
    key = ("scaled", wrap) + clamp
    if key not in p:
        form = rq.product_form(p["acc_range"], wrap)
        if form is None:
            p[key] = None
        else:
            m, c = form
            k, cout = p["wmat"].shape
            wmat = np.empty((k + 1, cout), np.float64)
            np.multiply(p["wmat"], m, out=wmat[:k])
            wmat[k] = c
            p[key] = wmat
    return None if p[key] is None else (p[key], rq, wrap)


def ones_column(rows, k):
    """A float64 [rows, k + 1] buffer whose last column holds 1 (set once: the copies into it
    write only the first k columns), the left operand of a scaled product."""
    cols = np.empty((rows, k + 1), np.float64)
    cols[:, k] = 1.0
    return cols


def _window_copy(node, x, cols, view_shape, calls):
    """Appends to `calls` the copy of x's windows (in `view_shape` order, its leading axes the
    output pixels) into the first k columns of the scaled product's left operand `cols`: the
    input padded in its own type (the zero point in the border), cast once by this copy."""
    g = node.data.geometry
    cin = x.shape[3]
    if g["kh"] == g["kw"] == g["sh"] == g["sw"] == 1 and not any(g["pad"]) and view_shape is None:
        calls.append(partial(np.copyto, cols[:, :-1], x.reshape(-1, cin), casting="unsafe"))
        return
    view = patches(_padded_input(node, x, x.dtype, calls), g)
    if view_shape is not None:
        view = view_shape(view)
    # The destination: cols' rows in the view's pixel order, each row's first k values as (kh, kw, cin).
    pixel_axes = view.ndim - 3
    row = cols.strides[0]
    pixel_strides, step = [], row
    for size in reversed(view.shape[:pixel_axes]):
        pixel_strides.insert(0, step)
        step *= size
    dst = np.lib.stride_tricks.as_strided(cols, view.shape, tuple(pixel_strides) + (g["kw"] * cin * 8, cin * 8, 8))
    calls.append(partial(np.copyto, dst, view, casting="unsafe"))


def _scaled_calls(node, x, out, step, wmat, rq, wrap):
    rows, cout = x.shape[0] * out.shape[1] * out.shape[2], out.shape[3]
    calls = []
    cols = ones_column(rows, wmat.shape[0] - 1)
    _window_copy(node, x, cols, None, calls)
    return calls + scaled_chunk_calls(cols, wmat, rq, wrap, out.reshape(rows, cout), step)


def scaled_chunk_calls(cols, wmat, rq, wrap, res, step):
    """The scaled product of `cols` (ones_column) by `wmat` (scaled_product) into `res` [rows, cout]
    in chunks of `step` rows: per chunk, the product and the requantization's clamp and cast."""
    rows, cout = res.shape
    f = np.empty((step, cout), np.float64)
    narrow = np.empty((step, cout), rq.narrow) if rq.narrow is not None else None
    calls = []
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        a = f[:r1 - r0]
        calls.append(partial(np.dot, cols[r0:r1], wmat, out=a))
        calls += rq.finish_calls(a, res[r0:r1], wrap, None if narrow is None else narrow[:r1 - r0])
    return calls


def _padded_input(node, x, dtype, calls):
    """The input as the windows read it: with padding, a `dtype` copy whose border holds the
    input zero point (its fill and the interior's copy appended to `calls`); else x itself."""
    g = node.data.geometry
    if not any(g["pad"]):
        return x
    n, h, wd, cin = x.shape
    pt, pb, pl, pr = g["pad"]
    xp, fill = padded_buffer((n, h + pt + pb, wd + pl + pr, cin), g["pad"], node.data.q_x_zp, dtype)
    if fill is not None:
        calls.append(fill)
    calls.append(partial(np.copyto, xp[:, pt:pt + h, pl:pl + wd, :], x, casting="unsafe"))
    return xp


# Up to this many outputs (a small map: 7x7 with many channels) the product runs in one
# chunk: each chunk streams the whole filter through the cache again (measured: 7x7x320 -> 1280,
# 2 chunks 1.06 ms, one 0.71).
ONE_CHUNK_ELEMENTS = 1 << 16


# Below this many rows (a classifier head on a 1x1 map: a matrix-vector product) the transposed view
# multiplies as fast (measured 1 x 1280 -> 1001: 0.34 ms either way), and the copy would only add a
# transient second copy of a large filter (5 MB) at the first invoke.
ROW_MAJOR_MIN_ROWS = 8
# Filters up to this many values (32 KB in float32) turn row-major when bound, not at the first invoke.
ROW_MAJOR_AT_ONCE_MAX = 1 << 13


def _row_major(p):
    """A call putting the filter matrix p["wmat"] in row-major order on the first invoke, or None
    where it is.  OpenBLAS multiplies by a row-major [K, cout] filter up to 40% faster than by the
    transposed view the filter's own layout gives ([cout, K]), never measurably slower (7x7x160 ->
    960 0.39 -> 0.23 ms, 112x112x16 -> 96 0.74 -> 0.53, 128x128x32 -> 32 equal).  The transposing
    copy costs a few ms for a model: at the first invoke, not at load, and the view's memory is
    released then (one copy of the weights at a time).  The products then read p["wmat"] at each
    call (_dot_filter).  A small filter is copied at once: its copy costs a few us at load, where
    the first-invoke check and the wrapper would cost a Python call each at every invoke (a
    quarter of a small model's conv)."""
    if p["wmat"].flags.c_contiguous:
        return None
    if p["wmat"].size <= ROW_MAJOR_AT_ONCE_MAX:
        p["wmat"] = np.ascontiguousarray(p["wmat"])
        return None

    def fill():
        if not p["wmat"].flags.c_contiguous:
            p["wmat"] = np.ascontiguousarray(p["wmat"])
    return fill


def _dot_filter(cols, p, out):
    np.dot(cols, p["wmat"], out)


def _divisor_at_least(rows, want):
    """The smallest divisor of `rows` from `want` to 4 * want, else `want`."""
    for d in range(want, min(rows, 4 * want) + 1):
        if rows % d == 0:
            return d
    return want


# --- followed by a tiling max pool ---

def fuse_max_pool(conv, pool):
    """(eval function, node) of one step computing this integer convolution (its
    eval is `eval_int`) and the int max pool `pool` after it, whose windows
    tile the convolution's output (stride = filter, no padding): the pool takes
    the maximum of the accumulators and only the maxima are requantized.  That
    is exact because the requantization is non-decreasing in the accumulator
    (a positive multiplier, floors and roundings half up or away from zero, a
    clamp), so it commutes with max; the pool's own clamp joins the conv's.
    Four times fewer values to requantize under a 2x2 pool, and no pass over
    the convolution's output.  The step writes the pool's output."""
    g = pool.data.geometry
    lo, hi = max(conv.data.q_lo, pool.data.q_lo), min(conv.data.q_hi, pool.data.q_hi)
    return eval_int_max_pooled, conv.derived(
        pool=(g["fh"], g["fw"], g["oh"], g["ow"]), outputs=list(pool.outputs), q_lo=lo, q_hi=hi,
        label=f"{conv.op_name}+{pool.op_name}")


def fusable_max_pool(conv, pool) -> bool:
    """Whether fuse_max_pool applies: the clamps must overlap (else the two
    clamps in turn are not one clamp)."""
    return (conv.outputs[0].dtype == pool.outputs[0].dtype
            and max(conv.data.q_lo, pool.data.q_lo) <= min(conv.data.q_hi, pool.data.q_hi))


class _PooledBuffers:
    """The im2col rows ordered (n, py, a, b, px) for conv output (py*fh + a,
    px*fw + b): one pooled row's windows are a contiguous block of fh*fw*pw
    rows, so row chunks hold whole pooled rows, and the pool is one maximum
    over the block's (a, b) axes.  Conv outputs the pool does not read (past
    the last whole window) are not computed."""

    def __init__(self, node, x, out):
        p = node.data.opt_conv
        g = node.data.geometry
        fh, fw, ph, pw = node.data.pool
        dtype = p["dtype"]
        n, cin = x.shape[0], x.shape[3]
        cout = out.shape[-1]
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        calls = []
        block = fh * fw * pw                                         # conv rows per pooled row
        groups = n * ph
        k_terms = g["kh"] * g["kw"] * cin
        if scaled_applies(groups * block, k_terms, cout):
            step = min(groups, max(1, max(chunk_rows(cout), 16) // block))      # pooled rows (n, py) per chunk
            scaled = scaled_product(node, out.dtype, step * pw * cout)
            if scaled is not None:
                self.calls = self._scaled(node, x, out, step, *scaled)
                return
        src = _pool_order(patches(_padded_input(node, x, dtype, calls), g), node.data.pool)
        cols = np.empty((groups * block, g["kh"] * g["kw"] * cin), dtype)
        calls.append(partial(np.copyto, cols.reshape(src.shape), src, casting="unsafe"))
        step = max(1, max(chunk_rows(cout), 16) // block)            # pooled rows (n, py) per chunk
        step = min(groups, step)
        acc = np.empty((step * block, cout), dtype)
        pooled = np.empty((step * pw, cout), dtype)
        t = np.empty(step * pw * cout, np.int64)
        mask = np.empty(step * pw * cout, bool)
        data = node.data
        args = (data.q_mult, data.q_shift, p["gemmlowp"], data.q_out_zp, data.q_lo, data.q_hi, p["bound"])
        tile = pw if pw * cout <= TILE_ELEMENTS else 1
        rq = Requantizer(*args, tile=tile, bias=p["bias"], acc_range=p["acc_range"])
        res = out.reshape(groups * pw, cout)
        fill = _row_major(p)
        if fill is not None:
            calls.insert(0, fill)
        for g0 in range(0, groups, step):
            k = min(groups, g0 + step) - g0
            a, m = acc[:k * block], pooled[:k * pw]
            rows = cols[g0 * block:(g0 + k) * block]
            calls += [partial(np.dot, rows, p["wmat"], out=a) if fill is None else partial(_dot_filter, rows, p, a),
                      partial(np.maximum.reduce, a.reshape(k, fh, fw, pw, cout), axis=(1, 2),
                              out=m.reshape(k, pw, cout))]
            shape = (k * pw // tile, tile * cout)
            calls += rq.calls(m.reshape(shape), t[:m.size].reshape(shape), res[g0 * pw:(g0 + k) * pw].reshape(shape),
                              mask[:m.size].reshape(shape), True)
        self.calls = calls

    def _scaled(self, node, x, out, step, wmat, rq, wrap):
        """The scaled product (see scaled_product): the pool's maximum is taken over its float
        values, which are the requantization's before its clamp and cast, nondecreasing in the
        accumulator like the requantization itself (a nonnegative scale per channel)."""
        fh, fw, ph, pw = node.data.pool
        n, cout = x.shape[0], out.shape[-1]
        block, groups = fh * fw * pw, n * ph
        calls = []
        cols = ones_column(groups * block, wmat.shape[0] - 1)
        _window_copy(node, x, cols, lambda view: _pool_order(view, node.data.pool), calls)
        acc = np.empty((step * block, cout), np.float64)
        pooled = np.empty((step * pw, cout), np.float64)
        narrow = np.empty((step * pw, cout), rq.narrow) if rq.narrow is not None else None
        res = out.reshape(groups * pw, cout)
        for g0 in range(0, groups, step):
            k = min(groups, g0 + step) - g0
            a, m = acc[:k * block], pooled[:k * pw]
            calls += [partial(np.dot, cols[g0 * block:(g0 + k) * block], wmat, out=a),
                      partial(np.maximum.reduce, a.reshape(k, fh, fw, pw, cout), axis=(1, 2), out=m.reshape(k, pw, cout))]
            calls += rq.finish_calls(m, res[g0 * pw:(g0 + k) * pw], wrap, None if narrow is None else narrow[:k * pw])
        return calls


def _pool_order(view, pool):
    """The windows view [n, oh, ow, kh, kw, cin] as [n, ph, fh, fw, pw, kh, kw, cin]: conv output
    (py * fh + a, px * fw + b) at [n, py, a, b, px]."""
    fh, fw, ph, pw = pool
    s = view.strides
    return np.lib.stride_tricks.as_strided(view, (view.shape[0], ph, fh, fw, pw) + view.shape[3:],
                                           (s[0], s[1] * fh, s[1], s[2], s[2] * fw) + s[3:], writeable=False)


eval_int_max_pooled = cached_calls("opt_conv_pooled_bufs", _PooledBuffers, "eval_int_max_pooled")
