"""FULLY_CONNECTED: y = x @ W.T + b, W is [units, depth].

The input is flattened to rows of `depth` (TFLite's rule); `keep_num_dims`
keeps the input's leading dimensions instead of collapsing them.

Blockwise-quantized weights (the schema's BlockwiseQuantization details: INT4
weights, one float16 scale per block of `block_size` inputs per unit, in a
tensor the details name) run as LiteRT's EvalBlockwise4Bit: each input row
quantized asymmetrically to int8, exact integer sums per block, then in
float32 and in this order: out += sum * scale per block, out -= zero_point *
sum(scale * sum of the block's weights), out *= the row's scale, out += bias.
The fused activation is not applied (LiteRT's kernel ignores it).

SHUFFLED4x16INT8 weights (TOCO's GEMV format: uint8 input, int16 output, 1 or
4 rows) run as LiteRT's ShuffledFullyConnected: sign-flipped bytes read as
int8, int32 sums plus the bias, gemmlowp's MultiplyByQuantizedMultiplier, no
output zero point.  The default mode follows LiteRT's default kernel (its NEON
code, also on x86): products paired in int16 lanes (see eval_shuffled) and
only int16 saturation, the fused activation ignored; BUILTIN_REF follows the
reference kernel (exact sums, the activation's clamp).  The
optimized float kernel (operands kept across invokes, the bias in the
product) is kernels/optimized/fully_connected.py.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import UnsupportedOpError

from ._base import activation_name, float_activation, op_data
from ._quantization import (_asymmetric_quantize_rows, _float_clamp, _is_quantized, _requant_params, _requantize,
                            _require, _scales, _store, _symmetric_quantize_rows, _unsupported, gemm_rounding)
from ._quantization import QuantData, _f32
from . import _fixedpoint as fx


@op_data
class OpData(QuantData):
    """What FULLY_CONNECTED's prepare computes for eval."""

    depth: int = None
    q_x_zp: int = None
    q_wzp: int = None
    block: int = None
    block_scales: np.ndarray = None
    block_weights: np.ndarray = None
    kfsum: np.ndarray = None
    wt: np.ndarray | None = None
    act: Callable | None = None
    q_per_channel: bool = None
    q_wscale: np.ndarray = None
    q_asym: bool = None
    q_clamp: tuple | None = None
    q_wt: np.ndarray = None
    q_row_sums: np.ndarray = None
    shuffled_w: np.ndarray | None = None
    shuffled_batches: int = None


def prepare(node):
    d = node.draft(OpData)
    x, w = node.inputs[0], node.inputs[1]
    if len(w.shape) != 2:
        node.fail(f"weights must be 2-D [units, depth], got {list(w.shape)}")
    units, depth = w.shape
    size = int(np.prod(x.shape))
    if depth == 0 or size % depth:
        node.fail(f"input of shape {list(x.shape)} cannot be split into rows of depth {depth}")
    if node.options.get("keep_num_dims"):
        if x.shape[-1] != depth:
            node.fail(f"keep_num_dims needs the input's last dimension ({x.shape[-1]}) to equal depth {depth}")
        node.outputs[0].shape = tuple(x.shape[:-1]) + (units,)
    else:
        node.outputs[0].shape = (size // depth, units)
    d.depth = depth
    if node.has_input(2) and node.inputs[2].size != units:
        node.fail(f"bias has {node.inputs[2].size} elements, expected {units}")
    hybrid = x.dtype == np.float32 and w.dtype != np.float32
    if not hybrid and activation_name(node) not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        # LiteRT's prepare refuses them outside the hybrid path (float and integer alike).
        node.fail(f"fused_activation_function is {activation_name(node)}, but LiteRT's FULLY_CONNECTED "
                  f"kernel accepts only NONE, RELU, RELU6 and RELU_N1_TO_1 for {x.dtype.name} inputs and "
                  "refuses to load this file; re-convert the model with the activation as its own op")
    if x.dtype == np.float32 and w.dtype == np.float32:
        d.wt = np.ascontiguousarray(w.data.T) if w.data is not None else None
        d.act = float_activation(activation_name(node))
        return eval_float
    q = w.quantization
    if q is not None and q.details_type == 2:
        return _prepare_blockwise(node, x, w)
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    data = node.data
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    res = outputs[0].reshape(-1, w.shape[0])
    node.matmul()(x.reshape(-1, data.depth), w.T if data.wt is None else data.wt, out=res)
    if b is not None:
        res += b
    if data.act is not None:
        data.act(outputs[0])


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    units = w.shape[0]
    if node.options.get("weights_format", 0) == SHUFFLED4x16INT8:
        return _prepare_shuffled(node, x, w, b, out)
    if node.options.get("weights_format", 0) != 0:
        node.fail(f"weights_format {node.options.get('weights_format')} is neither DEFAULT (0) nor "
                  "SHUFFLED4x16INT8 (1)")
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid fully-connected needs int8 weights with a scale")
        ws = _scales(w)
        d.q_per_channel = len(ws) > 1
        d.q_wscale = ws
        if w.data is not None:
            d.q_wt = np.ascontiguousarray(w.data.astype(np.float64).T)
            d.q_row_sums = w.data.astype(np.int64).sum(axis=1)
        d.q_asym = bool(node.options.get("asymmetric_quantize_inputs"))
        d.q_clamp = _float_clamp(node)
        return _eval_hybrid_fc
    _require(node, x, w, out)
    if x.dtype == np.int16 and w.dtype not in (np.int8, np.int16):
        _unsupported(node, f"16-bit activations with {w.dtype.name} weights")
    if x.dtype != np.int16 and w.dtype != x.dtype:
        _unsupported(node, f"{x.dtype.name} activations with {w.dtype.name} weights")
    if out.dtype != x.dtype:
        _unsupported(node, f"{x.dtype.name} input with {out.dtype.name} output")
    per_channel = len(_scales(w)) > 1
    d.q_x_zp = x.zero_point
    d.q_wzp = 0 if per_channel else w.zero_point
    if w.data is not None:
        d.q_wt = np.ascontiguousarray((w.data.astype(np.float64) - d.q_wzp).T)
    if x.dtype == np.int16 and w.dtype == np.int16:
        # 16x16: LiteRT's one kernel (both resolvers) sums in int64 and requantizes with the int64
        # MultiplyByQuantizedMultiplier, whatever the bias type.
        mode = "mbqm64"
    elif x.dtype == np.int16:
        # LiteRT runs 16x8 under its reference resolver, and with an int64 bias (or non-zero zero
        # points) under either, on its reference kernel, which requantizes in double precision;
        # otherwise on ruy.  That kernel accumulates in int32 (wrapping) only when the options ask
        # for an int32 bias, else in int64.
        double = (node.reference or (b is not None and b.dtype == np.int64)
                  or node.options.get("quantized_bias_type") == 4 or x.zero_point != 0 or out.zero_point != 0)
        acc32 = node.options.get("quantized_bias_type") == 2
        mode = ("double32" if acc32 else "double") if double else gemm_rounding(node)
    else:
        # 8-bit: LiteRT's reference kernel sums in int32 and requantizes in double precision.
        mode = "double32" if node.reference else gemm_rounding(node)
    _requant_params(node, x, w, b, out, units, mode, conv_per_tensor=not per_channel)
    return _eval_fc


def _eval_fc(node, inputs, outputs):
    data = node.data
    x, w = inputs[0], inputs[1]
    wt = node.data.q_wt
    if wt is None:
        wt = (w.astype(np.float64) - data.q_wzp).T
    xc = x.reshape(-1, data.depth).astype(np.float64) - data.q_x_zp
    acc = np.rint(xc @ wt).astype(np.int64)
    _store(outputs[0], _requantize(node, acc), data.q_lo, data.q_hi)


def _eval_hybrid_fc(node, inputs, outputs):
    data = node.data
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    wt = node.data.q_wt
    if wt is None:
        wt = w.astype(np.float64).T
        row_sums = w.astype(np.int64).sum(axis=1)
    else:
        row_sums = data.q_row_sums
    rows = x.reshape(-1, data.depth)
    q, sf, off = (_asymmetric_quantize_rows if data.q_asym else _symmetric_quantize_rows)(rows)
    acc = np.rint(q.astype(np.float64) @ wt).astype(np.int64)
    if data.q_asym:
        acc -= row_sums[None, :] * off[:, None]
    if data.q_per_channel:
        scale = (sf[:, None] * data.q_wscale[None, :]).astype(np.float32)
    else:
        scale = (sf * data.q_wscale[0]).astype(np.float32)[:, None]
    res = acc.astype(np.float32) * scale
    if b is not None:
        res += b
    if data.q_clamp is not None:
        np.clip(res, *data.q_clamp, out=res)
    outputs[0].reshape(res.shape)[...] = res


# --- shuffled weights (SHUFFLED4x16INT8) ---

SHUFFLED4x16INT8 = 1


def _prepare_shuffled(node, x, w, b, out):
    """TOCO's GEMV format: uint8 input (zero point 128), uint8 weights stored in blocks of
    4 units x 16 inputs with the sign bit flipped (each byte read as int8 is the weight
    minus its zero point 128), an int32 bias, an int16 output, and a second output the
    kernel writes the sign-flipped (and, for 4 rows, block-interleaved) input into.
    LiteRT checks only the types and the output count; what its kernel assumes
    beyond that (1 or 4 rows, 16 | depth, 4 | units, a bias, zero points 128 and 0)
    it does not check and, outside it, writes past buffers or leaves the output
    unwritten, so these are refused here."""
    d = node.draft(OpData)
    units, depth = w.shape
    if len(node.outputs) != 2:
        node.fail(f"SHUFFLED4x16INT8 weights need 2 outputs (the result and a uint8 workspace), the operator "
                  f"lists {len(node.outputs)}")
    if (x.dtype, w.dtype, out.dtype) != (np.uint8, np.uint8, np.int16):
        node.fail(f"SHUFFLED4x16INT8 weights need uint8 input, uint8 weights and int16 output (as LiteRT), got "
                  f"{x.dtype.name}, {w.dtype.name} and {out.dtype.name}")
    _require(node, x, w, out)
    if b is None or b.dtype != np.int32:
        node.fail("SHUFFLED4x16INT8 weights need an int32 bias (LiteRT's kernel reads one unconditionally), got "
                  + ("none" if b is None else b.dtype.name) + "; add a zero bias")
    if len(_scales(w)) != 1:
        node.fail(f"SHUFFLED4x16INT8 weights take one scale (per-tensor), got {len(_scales(w))}")
    if units % 4 or depth % 16:
        node.fail(f"SHUFFLED4x16INT8 weights come in blocks of 4 units x 16 inputs; [{units}, {depth}] is not a "
                  "multiple of [4, 16]")
    rows = int(np.prod(x.shape)) // depth
    if rows not in (1, 4):
        node.fail(f"SHUFFLED4x16INT8 weights run on 1 or 4 input rows (LiteRT leaves the output unwritten "
                  f"otherwise), got {rows} rows of {depth}; resize the input to a batch of 1 or 4")
    if x.zero_point != 128 or w.zero_point != 128 or out.zero_point != 0:
        node.fail(f"SHUFFLED4x16INT8 weights need zero points 128 (input and weights) and 0 (output), as LiteRT's "
                  f"kernel assumes without reading them; got {x.zero_point}, {w.zero_point} and {out.zero_point}")
    ws = node.outputs[1]
    if ws.dtype != np.uint8 or ws.shape is None or ws.size < rows * depth:
        node.fail(f"the workspace output {ws.name!r} must be uint8 with at least {rows * depth} elements "
                  f"({rows} x {depth}), got {ws.dtype.name} of shape {ws.shape}")
    diff = abs(float(_f32(x.scale) * _f32(w.scale)) - float(b.scale)) if _is_quantized(b) else 0.0
    if diff / float(out.scale) > 0.02:
        node.fail(f"the bias scale {b.scale} differs from input scale x weights scale "
                  f"{float(_f32(x.scale) * _f32(w.scale))} by more than 2% of the output scale (LiteRT refuses)")
    d.depth = depth
    d.shuffled_batches = rows
    if w.data is not None:
        d.shuffled_w = _unshuffle(w.data, units, depth)
    _requant_params(node, x, w, b, out, units, "gemmlowp", conv_per_tensor=True)
    return eval_shuffled


def _unshuffle(buf, units, depth):
    """The int8 weights [units, depth] (the stored bytes, sign already flipped)."""
    blocks = np.ascontiguousarray(buf).reshape(-1).view(np.int8).reshape(units // 4, depth // 16, 4, 16)
    return blocks.transpose(0, 2, 1, 3).reshape(units, depth).astype(np.int64)


def eval_shuffled(node, inputs, outputs):
    data = node.data
    x, out, ws = inputs[0], outputs[0], outputs[1]
    w = data.shuffled_w
    if w is None:
        w = _unshuffle(inputs[1], *inputs[1].shape)
    rows, depth = data.shuffled_batches, data.depth
    xs = x.reshape(rows, depth) ^ np.uint8(0x80)
    flat = ws.reshape(-1)
    flat[rows * depth:] = 0
    # The workspace as LiteRT leaves it: one row as is, four rows interleaved per 16 inputs.
    flat[:rows * depth] = xs.reshape(rows, depth // 16, 16).transpose(1, 0, 2).reshape(-1)
    xi = xs.view(np.int8).astype(np.int64)
    acc = (xi.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64)     # exact: |sum| < 2**53
    if not node.reference:
        # LiteRT's default kernel (NEON, through NEON_2_SSE on x86) sums the products of inputs j and
        # j + 8 of each block of 16 in an int16 lane first: only -128 * -128 twice overflows, to -32768.
        hot_x = (xi == -128).reshape(rows, depth // 16, 2, 8)
        hot_w = (w == -128).reshape(-1, depth // 16, 2, 8)
        lanes_x = (hot_x[:, :, 0] & hot_x[:, :, 1]).reshape(rows, -1).astype(np.float64)
        lanes_w = (hot_w[:, :, 0] & hot_w[:, :, 1]).reshape(len(w), -1).astype(np.float64)
        acc -= (lanes_x @ lanes_w.T).astype(np.int64) << 16
    acc = fx.wrap32(acc + data.q_bias)
    res = fx.multiply_by_quantized_multiplier(acc, data.q_mult, data.q_shift)
    # The default kernel saturates to int16 whatever the fused activation; the reference one clamps to it.
    lo, hi = (data.q_lo, data.q_hi) if node.reference else (-32768, 32767)
    _store(out, res, lo, hi)


# --- blockwise-quantized INT4 weights ---

def _prepare_blockwise(node, x, w):
    d = node.draft(OpData)
    from ..flatbuffer.schema import TENSOR_TYPE_NAMES

    if node.reference:
        # LiteRT's reference resolver has no blockwise kernel: its FULLY_CONNECTED
        # reads these weights as per-channel hybrid ones, values tinylite does not copy.
        raise UnsupportedOpError(f"{node.op_name} (node {node.index}): blockwise INT4 weights run on LiteRT's "
                                 "optimized kernel only; use the default op resolver, not BUILTIN_REF")

    details = w.quantization.details
    runner = node.runner
    tensors = runner.subgraph.tensors
    if TENSOR_TYPE_NAMES.get(tensors[w.index].type) != "INT4":
        node.fail(f"blockwise quantization is implemented for INT4 weights (as LiteRT), got "
                  f"{TENSOR_TYPE_NAMES.get(tensors[w.index].type)}")
    if x.dtype != np.float32 or node.outputs[0].dtype != np.float32:
        node.fail(f"blockwise INT4 weights need float32 input and output, got {x.dtype.name}")
    if w.data is None:
        node.fail("blockwise INT4 weights must be constant")
    units, depth = w.shape
    block = int(details.get("block_size", 0))
    if block <= 0 or depth % block:
        node.fail(f"block_size {block} does not divide the weights' depth {depth}")
    si = int(details.get("scales", -1))
    if not 0 <= si < len(tensors):
        node.fail(f"blockwise scales name tensor {si}, which does not exist")
    scales = runner.model.buffer_array(tensors[si])
    if scales is None or scales.size != units * (depth // block):
        node.fail(f"blockwise scales (tensor {si}) must be a constant of {units} x {depth // block} values")
    zi = int(details.get("zero_points", -1))
    if zi >= 0:
        zps = runner.model.buffer_array(tensors[zi]) if zi < len(tensors) else None
        if zps is None or np.any(zps != 0):
            raise UnsupportedOpError(f"{node.op_name} (node {node.index}): blockwise weights with nonzero "
                                     "zero points are not supported (LiteRT's kernel assumes 0 too)")
    d.block = block
    blocks = depth // block
    d.block_scales = scales.astype(np.float32).reshape(units, blocks)
    wq = w.data.astype(np.float64).reshape(units, blocks, block)
    d.block_weights = wq
    ksum = wq.sum(axis=2).astype(np.float32)
    kfsum = np.zeros(units, np.float32)
    for bi in range(blocks):
        kfsum = (kfsum + d.block_scales[:, bi] * ksum[:, bi]).astype(np.float32)
    d.kfsum = kfsum
    return eval_blockwise


def eval_blockwise(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    b = inputs[2] if len(inputs) > 2 else None
    units, blocks, block = data.block_weights.shape
    rows = x.reshape(-1, blocks * block)
    q, sf, zp = _asymmetric_quantize_rows(rows)
    qb = q.astype(np.float64).reshape(len(rows), blocks, block)
    acc = np.zeros((len(rows), units), np.float32)
    for bi in range(blocks):
        sums = (qb[:, bi, :] @ data.block_weights[:, bi, :].T).astype(np.float32)   # exact integers
        acc = (acc + sums * data.block_scales[None, :, bi]).astype(np.float32)
    acc = (acc - zp.astype(np.float32)[:, None] * data.kfsum[None, :]).astype(np.float32)
    acc = (acc * sf[:, None]).astype(np.float32)
    if b is not None:
        acc = (acc + b).astype(np.float32)
    out[...] = acc.reshape(out.shape)
