"""Float CONV_2D and DEPTHWISE_CONV_2D summed in the order LiteRT's kernels sum,
for the ops whose results a hybrid (dynamic-range) op quantizes.

A hybrid op quantizes its float input per image from that input's own range,
so a last-bit difference in an earlier float sum can move a value across a
quantization step and change the model's output by far more than float
rounding (docs/hybrid_drift.md).  tinylite's usual float kernels sum in the
order of BLAS or einsum; the interpreter marks each node from which a hybrid
op's float input is computed (`Node.litert_order`), and CONV_2D and
DEPTHWISE_CONV_2D then run the functions here, which round every product and
every partial sum in float32 exactly where LiteRT does.  Each step is a numpy
multiply or add over all outputs at once, so the results do not depend on the
CPU or the BLAS build.  They cost one pass over the outputs per tap, which is
why ordinary float models keep the faster kernels (the optimized resolver runs
the same orders in fewer, larger numpy calls: kernels/optimized/_litert_order.py).

LiteRT's orders (x86 wheel, one thread; checked bit for bit against
ai-edge-litert 2.3, tests/kernels/test_litert_order.py):

- CONV_2D, optimized resolver: im2col, then Eigen's matrix product (the x86
  build sends float GEMM to Eigen, compiled for AVX without FMA: 8-float
  packets, a product and a sum rounded apart), then the bias, then the clamp.
  Eigen's kernel keeps one accumulator per output, in packets of 8 output
  channels, and adds the taps one by one in (kh, kw, cin) order.  A last group
  of 4 channels (cout % 8 >= 4) runs on half packets with two accumulators,
  even and odd taps of each 8-tap block, added together before the taps past
  the last whole block (for pixels in whole groups of 4; the last cout % 4
  channels take another Eigen path, summed here in plain tap order: not
  bit-exact).
  Deeper sums are split in blocks sized from the CPU's L1 cache, each block
  summed from zero and added to the result; `DEPTH_BLOCK` is the block of this
  machine's 48 KiB L1 (LiteRT on a 32 KiB L1 splits from 681 taps on).
  A product with one output pixel (or one output channel) is Eigen's
  matrix-vector product instead: 4 lanes of taps (tap mod 4), reduced as
  (lane 0 + lane 2) + (lane 1 + lane 3), then the last K % 4 taps in order
  (not bit-exact for one pixel and one channel together).
  Grouped convolutions run LiteRT's reference kernel (below).
- CONV_2D, reference resolver: one sum per output in (kh, kw, cin) order, then
  the bias.
- DEPTHWISE_CONV_2D, optimized resolver: the accumulator starts at the bias,
  then the taps in (kh, kw) order.
- DEPTHWISE_CONV_2D, reference resolver: the taps in (kh, kw) order, then the
  bias: the order of depthwise_conv_2d.eval_float, which runs there as is.
"""
from __future__ import annotations

import numpy as np

from ._window import depthwise_operands, patches

# Floats per SIMD packet in the x86 wheel's Eigen product kernel (AVX).
PACKET = 8
# Taps Eigen sums in one block before splitting the depth (L1 of 48 KiB:
# ((49152 - 8 * 4 * 4) // 48) & ~7 = 1016).
DEPTH_BLOCK = 1016


def depth_blocks(depth: int, max_kc: int = DEPTH_BLOCK) -> list[tuple[int, int]]:
    """[(start, stop)] of the taps Eigen sums apart: blocks of equal size but
    the last, sized so the last is as large as possible for as many sweeps."""
    if depth <= max_kc:
        return [(0, depth)]
    rem = depth % max_kc
    kc = max_kc if rem == 0 else max_kc - 8 * ((max_kc - 1 - rem) // (8 * (depth // max_kc + 1)))
    return [(k, min(depth, k + kc)) for k in range(0, depth, kc)]


def _padded(x, g):
    """x with its zero border (np.pad costs more than the sums of a small convolution)."""
    pt, pb, pl, pr = g["pad"]
    if not (pt or pb or pl or pr):
        return x
    n, h, w, c = x.shape
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), x.dtype)
    xp[:, pt:pt + h, pl:pl + w] = x
    return xp


def _columns(x, g):
    """[K, rows] im2col matrix, taps in (kh, kw, cin) order, each tap's row contiguous."""
    view = patches(_padded(x, g), g)                        # [n, oh, ow, kh, kw, c]
    n, oh, ow, kh, kw, c = view.shape
    cols = np.empty((kh, kw, c, n, oh, ow), np.float32)
    np.copyto(cols, view.transpose(3, 4, 5, 0, 1, 2))
    return cols.reshape(kh * kw * c, n * oh * ow)


# Products per chunk of _sequential, in floats (the chunk's products stay in cache).
CHUNK = 1 << 16


def _sequential(cols, w, acc, tmp=None):
    """acc[rows, ch] = sum over k of cols[k] * w[k], in order, float32 roundings apart.
    numpy's add.reduce over the first axis of a C-contiguous array adds its rows one
    after the other (pairwise summation is only for the contiguous axis), so the
    products of a chunk of rows are made in one call and summed in order in another."""
    depth, rows = cols.shape
    ch = acc.shape[1]
    step = max(1, CHUNK // max(1, depth * ch))
    prods = np.empty((depth, ch, min(step, rows)), np.float32)
    sums = np.empty((ch, min(step, rows)), np.float32)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        p, s = prods[:, :, :r1 - r0], sums[:, :r1 - r0]
        np.multiply(w[:, :, None], cols[:, None, r0:r1], out=p)
        np.add.reduce(p, axis=0, out=s)
        acc[r0:r1] = s.T


def _two_accumulators(cols, w, acc, tmp):
    """Eigen's half-packet kernel: even and odd taps of each whole 8-tap block in two
    sums, added together, then the remaining taps in order."""
    depth = len(cols)
    peeled = depth & ~7
    if peeled == 0:
        _sequential(cols, w, acc, tmp)
        return
    odd = np.empty_like(acc)
    _sequential(cols[0:peeled:2], w[0:peeled:2], acc, tmp)
    _sequential(cols[1:peeled:2], w[1:peeled:2], odd, tmp)
    np.add(acc, odd, out=acc)
    for k in range(peeled, depth):
        np.multiply(cols[k][:, None], w[k], out=tmp)
        np.add(acc, tmp, out=acc)


def _four_lanes(cols, w, acc, tmp):
    """Eigen's matrix-vector product: each output sums its taps in 4 lanes (tap mod 4,
    whole groups of 4), reduced as (lane 0 + lane 2) + (lane 1 + lane 3), then the
    remaining taps in order."""
    depth = len(cols)
    whole = depth & ~3
    if whole:
        lanes = [np.empty_like(acc) for _ in range(3)]
        _sequential(cols[0:whole:4], w[0:whole:4], acc, tmp)
        for p in range(1, 4):
            _sequential(cols[p:whole:4], w[p:whole:4], lanes[p - 1], tmp)
        np.add(acc, lanes[1], out=acc)
        np.add(lanes[0], lanes[2], out=lanes[0])
        np.add(acc, lanes[0], out=acc)
    else:
        acc[...] = 0
    for k in range(whole, depth):
        np.multiply(cols[k][:, None], w[k], out=tmp)
        np.add(acc, tmp, out=acc)


def _eigen_block(cols, w, acc):
    """One depth block of Eigen's product into acc [rows, cout] (overwritten)."""
    rows, cout = acc.shape
    full = cout - cout % PACKET
    spans = [(0, full, False)]
    if cout - full >= PACKET // 2:
        spans.append((full, full + PACKET // 2, True))
        full += PACKET // 2
    spans.append((full, cout, False))
    grouped = rows - rows % 4          # pixels in whole groups of 4 columns of Eigen's kernel
    for c0, c1, halves in spans:
        if c1 <= c0:
            continue
        wc = w[:, c0:c1]
        if halves and grouped:
            out = np.empty((grouped, c1 - c0), np.float32)
            _two_accumulators(cols[:, :grouped], wc, out, np.empty_like(out))
            acc[:grouped, c0:c1] = out
            if grouped < rows:
                out = np.empty((rows - grouped, c1 - c0), np.float32)
                _sequential(cols[:, grouped:], wc, out, np.empty_like(out))
                acc[grouped:, c0:c1] = out
        else:
            out = np.empty((rows, c1 - c0), np.float32)
            _sequential(cols, wc, out, np.empty_like(out))
            acc[:, c0:c1] = out


def conv_float(node, inputs, outputs):
    """CONV_2D (float32) in LiteRT's order for the resolver the interpreter runs
    (see the module docstring); node.data.wmat is [groups, K, cout/groups]."""
    data = node.data
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    out = outputs[0]
    if out.size == 0:
        return
    from .conv_2d import filter_matrix

    wmat = data.wmat if data.wmat is not None else filter_matrix(w, data.groups)
    groups = data.groups
    cols = _columns(x, data.geometry)                       # [kh*kw*cin, rows]
    rows, cout = cols.shape[1], out.shape[-1]
    res = out.reshape(rows, cout)
    if groups == 1 and not node.reference and (rows == 1 or cout == 1):
        _four_lanes(cols, wmat[0], res, np.empty_like(res))
    elif groups == 1 and not node.reference:
        blocks = depth_blocks(cols.shape[0])
        part = np.empty((rows, cout), np.float32) if len(blocks) > 1 else None
        for i, (k0, k1) in enumerate(blocks):
            _eigen_block(cols[k0:k1], wmat[0][k0:k1], res if i == 0 else part)
            if i:
                np.add(res, part, out=res)
    else:
        k = data.geometry["kh"] * data.geometry["kw"]
        cg = x.shape[-1] // groups
        og = cout // groups
        per_tap = cols.reshape(k, groups, cg, rows)
        tmp = np.empty((rows, og), np.float32)
        for gi in range(groups):
            acc = np.empty((rows, og), np.float32)
            _sequential(per_tap[:, gi].reshape(k * cg, rows), wmat[gi], acc, tmp)
            res[:, gi * og:(gi + 1) * og] = acc
    if b is not None:
        res += b
    if data.act is not None:
        data.act(out)


def depthwise_float_bias_first(node, inputs, outputs):
    """DEPTHWISE_CONV_2D (float32) as LiteRT's optimized kernel sums: from the
    bias, then the taps in (kh, kw) order."""
    data, out = node.data, outputs[0]
    b = inputs[2] if len(inputs) > 2 else None
    operands = depthwise_operands(node, inputs, out, _padded)
    if operands is None:
        return
    windows, taps, acc = operands
    g = data.geometry
    if b is None:
        acc[...] = 0
    else:
        acc[...] = b.reshape(taps.shape[2:])
    tmp = np.empty_like(acc)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            np.multiply(windows[:, :, :, i, j, :, None], taps[i, j], out=tmp)
            acc += tmp
    if data.act is not None:
        data.act(out)
