"""LiteRT's summation orders (kernels/_litert_order.py) with fewer, faster numpy calls,
for the float CONV_2D and DEPTHWISE_CONV_2D whose results a hybrid op quantizes.

The orders are the reference's, product for product and sum for sum; only
how numpy is asked to compute them changes:

- A sequence of in-order sums (Eigen's accumulator per output) is one
  `np.einsum("kc,kr->cr")` where numpy's einsum sums in order
  (`einsum_in_order`, checked once per process: numpy's baseline build, as
  the wheels are): each output starts at zero and takes each float32
  product, then the float32 sum, tap after tap, in one pass per tap.  A
  bias added after the sums (CONV_2D) is its last tap, times a row of ones;
  one added first (DEPTHWISE_CONV_2D) its first.
- Otherwise it is one broadcast multiply writing every product of a chunk,
  [taps, channels, pixels], and one `np.add.reduce` over the taps axis:
  numpy adds the rows of a reduced outer axis one after the other into the
  output (pairwise summation is only for a reduced innermost axis, which
  `sequential_calls` never leaves: a chunk always keeps two or more
  outputs).  Two passes per product: 2 to 3 times the einsum's time.
- numpy 2's ufunc iterator copies broadcast operands through its buffer
  (`np.getbufsize()` elements, 8192 by default) when a row of the loop is
  shorter than the buffer: a broadcast multiply over rows of 576 to 2304
  pixels then costs 3 to 4 times a contiguous one.  `SmallBuffers` runs a
  node's calls with a 256-element buffer (and restores the caller's), so
  those loops run in place.  The buffer size changes no result: only how the
  iterator walks the same element operations.  The einsum, copies and
  clamps do not need it (`node_calls`).

Results equal the reference functions' bit for bit (tests/kernels/test_optimized.py
checks them against kernels/_litert_order.py and against LiteRT).
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
# np.einsum without its Python wrappers (the __array_function__ dispatch, then optimize=False
# hands its arguments to exactly this function): ~0.3 us less per call.
from numpy._core.multiarray import c_einsum

from .._base import activation_calls
from .._litert_order import depth_blocks, PACKET

# numpy's ufunc buffer while a node's calls run (see the module docstring).
SMALL_BUFFER = 256
# Products per chunk of sequential_calls, in floats (a chunk's products stay in the L2 cache).
CHUNK = 1 << 16


class SmallBuffers:
    """One bound call running `calls` with numpy's ufunc buffer at SMALL_BUFFER elements."""

    __slots__ = ("calls",)

    def __init__(self, calls):
        self.calls = tuple(calls)

    def __call__(self):
        saved = np.setbufsize(SMALL_BUFFER)
        try:
            for call in self.calls:
                call()
        finally:
            np.setbufsize(saved)


def node_calls(calls):
    """A node's calls as the tape runs them: inside one SmallBuffers where a product pass or a
    sum pass (np.multiply, np.add, add.reduce: broadcast operands) is among them; as they are
    otherwise (einsum, copies, clamps: setting the buffer size twice costs ~2.5 us a node)."""
    if any(isinstance(c, partial) and (c.func in (np.multiply, np.add) or getattr(c.func, "__self__", None) is np.add)
           for c in calls):
        return [SmallBuffers(calls)]
    return list(calls)


def _spans(total, step, minimum=2):
    """[(start, stop)] covering range(total) in pieces of about `step`, none shorter than
    `minimum` unless total is."""
    step = max(step, minimum)
    spans = [(s, min(total, s + step)) for s in range(0, total, step)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < minimum:
        spans[-2:] = [(spans[-2][0], total)]
    return spans


def sequential_calls(cols, w, dst, chunk=CHUNK):
    """Calls setting dst [C, R] to the sums over k of w[k, c] * cols[k, r], each product
    and each partial sum rounded to float32 in tap order (k = 0, 1, ...), as
    _litert_order._sequential; cols [K, R] and w [K, C] may be strided views."""
    depth, rows = cols.shape
    ch = w.shape[1]
    wcol = w[:, :, None]
    if depth == 1:
        return [partial(np.multiply, wcol[0], cols[0], out=dst)]
    if rows * ch < 2:
        # One output: its reduction would be numpy's pairwise sum; add the taps one by one.
        tmp = np.empty_like(dst)
        calls = [partial(np.multiply, wcol[0], cols[0], out=dst)]
        for k in range(1, depth):
            calls += [partial(np.multiply, wcol[k], cols[k], out=tmp), partial(np.add, dst, tmp, out=dst)]
        return calls
    if einsum_in_order():
        return einsum_calls(w, cols, dst)
    return _product_reduce_calls(cols, w, dst, chunk)


def einsum_calls(w, cols, dst):
    """np.einsum("kc,kr->cr", w, cols, out=dst) (see einsum_in_order) as one call: splitting the
    columns into spans that stay in the L1 or L2 cache measured slower (the embedder's float
    convolutions 1.10 ms whole, 1.12 in spans of 64K outputs, 1.28 in spans of 8K)."""
    return [partial(c_einsum, "kc,kr->cr", w, cols, out=dst)]


def _product_reduce_calls(cols, w, dst, chunk=CHUNK):
    """sequential_calls as a broadcast multiply and an in-order add.reduce per chunk (two
    passes per product: where numpy's einsum does not sum in order, see einsum_in_order)."""
    depth, rows = cols.shape
    ch = w.shape[1]
    wcol = w[:, :, None]
    per_channel = depth * rows
    if per_channel <= chunk or rows < 2:
        cspans = _spans(ch, max(1, chunk // per_channel), 1 if rows >= 2 else 2)
        rspans = [(0, rows)]
    else:
        cspans = [(c, c + 1) for c in range(ch)]
        rspans = _spans(rows, max(2, chunk // depth))
    cmax = max(c1 - c0 for c0, c1 in cspans)
    rmax = max(r1 - r0 for r0, r1 in rspans)
    prods = np.empty((depth, cmax, rmax), np.float32)
    calls = []
    for c0, c1 in cspans:
        for r0, r1 in rspans:
            p = prods[:, :c1 - c0, :r1 - r0]
            calls += [partial(np.multiply, wcol[:, c0:c1], cols[:, None, r0:r1], out=p),
                      partial(np.add.reduce, p, axis=0, out=dst[c0:c1, r0:r1])]
    return calls


@lru_cache(maxsize=None)
def einsum_in_order() -> bool:
    """Whether numpy's einsum sums LiteRT's way, bit for bit, in the forms used here:
    np.einsum("kc,kr->cr", w, cols, out=dst) (Eigen's accumulators, sequential_calls) and
    np.einsum("nrijq,ijq->nrq", windows, w, out=dst) (the DEPTHWISE_CONV_2D of
    optimized/depthwise_conv_2d.prepare_litert_order, over two summed axes, i then j): every output starts
    at zero and takes each product w * cols rounded to float32, then the sum rounded to
    float32, for k = 0, 1, ... in order.

    numpy's einsum iterates the summed axis outside the outputs when it has the larger
    strides in every operand (as here: taps are the outermost axis of both), and its inner
    loops compute out[i] = a[i] * b[i] + out[i] per element: one pass per tap instead of a
    product pass and a sum pass (2 to 3 times faster).  Its kernels are built for numpy's
    baseline CPU (not dispatched at run time), where that multiply-add is a multiply and an
    add; a numpy built with fused multiply-add in its baseline, or a future change of loop,
    would round differently, so the answer is checked once per process against the
    two-pass sums (multiply, then add.reduce over the taps) on random values, where any
    fused or reordered sum differs."""
    rng = np.random.default_rng(1234)

    def values(shape):
        return rng.standard_normal(shape).astype(np.float32)

    saved = np.setbufsize(SMALL_BUFFER)
    try:
        for depth, ch, rows in ((37, 11, 67), (9, 24, 5), (16, 3, 1)):
            w = values((depth, ch))
            cols = values((depth + 3, rows + 5))[1:depth + 1, 2:rows + 2]     # strided, as the callers' views
            want = np.empty((ch, rows), np.float32)
            got = np.full((ch + 2, rows + 1), np.nan, np.float32)[1:ch + 1, :rows]
            for call in _product_reduce_calls(cols, w, want):
                call()
            np.einsum("kc,kr->cr", w, cols, out=got)
            if not np.array_equal(got, want):
                return False
        # Two summed axes in a strided view whose rows overlap (the windows of
        # depthwise_conv_2d._shifted_columns_calls): in (i, j) order for every output.
        for n, rows, kh, kw, q, sh, dh in ((1, 6, 3, 4, 72, 1, 1), (2, 3, 2, 3, 40, 2, 1), (1, 4, 3, 4, 24, 1, 2)):
            base = values((n, (rows - 1) * sh + (kh - 1) * dh + 1, kw, q))
            s = base.strides
            view = np.lib.stride_tricks.as_strided(base, (n, rows, kh, kw, q), (s[0], s[1] * sh, s[1] * dh, s[2], s[3]),
                                                   writeable=False)
            w = values((kh, kw, q))
            products = (w * view).transpose(2, 3, 0, 1, 4).reshape(kh * kw, n, rows, q)
            want = np.add.reduce(products, axis=0)
            got = np.full((n, rows + 2, q), np.nan, np.float32)[:, 1:rows + 1]
            np.einsum("nrijq,ijq->nrq", view, w, out=got)
            if not np.array_equal(got, want):
                return False
    finally:
        np.setbufsize(saved)
    return True


def _two_accumulator_calls(cols, w, dst):
    """_litert_order._two_accumulators into dst [C, R]: even and odd taps of the whole
    8-tap blocks in two sums, added, then the remaining taps one by one."""
    depth = len(cols)
    peeled = depth & ~7
    if peeled == 0:
        return sequential_calls(cols, w, dst)
    odd = np.empty_like(dst)
    tmp = np.empty_like(dst)
    calls = sequential_calls(cols[0:peeled:2], w[0:peeled:2], dst)
    calls += sequential_calls(cols[1:peeled:2], w[1:peeled:2], odd)
    calls.append(partial(np.add, dst, odd, out=dst))
    for k in range(peeled, depth):
        calls += [partial(np.multiply, w[k][:, None], cols[k], out=tmp), partial(np.add, dst, tmp, out=dst)]
    return calls


def _one_sequence(rows, cout):
    """Whether Eigen's block sums every output of a [rows, cout] product in plain tap order
    (no half packet with two accumulators)."""
    return cout % PACKET < PACKET // 2 or rows < 4


def eigen_block_calls(cols, w, dst):
    """_litert_order._eigen_block into dst [cout, rows] (transposed): whole packets of 8
    channels and the last cout % 4 in tap order, a half packet of 4 with two
    accumulators on the rows in whole groups of 4."""
    rows = cols.shape[1]
    cout = w.shape[1]
    full = cout - cout % PACKET
    if _one_sequence(rows, cout):
        return sequential_calls(cols, w, dst)
    half = full + PACKET // 2
    grouped = rows - rows % 4
    calls = []
    for c0, c1 in ((0, full), (half, cout)):
        if c1 > c0:
            calls += sequential_calls(cols, w[:, c0:c1], dst[c0:c1])
    calls += _two_accumulator_calls(cols[:, :grouped], w[:, full:half], dst[full:half, :grouped])
    if grouped < rows:
        calls += sequential_calls(cols[:, grouped:], w[:, full:half], dst[full:half, grouped:])
    return calls


def conv_applies(rows, cout, groups):
    """Whether conv_calls computes _litert_order.conv_float's optimized-resolver order:
    one group and Eigen's matrix-matrix kernel (more than one pixel and one channel;
    the matrix-vector product's four lanes stay with the reference function)."""
    return groups == 1 and rows > 1 and cout > 1


def conv_calls(cols, wmat, res, bias, act, with_ones=None):
    """Calls computing the optimized-resolver CONV_2D of _litert_order.conv_float:
    cols [K, rows] (filled by the caller's calls), wmat [K, cout], into res
    [rows, cout] with the float32 bias (or None) added after the sums, then the
    fused activation `act` (a float_activation or None).  The sums are made
    transposed, [cout, rows] (the products' loops run along pixels), and stay so
    for the bias and the activation (their loops too); one copy transposes them.

    `with_ones` (or None) is cols with a row of ones below, [K + 1, rows]: where
    the sums are one in-order einsum, the bias is then its last tap (bias x 1.0,
    added after every product, as Eigen's output stage adds it): one pass fewer."""
    depth, rows = cols.shape
    cout = wmat.shape[1]
    sums = np.empty((cout, rows), np.float32)
    calls = []
    blocks = depth_blocks(depth)
    if (bias is not None and with_ones is not None and len(blocks) == 1 and _one_sequence(rows, cout)
            and rows * cout >= 2 and einsum_in_order()):
        w_ext = np.concatenate([wmat, bias[None, :]]).astype(np.float32)
        calls += einsum_calls(w_ext, with_ones, sums)
        calls += activation_calls(act, sums)
        calls.append(partial(np.copyto, res, sums.T))
        return calls
    part = np.empty_like(sums) if len(blocks) > 1 else None
    for i, (k0, k1) in enumerate(blocks):
        calls += eigen_block_calls(cols[k0:k1], wmat[k0:k1], sums if i == 0 else part)
        if i:
            calls.append(partial(np.add, sums, part, out=sums))
    if bias is not None:
        calls.append(partial(np.add, sums, bias[:, None], out=sums))
    calls += activation_calls(act, sums)
    calls.append(partial(np.copyto, res, sums.T))
    return calls
