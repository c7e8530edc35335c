"""DEPTHWISE_CONV_2D (int8, uint8 and float32): the taps summed by one einsum
per chunk of output rows (einsum's sum-of-products loops make one pass over
the windows, about twice as fast as a multiply and an add per tap), then the
bias, activation or requantization of the chunk while it is in cache.

The input is copied once per invoke into a buffer whose border holds the pad
value (the input zero point for integers: sum((x - zp) * w) + bias =
sum(x * w) + (bias - zp * sum(w)), the second term a constant per channel, so
no centering pass).  The buffer is split by column phase (column mod the width
stride): then, for a depth multiplier of 1, the inputs a tap reads for one row
of outputs are one contiguous run of ow * channels values in one phase, and
every numpy loop runs over such runs, multiplied by the taps tiled ow times
(instead of loops of `channels` values per pixel).  Integer sums are exact in
float32 (float64 past 2**24, see _requantize), so their order is free; float
sums round in einsum's order, within float32 rounding of the reference's.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import depthwise_conv_2d as reference
from . import register
from ._gemm import GemmData
from ._requantize import Requantizer, acc_dtype, chunk_rows, once_fill, padded_buffer, tile_last
from ._cached import cached_calls
from ._hybrid import RowQuantizer, product_dtype, rescale_calls
from .._base import op_data


@op_data
class OpData(reference.OpData, GemmData):
    """The reference DEPTHWISE_CONV_2D's op data and what this optimized kernel adds."""

    opt_dw: dict = None
    opt_fdw_bias: np.ndarray | None = None
    opt_fdw_taps: np.ndarray = None
    opt_hdw: dict = None


@register("DEPTHWISE_CONV_2D", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_depthwise)
def prepare_int(node, reference_fn):
    return plan(node)


@register("DEPTHWISE_CONV_2D", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_float(node, reference_fn):
    return plan_float(node)


def plan(node):
    """The optimized eval for this prepared node, or None (the reference kernel runs)."""
    d = node.draft(OpData)
    from . import ENABLED

    x = node.inputs[0]
    if not ENABLED or x.dtype not in (np.int8, np.uint8) or d.q_taps is None:
        return None
    b = node.inputs[2] if node.has_input(2) else None
    if b is not None and b.data is None:
        return None
    if not Requantizer.applies(d.q_shift):
        return None
    kh, kw, cin, m = d.q_taps.shape
    gemmlowp = True if d.q_simd is None else ~d.q_simd
    if cin == 1:
        # Each output channel is a plain convolution of the one input channel.
        from ._gemm import GemmConv

        return GemmConv.plan(node, d.q_taps.reshape(kh * kw, m), 0, gemmlowp)
    taps = d.q_taps.reshape(kh, kw, cin * m)                     # exact integers
    bias = np.zeros(cin * m) if d.q_bias is None else d.q_bias.astype(np.float64)
    folded = bias - d.q_x_zp * d.q_taps.sum(axis=(0, 1)).reshape(-1)
    xmax = 128.0 if x.dtype == np.int8 else 255.0
    acc_range = xmax * np.abs(taps).sum(axis=(0, 1))
    bound = acc_range + np.abs(folded)
    # The windows' sums hold raw inputs times taps (the bias rides in the requantization's constant).
    dtype = acc_dtype(acc_range) if acc_dtype(bound) is not None else None
    if dtype is None:
        return None
    d.opt_dw = dict(taps=d.q_taps.astype(dtype), bias=folded.astype(np.int64), dtype=dtype,
                       gemmlowp=gemmlowp, bound=np.asarray(bound, np.float64),
                       acc_range=np.asarray(acc_range, np.float64))
    return eval_int


class _Buffers:
    def __init__(self, node, x, out):
        p = node.data.opt_dw
        g = node.data.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        m = cout // cin
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        rows = min(oh, chunk_rows(n * ow * cout))
        self.acc = np.empty((n, rows, ow * cout), dtype)
        self.tmp = np.empty((n, rows, ow * cout), dtype)
        self.t = np.empty((n, rows, ow * cout), np.int64)
        self.mask = np.empty((n, rows, ow * cout), bool)
        # The folded bias rides in the requantization's constant (see _requantize).
        data = node.data
        rq = Requantizer(data.q_mult, data.q_shift, p["gemmlowp"], data.q_out_zp, data.q_lo, data.q_hi, p["bound"], ow,
                         bias=p["bias"], acc_range=p["acc_range"])
        outf = out.reshape(n, oh, ow * cout)
        win = _Windows(x, g, ow, m, node.data.q_x_zp, dtype, p["taps"])
        calls = list(win.copies)
        for r0 in range(0, oh, rows):
            k = min(oh, r0 + rows) - r0
            acc = self.acc[:, :k]
            calls += win.sum_calls(r0, k, acc, self.tmp[:, :k])
            calls += rq.calls(acc, self.t[:, :k], outf[:, r0:r0 + k], self.mask[:, :k], True)
        self.calls = calls
        self.x, self.out = x, out


eval_int = cached_calls("opt_dw_bufs", _Buffers, "eval_int")


# --- float32 ---

# Float output elements per chunk of rows (see _FloatBuffers).
FLOAT_CHUNK_ELEMENTS = 1 << 17


def plan_float(node):
    """The optimized float eval (constant filter and bias), or None.  The taps are summed by
    einsum per chunk of output rows, then the bias and the fused activation run on the chunk
    while it is in cache; the sums' order differs from the reference's, within float32 rounding."""
    d = node.draft(OpData)
    from . import ENABLED

    b = node.inputs[2] if node.has_input(2) else None
    if not ENABLED or d.taps is None or (b is not None and b.data is None):
        return None
    d.opt_fdw_bias = None if b is None else np.asarray(b.data, np.float32).reshape(-1)
    d.opt_fdw_taps = d.taps.astype(np.float32)
    return eval_float


class _FloatBuffers:
    def __init__(self, node, x, out):
        from .._base import activation_calls

        g = node.data.geometry
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        m = cout // cin
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        # Chunks of up to 512 KiB of float output (L2 holds them with their windows): fewer calls than
        # the integer kernels' 128 KiB chunks, measured 0-15% faster (56x56x32 3x3: 0.24 -> 0.20 ms).
        rows = min(oh, chunk_rows(n * ow * cout, FLOAT_CHUNK_ELEMENTS))
        tmp = np.empty((n, rows, ow * cout), np.float32)
        bias = None if node.data.opt_fdw_bias is None else tile_last(node.data.opt_fdw_bias, ow)
        outf = out.reshape(n, oh, ow * cout)
        win = _Windows(x, g, ow, m, 0.0, np.float32, node.data.opt_fdw_taps)
        block = _column_block(win, g, ow, cin)
        calls = list(win.copies)
        for r0 in range(0, oh, rows):
            k = min(oh, r0 + rows) - r0
            dst = outf[:, r0:r0 + k]
            calls += win.sum_calls(r0, k, dst, tmp[:, :k]) if block is None else [block(r0, k, dst)]
            if bias is not None:
                calls.append(partial(np.add, dst, bias, out=dst))
            calls += activation_calls(node.data.act, dst)
        self.calls = calls


eval_float = cached_calls("opt_fdw_bufs", _FloatBuffers, "eval_float")

# Above this many bytes of taps tiled over a whole output row, the einsum runs over blocks of columns.
BLOCK_TAPS_BYTES = 1 << 18


def _column_block(win, g, ow, cin):
    """For a stride-1 depthwise conv (multiplier 1) whose taps tiled over a whole output row pass
    BLOCK_TAPS_BYTES: a function (r0, k, dst) -> the einsum call summing output rows r0 .. r0 + k
    over blocks of B output columns, the taps tiled over one block (B * cin of 512 to 1024 values)
    instead of over the row: the tile then stays in cache while each row reads it again.  The same
    products summed in the same order (measured bit-identical), blazepose's 128x128x48 5x5 layers
    4.5 -> 3.4 ms; on narrow maps the short blocks cost more, hence the threshold.  None otherwise."""
    if win.m != 1 or g["sw"] != 1 or len(win.groups) != 1:
        return None
    (p, t0, tstep, count, taps), = win.groups
    if taps.nbytes <= BLOCK_TAPS_BYTES:
        return None
    block = next((b for b in range(1, ow + 1) if ow % b == 0 and 512 <= b * cin <= 1024), None)
    if block is None:
        return None
    kh = taps.shape[0]
    tile = np.ascontiguousarray(taps[:, :, :block * cin])
    buf, n = win.buf, win.n
    s = buf.strides
    ast = np.lib.stride_tricks.as_strided

    def calls(r0, k, dst):
        base = buf[:, r0 * win.sh:, p, t0:]
        view = ast(base, (n, k, ow // block, kh, count, block * cin),
                   (s[0], s[1] * win.sh, s[4] * block * cin, s[1] * win.dh, s[3] * tstep, s[4]), writeable=False)
        return partial(np.einsum, "nrbijq,ijq->nrbq", view, tile, out=dst.reshape(n, k, ow // block, block * cin))
    return calls


class _Windows:
    """The padded input buffer (split by column phase when the width stride is
    above 1 and the depth multiplier is 1), the calls filling it from `x`, and
    the einsum calls summing the taps for a chunk of output rows."""

    def __init__(self, x, g, ow, m, pad_value, dtype, taps):
        n, h, wd, cin = x.shape
        kh, kw, sh, sw, dh, dw = (g[key] for key in ("kh", "kw", "sh", "sw", "dh", "dw"))
        pt, pb, pl, pr = g["pad"]
        hp, wp = h + pt + pb, wd + pl + pr
        self.n, self.ow, self.cin, self.m, self.oh = n, ow, cin, m, g["oh"]
        self.kh, self.sh, self.dh = kh, sh, dh
        cout = cin * m
        if m == 1:
            phases = sw
            wq = -(-wp // phases)
            # [n, hp, phases, wq, cin]; padded column c lives at (c % phases, c // phases).  Left empty:
            # the first invoke sets the border (its columns lie on every page of the buffer), every
            # invoke the interior, and the columns past wp in the last phase are never read.
            self.buf = np.empty((n, hp, phases, wq, cin), dtype)
            self.copies = []
            if pt or pb or pl or pr:
                regions = [self.buf[:, :pt], self.buf[:, pt + h:]]
                for p in range(phases):
                    for c in list(range(p, pl, phases)) + list(range(pl + wd + (p - pl - wd) % phases, wp, phases)):
                        regions.append(self.buf[:, :, p, c // phases])
                fill = once_fill(regions, pad_value, self.buf.nbytes)
                if fill is not None:
                    self.copies.append(fill)
            fills = len(self.copies)
            for p in range(phases):
                c0 = pl + (p - pl) % phases                # first padded column >= pl in phase p
                cols = range(c0, pl + wd, phases)
                if len(cols):
                    self.copies.append(partial(np.copyto, self.buf[:, pt:pt + h, p, c0 // phases:c0 // phases + len(cols)],
                                               x[:, :, c0 - pl::phases], casting="unsafe"))
            # With one phase, the copies are the border's fill and one copy of x into the interior
            # (x's shape): a producer may write x there itself and run only the fill.
            one_copy = phases == 1 and len(self.copies) == fills + 1
            self.interior = self.buf[:, pt:pt + h, 0, pl:pl + wd] if one_copy else None
            self.border = self.copies[:fills]
            # taps of one phase: columns j*dw = p + phases*t, t = (j*dw) // phases, in steps of jstep
            taps3 = taps.reshape(kh, kw, cout)
            self.groups = []
            for p in range(phases):
                js = [j for j in range(kw) if (j * dw) % phases == p]
                if js:
                    jstep = js[1] - js[0] if len(js) > 1 else 1
                    # The group's taps tiled ow times: [kh, len(js), ow * cout], one broadcast copy.
                    tiled = np.empty((kh, len(js), ow, cout), taps.dtype)
                    tiled[...] = taps3[:, js, None, :]
                    self.groups.append((p, (js[0] * dw) // phases, (jstep * dw) // phases, len(js),
                                        tiled.reshape(kh, len(js), ow * cout)))
        else:
            self.interior = self.border = None
            self.buf, fill = padded_buffer((n, hp, wp, cin), g["pad"], pad_value, dtype)
            self.copies = ([] if fill is None else [fill]) + [
                partial(np.copyto, self.buf[:, pt:pt + h, pl:pl + wd], x, casting="unsafe")]
            self.taps = taps
            self.sw, self.dw, self.kw = sw, dw, kw

    def sum_calls(self, r0, k, dst, tmp):
        """Calls writing the tap sums of output rows r0 .. r0 + k into dst [n, k, ow * cout]."""
        n, ow, cin, m = self.n, self.ow, self.cin, self.m
        ast = np.lib.stride_tricks.as_strided
        if m != 1:
            s = self.buf.strides
            base = self.buf[:, r0 * self.sh:]
            win = ast(base, (n, k, self.kh, self.kw, ow, cin),
                      (s[0], s[1] * self.sh, s[1] * self.dh, s[2] * self.dw, s[2] * self.sw, s[3]), writeable=False)
            return [partial(np.einsum, "nrijwc,ijcm->nrwcm", win, self.taps, out=dst.reshape(n, k, ow, cin, m))]
        s = self.buf.strides
        calls = []
        # The windows of all output rows, made once per group (as_strided costs ~10 us) and sliced per chunk.
        full = self.__dict__.setdefault("_full", {})
        for g_index, (p, t0, tstep, count, taps) in enumerate(self.groups):
            win = full.get(g_index)
            if win is None:
                win = full[g_index] = ast(self.buf[:, :, p, t0:], (n, self.oh, self.kh, count, ow * cin),
                                          (s[0], s[1] * self.sh, s[1] * self.dh, s[3] * tstep, s[4]),
                                          writeable=False)
            win = win[:, r0:r0 + k]
            if g_index == 0:
                calls.append(partial(np.einsum, "nrijq,ijq->nrq", win, taps, out=dst))
            else:
                calls += [partial(np.einsum, "nrijq,ijq->nrq", win, taps, out=tmp),
                          partial(np.add, dst, tmp, out=dst)]
        return calls


# --- hybrid: float32 activations, int8 weights (dynamic range) ---

@register("DEPTHWISE_CONV_2D", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference._eval_hybrid_depthwise and node.data.q_taps is not None)
def prepare_hybrid(node, reference_fn):
    """LiteRT's hybrid depthwise convolution: each image quantized to int8 as a
    whole (see _hybrid), the taps summed exactly in float32 (|sum| <= 255 *
    sum|taps| < 2**24 checked, else float64) by the einsum windows above,
    then the float32 sums scaled as LiteRT's optimized kernel scales them (by the
    weight scale, then the image scale, on whole groups of 4 channels; see
    _HybridBuffers), bias and clamp."""
    d = node.draft(OpData)
    dtype = product_dtype(d.q_taps, (0, 1))
    d.opt_hdw = dict(taps=d.q_taps.astype(dtype), dtype=dtype)
    return eval_hybrid


class _HybridBuffers:
    def __init__(self, node, x, out):
        p, g = node.data.opt_hdw, node.data.geometry
        dtype = p["dtype"]
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        m = cout // cin
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        xq = np.empty(x.shape, dtype)
        win = _Windows(xq, g, ow, m, 0.0, dtype, p["taps"])
        if win.interior is not None:
            # The quantized image straight into the padded buffer: no copy.
            calls = [RowQuantizer(x, win.interior, True, non_negative=node.inputs[0].non_negative)] + list(win.border)
        else:
            calls = [RowQuantizer(x, xq, True, non_negative=node.inputs[0].non_negative)] + list(win.copies)
        quantize = calls[0]
        rows = min(oh, chunk_rows(n * ow * cout))
        # LiteRT's x86 build scales the sums as its NEON code does (through NEON_2_SSE): channels in
        # whole groups of 4 by (sum x channel scale) x image scale, the last cout % 4 by its scalar
        # loop's (sum x image scale) x channel scale: each order rounds differently from a product of
        # the two scales, and a hybrid op after this one would quantize the difference.
        wscale = np.ascontiguousarray(node.data.q_wscale, np.float32).reshape(-1)
        image = quantize.sf.reshape(n, 1, 1, 1)
        head = cout - cout % 4
        bias = None if node.data.q_bias is None else np.asarray(node.data.q_bias, np.float32)
        outf = out.reshape(n, oh, ow * cout)
        acc64 = None if dtype == np.float32 else np.empty((n, rows, ow * cout), dtype)
        tmp2 = np.empty((n, rows, ow * cout), dtype)
        for r0 in range(0, oh, rows):
            k = min(oh, r0 + rows) - r0
            dst = outf[:, r0:r0 + k]
            if acc64 is None:
                calls += win.sum_calls(r0, k, dst, tmp2[:, :k])
            else:
                calls += win.sum_calls(r0, k, acc64[:, :k], tmp2[:, :k])
                calls.append(partial(np.copyto, dst, acc64[:, :k], casting="unsafe"))
            d4 = dst.reshape(n, k, ow, cout)
            calls += [partial(np.multiply, d4[..., :head], wscale[:head], out=d4[..., :head]),
                      partial(np.multiply, d4[..., :head], image, out=d4[..., :head])]
            if head < cout:
                calls += [partial(np.multiply, d4[..., head:], image, out=d4[..., head:]),
                          partial(np.multiply, d4[..., head:], wscale[head:], out=d4[..., head:])]
            calls += rescale_calls(d4, None, bias, node.data.q_clamp)
        self.calls = calls


eval_hybrid = cached_calls("opt_hdw_bufs", _HybridBuffers, "eval_hybrid")


# --- float32 in LiteRT's order (the depthwise convolutions whose results a hybrid op quantizes) ---

def _litert_order_applies(node, reference_fn):
    from .._litert_order import depthwise_float_bias_first

    b = node.inputs[2] if node.has_input(2) else None
    return (reference_fn is depthwise_float_bias_first and not node.reference and node.data.taps is not None
            and node.data.multiplier == 1 and (b is None or b.data is not None)
            # A reduction over one output would be numpy's pairwise sum, not the taps in order.
            and out_row_elements(node) >= 2)


def out_row_elements(node):
    n, _, ow, cout = node.outputs[0].shape
    return n * ow * cout


@register("DEPTHWISE_CONV_2D", dtypes=(np.float32,), when=_litert_order_applies)
def prepare_litert_order(node, reference_fn):
    """_litert_order.depthwise_float_bias_first's order (LiteRT's optimized kernel: each sum
    from the bias, then the taps in (kh, kw) order), bit for bit: where numpy's einsum sums in
    order (optimized/_litert_order.einsum_in_order), kw copies of the input's column shifts
    beside a run of ones and one einsum over all windows (_shifted_columns_calls); else, per
    chunk of output rows, every tap's products into [taps + 1, rows, ow * channels] (row 0
    holding the bias) and one add.reduce over the first axis, which adds the rows in order.
    The windows are _Windows' contiguous runs."""
    return eval_litert_order


class _LiteRTOrderBuffers:
    def __init__(self, node, x, out):
        from .._base import activation_calls
        from ._litert_order import einsum_in_order, node_calls

        g, data = node.data.geometry, node.data
        n, h, wd, cin = x.shape
        _, oh, ow, cout = out.shape
        kh, kw, dw = g["kh"], g["kw"], g["dw"]
        self.x, self.out, self.calls = x, out, []
        if out.size == 0:
            return
        if einsum_in_order():
            self.calls = node_calls(_shifted_columns_calls(node, x, out) + activation_calls(data.act, out))
            return
        # numpy's einsum does not sum in order here: every tap's products, then an add.reduce.
        win = _Windows(x, g, ow, 1, 0.0, np.float32, data.taps.astype(np.float32))
        q = ow * cout
        rows = min(oh, max(1, (1 << 16) // (n * q * (kh * kw + 1))))
        if 2 * oh <= 3 * rows:
            rows = oh               # one chunk up to 1.5x the target rather than a small second one
        prods = np.empty((kh * kw + 1, n, rows, q), np.float32)
        b = node.inputs[2] if node.has_input(2) else None
        prods[0] = 0 if b is None else np.tile(np.asarray(b.data, np.float32).reshape(-1), ow)
        tap_prods = prods[1:].reshape(kh, kw, n, rows, q)
        s = win.buf.strides
        ast = np.lib.stride_tricks.as_strided
        phases = g["sw"]
        tap_columns = [js for js in ([j for j in range(kw) if (j * dw) % phases == p] for p in range(phases)) if js]
        outf = out.reshape(n, oh, q)
        calls = list(win.copies)
        for r0 in range(0, oh, rows):
            k = min(oh, r0 + rows) - r0
            for (p, t0, tstep, count, taps), js in zip(win.groups, tap_columns):
                base = win.buf[:, r0 * win.sh:, p, t0:]
                view = ast(base, (n, k, kh, count, q), (s[0], s[1] * win.sh, s[1] * win.dh, s[3] * tstep, s[4]),
                           writeable=False)
                jstep = js[1] - js[0] if len(js) > 1 else 1
                dst = tap_prods[:, js[0]::jstep][:, :count, :, :k].transpose(2, 3, 0, 1, 4)
                calls.append(partial(np.multiply, view, taps, out=dst))
            calls.append(partial(np.add.reduce, prods[:, :, :k], axis=0, out=outf[:, r0:r0 + k]))
        calls += activation_calls(data.act, out)
        self.calls = node_calls(calls)


eval_litert_order = cached_calls("opt_litert_order_bufs", _LiteRTOrderBuffers, "eval_litert_order")


def _shifted_columns_calls(node, x, out):
    """The in-order einsum of _LiteRTOrderBuffers without copying windows: `cols` [n, padded
    rows, kw + 1, ow * channels] holds, for each padded input row, a run of ones (slot 0) and
    the row's kw column shifts (slot j + 1: the pixels tap column j reads for each output
    column, every sw-th, zeros where it reads padding), filled by kw copies per invoke (the
    ones and the padding are written once, here).  The windows of all taps are then one
    strided view [n, oh, kh, kw + 1, ow * channels], and one einsum sums, for each output,
    slot (i, j') in order against weights holding the bias at (0, 0), 0 at (i > 0, 0) and
    tap (i, j' - 1) elsewhere: the bias first, then the taps in (kh, kw) order, as LiteRT's
    kernel (adding the +0 products of the other ones slots changes no sum: a partial sum from
    a bias that is not -0.0 is never -0.0; a -0.0 bias loses its sign in the einsum's first
    step, 0 + -0.0, either way).  3 copies of the map instead of 10 per invoke, for 20% more
    products."""
    from ._litert_order import c_einsum

    g, data = node.data.geometry, node.data
    n, h, wd, cin = x.shape
    _, oh, ow, cout = out.shape
    kh, kw, sh, sw, dh, dw = (g[key] for key in ("kh", "kw", "sh", "sw", "dh", "dw"))
    pt, pb, pl, _ = g["pad"]
    q = ow * cout
    cols = np.zeros((n, h + pt + pb, kw + 1, q), np.float32)
    cols[:, :, 0] = 1.0
    calls = []
    for j in range(kw):
        # Output columns whose tap column j reads input column w * sw + j * dw - pl inside x.
        first = max(0, -(-(pl - j * dw) // sw))
        stop = min(ow, (wd - 1 + pl - j * dw) // sw + 1)
        if stop <= first:
            continue
        c0 = first * sw + j * dw - pl
        dst = cols[:, pt:pt + h, j + 1].reshape(n, h, ow, cin)[:, :, first:stop]
        calls.append(partial(np.copyto, dst, x[:, :, c0:c0 + (stop - first - 1) * sw + 1:sw]))
    weights = np.zeros((kh, kw + 1, q), np.float32)
    b = node.inputs[2] if node.has_input(2) else None
    if b is not None:
        weights[0, 0] = np.tile(np.asarray(b.data, np.float32).reshape(-1), ow)
    weights[:, 1:] = np.tile(data.taps.astype(np.float32).reshape(kh, kw, cout), (1, 1, ow))
    s = cols.strides
    view = np.lib.stride_tricks.as_strided(cols, (n, oh, kh, kw + 1, q), (s[0], s[1] * sh, s[1] * dh, s[2], s[3]),
                                           writeable=False)
    calls.append(partial(c_einsum, "nrijq,ijq->nrq", view, weights, out=out.reshape(n, oh, q)))
    return calls


# --- int16 activations (16x8): see _gemm16.py ---

@register("DEPTHWISE_CONV_2D", dtypes=(np.int16,), when=lambda node, ref: ref is reference._eval_depthwise)
def prepare_int16(node, reference_fn):
    from . import _gemm16

    return _gemm16.plan_depthwise(node)
