"""Optimized FULLY_CONNECTED.

float32: the 2-D views of the input and output and the bias repeated per
row made once per pair of arrays, and, where the interpreter placed a
one-row input in a buffer ending in a 1 (`bias_row`, see
interpreter.fusion), the bias in the product as the weights' last row.
Float results differ from the reference's by summation order only.

int8 and uint8 (constant weights): the input cast to float, one exact float
BLAS product with the weights (see _gemm.GemmConv), and the requantization
with the folded bias in its constant (see _requantize), as a
handful of bound calls: at batch 1 the reference kernel's float64
temporaries and fixed-point passes cost ten times the product itself.
Small products take _gemm's scaled float64 form, whose result is the
requantization's value before its clamp."""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import fully_connected as reference
from .._base import activation_calls, binds, op_data
from . import register
from ._gemm import (TILE_ELEMENTS, GemmConv, GemmData, ones_column, scaled_applies, scaled_chunk_calls,
                    scaled_product)
from ._requantize import Requantizer
from ._cached import cached_calls
from ._hybrid import RowQuantizer, product_dtype, rescale_calls


@op_data
class OpData(reference.OpData, GemmData):
    """The reference FULLY_CONNECTED's op data and what this optimized kernel adds."""

    # The input buffer ending in a 1 (interpreter.fusion.bias_rows), set on the step's node.
    bias_row: np.ndarray | None = None
    opt_hfc: dict = None
    opt_blockwise: dict = None


@register("FULLY_CONNECTED", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_fast(node, reference_fn):
    node.draft(OpData)          # its bias_row is set by the interpreter's bias_rows rewrite
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    # The 2-D views of the input and output, and the bias repeated per row,
    # made once per pair of arrays: at batch 1 a reshape or a broadcast costs
    # a tenth of the product itself (np.dot, too, costs less than np.matmul).
    views = node.cache.get("views")
    if views is None or views[0] is not x or views[1] is not out:
        views = node.cache["views"] = (x, out) + _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    _, _, x2, wt, res, bias = views
    if x2.flags.c_contiguous and wt.flags.c_contiguous:
        np.dot(x2, wt, out=res)
    else:
        np.matmul(x2, wt, out=res)
    if bias is not None:
        np.add(res, bias, out=res)
    if data.act is not None:
        data.act(out)


def _operands(node, x, out, w, b):
    """(input rows, weights [depth, units], output rows, bias to add or None).
    When the interpreter placed a one-row input in a buffer ending in a 1
    (`bias_row`, see interpreter.fusion), the bias rides in the product as
    the weights' last row."""
    data = node.data
    res = out.reshape(-1, w.shape[0])
    row = data.bias_row
    if row is not None and np.may_share_memory(x, row):    # constant weights and bias
        wb = node.cache.get("wt_bias")
        if wb is None:
            wb = node.cache["wt_bias"] = np.ascontiguousarray(np.concatenate([data.wt, b.reshape(1, -1)]))
        return row, wb, res, None
    if b is not None and node.inputs[2].data is not None:
        b = np.ascontiguousarray(np.broadcast_to(b, res.shape))
    return x.reshape(-1, data.depth), (w.T if data.wt is None else data.wt), res, b


@binds(eval_float_fast)
def _bind_float(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    if data.wt is None or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    x2, wt, res, bias = _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    calls = [partial(np.dot, x2, wt, res)]
    if bias is not None:
        calls.append(partial(np.add, res, bias, out=res))
    return calls + activation_calls(data.act, out)


# --- int8 and uint8 ---

def _int_applies(node, reference_fn):
    w = node.inputs[1]
    return reference_fn is reference._eval_fc and w.data is not None and w.data.ndim == 2


@register("FULLY_CONNECTED", dtypes=(np.int8, np.uint8), when=_int_applies)
def prepare_int(node, reference_fn):
    w = node.inputs[1]
    if node.data.q_mode not in ("ruy", "gemmlowp"):
        return None
    if GemmConv.plan(node, w.data.T, node.data.q_wzp, node.data.q_mode == "gemmlowp") is None:
        return None
    p = node.data.opt_conv
    if p["dtype"] == np.float64:
        p["ksplit"] = _k_split(p["wmat"], 128 if node.inputs[0].dtype == np.int8 else 255)
    return eval_int


# A depth split into more parts than this keeps the float64 product.
MAX_K_PARTS = 64


def _k_split(wmat, xmax):
    """The weights [K, units] (float64, centered) as float32 [parts, K / parts, units]
    (K padded with zero rows) for the fewest equal parts in which every partial sum
    stays exact in float32: xmax x each column's sum of |w| over the part below 2**24.
    A long int8 product then runs as one batched float32 product (half the bytes of
    float64 weights: at batch 1 the product is bound by reading them) and its parts'
    sums are added in float64, exactly; None where no split of up to MAX_K_PARTS parts
    suffices (or none is needed)."""
    k, units = wmat.shape
    # Running column sums of |w| (exact integers in float64): a part's sums are differences.
    running = np.zeros((k + 1, units), np.float64)
    np.cumsum(np.abs(wmat), axis=0, out=running[1:])
    least = max(2, int(float(running[-1].max(initial=0)) * xmax // 2.0**24))
    for parts in range(least, MAX_K_PARTS + 1):
        kp = -(-k // parts)
        ends = running[np.minimum(np.arange(parts + 1) * kp, k)]
        if float(np.diff(ends, axis=0).max(initial=0)) * xmax < 2.0**24:
            w = np.zeros((parts * kp, units), np.float32)
            w[:k] = wmat
            return w.reshape(parts, kp, units)
    return None


class _Buffers:
    def __init__(self, node, x, out):
        p = node.data.opt_conv
        units = p["wmat"].shape[1]
        depth = p["wmat"].shape[0]
        rows = x.size // depth
        self.x, self.out = x, out
        if p.get("ksplit") is not None:
            self._split(node, p, x, out, rows, depth, units)
            return
        scaled = scaled_product(node, out.dtype, rows * units) if scaled_applies(rows, depth, units) else None
        if scaled is not None:
            # The product is the requantization's float value (see _gemm.scaled_product): a clamp
            # and a cast remain, two calls fewer than the float32 product's requantization.
            wmat, rq, wrap = scaled
            xb = ones_column(rows, depth)
            self.calls = [partial(np.copyto, xb[:, :depth], x.reshape(rows, depth), casting="unsafe")]
            self.calls += scaled_chunk_calls(xb, wmat, rq, wrap, out.reshape(rows, units), rows)
            return
        xb = np.empty((rows, depth), p["dtype"])
        acc = np.empty((rows, units), p["dtype"])
        self.calls = [partial(np.copyto, xb, x.reshape(rows, depth), casting="unsafe"),
                      partial(np.dot, xb, p["wmat"], out=acc)]
        self.calls += _requantize_calls(node, p, acc, out, True)

    def _split(self, node, p, x, out, rows, depth, units):
        """The product as p["ksplit"]'s parts: the input copied into float32 rows padded with zeros
        to the parts' depth, one batched float32 product, the parts added in float64 (exact)."""
        w = p["ksplit"]
        parts, kp, _ = w.shape
        xb = np.zeros((rows, parts * kp), np.float32)
        partial_sums = np.empty((parts, rows, units), np.float32)
        acc = np.empty((rows, units), np.float64)
        self.calls = [partial(np.copyto, xb[:, :depth], x.reshape(rows, depth), casting="unsafe"),
                      partial(np.matmul, xb.reshape(rows, parts, kp).transpose(1, 0, 2), w, out=partial_sums),
                      partial(np.add.reduce, partial_sums, axis=0, dtype=np.float64, out=acc)]
        self.calls += _requantize_calls(node, p, acc, out, False)


def _requantize_calls(node, p, acc, out, acc_scratch):
    """The requantization of the products `acc` [rows, units] into `out`: one row of all of them
    where they are few (see Requantizer's `tile`), else row by row."""
    rows, units = acc.shape
    tile = rows if rows * units <= TILE_ELEMENTS else 1
    shape = (rows // tile, tile * units)
    data = node.data
    rq = Requantizer(data.q_mult, data.q_shift, p["gemmlowp"], data.q_out_zp, data.q_lo, data.q_hi, p["bound"],
                     tile=tile, bias=p["bias"], acc_range=p["acc_range"])
    return rq.calls(acc.reshape(shape), np.empty(shape, np.int64), out.reshape(shape), np.empty(shape, bool),
                    acc_scratch)


eval_int = cached_calls("opt_fc_bufs", _Buffers, "eval_int")


# --- int16 activations (16x8, 16x16): see _gemm16.py ---

@register("FULLY_CONNECTED", dtypes=(np.int16,), when=_int_applies)
def prepare_int16(node, reference_fn):
    from . import _gemm16

    wt = node.data.q_wt if node.data.q_wt is not None else (node.inputs[1].data.astype(np.float64) - node.data.q_wzp).T
    return _gemm16.plan(node, wt, node.data.q_x_zp)


# --- hybrid: float32 activations, int8 weights (dynamic range) ---

def _hybrid_applies(node, reference_fn):
    b = node.inputs[2] if node.has_input(2) else None
    return (reference_fn is reference._eval_hybrid_fc and getattr(node.data, "q_wt", None) is not None
            and (b is None or b.data is not None))


@register("FULLY_CONNECTED", dtypes=(np.float32,), when=_hybrid_applies)
def prepare_hybrid(node, reference_fn):
    """LiteRT's hybrid fully-connected: each input row quantized to int8 (see
    _hybrid; symmetric, or asymmetric with the option), one exact float BLAS
    product of the centered rows with the int8 weights, then the reference's
    float32 rescale (row factor x weight scale), bias and clamp."""
    d = node.draft(OpData)
    dtype = product_dtype(d.q_wt, 0)
    d.opt_hfc = dict(wt=d.q_wt.astype(dtype), dtype=dtype)
    return eval_hybrid


class _HybridBuffers:
    def __init__(self, node, x, out):
        p = node.data.opt_hfc
        depth, units = p["wt"].shape
        rows = x.size // depth
        x2 = x.reshape(rows, depth)
        xq = np.empty((rows, depth), p["dtype"])
        quantize = RowQuantizer(x2, xq, node.data.q_asym, non_negative=node.inputs[0].non_negative)
        res = out.reshape(rows, units)
        acc = res if p["dtype"] == np.float32 else np.empty((rows, units), p["dtype"])
        self.x, self.out = x, out
        self.scale = np.empty((rows, units if node.data.q_per_channel else 1), np.float32)
        wscale = node.data.q_wscale if node.data.q_per_channel else node.data.q_wscale[:1]
        self.calls = [quantize, partial(np.dot, xq, p["wt"], out=acc)]
        if acc is not res:
            self.calls.append(partial(np.copyto, res, acc, casting="unsafe"))   # float32(acc), as the reference
        self.calls.append(partial(np.multiply, quantize.sf[:, None], wscale, out=self.scale))
        b = node.inputs[2] if node.has_input(2) else None
        bias = None if b is None else np.asarray(b.data, np.float32).reshape(-1)
        self.calls += rescale_calls(res, self.scale, bias, node.data.q_clamp)


eval_hybrid = cached_calls("opt_hfc_bufs", _HybridBuffers, "eval_hybrid")


# --- blockwise INT4 weights (LiteRT's optimized-only kernel, see kernels/fully_connected.py) ---

def _blockwise_applies(node, reference_fn):
    b = node.inputs[2] if node.has_input(2) else None
    return reference_fn is reference.eval_blockwise and (b is None or b.data is not None)


@register("FULLY_CONNECTED", dtypes=(np.float32,), when=_blockwise_applies)
def prepare_blockwise(node, reference_fn):
    """The reference's block loop as whole-array calls: every block's exact integer
    sums in one batched product, each scaled (float32), then summed over the blocks
    in their order in float32 (as the reference's loop), then the zero-point term,
    the row factor and the bias."""
    d = node.draft(OpData)
    units, blocks, block = d.block_weights.shape
    if 255.0 * 8 * block >= 2.0**24:         # int4 weights: |w| <= 8
        return None
    d.opt_blockwise = dict(w=np.ascontiguousarray(d.block_weights.transpose(1, 2, 0)).astype(np.float32),
                              scales=np.ascontiguousarray(d.block_scales.T)[:, None, :])
    return eval_blockwise


class _BlockwiseBuffers:
    def __init__(self, node, x, out):
        p = node.data.opt_blockwise
        blocks, block, units = p["w"].shape
        rows = x.size // (blocks * block)
        self.x, self.out = x, out
        q = np.empty((rows, blocks * block), np.float32)
        quantize = RowQuantizer(x.reshape(rows, -1), q, True, centered=False)
        qb = q.reshape(rows, blocks, block).transpose(1, 0, 2)          # [blocks, rows, block]
        sums = np.empty((blocks, rows, units), np.float32)
        zterm = np.empty((rows, units), np.float32)
        res = out.reshape(rows, units)
        self.calls = [quantize, partial(np.matmul, qb, p["w"], out=sums),
                      partial(np.multiply, sums, p["scales"], out=sums)]
        if rows * units >= 2:
            # The blocks in order: add.reduce over the outer axis adds its rows one after the other
            # (pairwise summation is only for a reduced innermost axis, absent with two outputs or more).
            acc = np.empty((rows, units), np.float32)
            self.calls.append(partial(np.add.reduce, sums, axis=0, out=acc))
        else:
            acc = sums[0]
            self.calls += [partial(np.add, acc, sums[bi], out=acc) for bi in range(1, blocks)]
        self.calls += [partial(np.multiply, quantize.zp32, node.data.kfsum, out=zterm),
                      partial(np.subtract, acc, zterm, out=acc),
                      partial(np.multiply, acc, quantize.sf[:, None], out=res)]
        b = node.inputs[2] if node.has_input(2) else None
        if b is not None:
            self.calls.append(partial(np.add, res, np.asarray(b.data, np.float32).reshape(-1), out=res))


eval_blockwise = cached_calls("opt_blockwise_bufs", _BlockwiseBuffers, "eval_blockwise")
