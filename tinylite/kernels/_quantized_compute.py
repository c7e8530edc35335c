"""Quantized DEPTHWISE_CONV_2D (int8 per-channel, 16x8, uint8, hybrid), MEAN
(TFLite's integer mean) and BATCH_MATMUL (int8, 16x8, hybrid).  Re-exported by
_quantized.  Integer sums run in float64, which is exact here.

Which rounding LiteRT's x86 build uses:
- DEPTHWISE_CONV_2D int8 requantizes output channels in blocks of 8 with
  NEON_2_SSE intrinsics (ties rounded up in both the high multiply and the
  shift, as ruy does) and the remaining cout % 8 channels with gemmlowp's
  MultiplyByQuantizedMultiplier (ties away from zero); 16x8 uses the int64
  MultiplyByQuantizedMultiplier; uint8 (per-tensor, filter zero point) uses
  gemmlowp rounding, which matched both LiteRT kernels in the tests.
- Hybrid DEPTHWISE_CONV_2D quantizes each image asymmetrically and needs one
  weight scale per output channel (TFLite's kernel indexes them so).
- MEAN int8/uint8 over the two spatial axes of a 4-D input with keep_dims
  runs LiteRT's optimized kernel: a float32 multiplier for scale/count, the
  zero point folded into a rounded float bias, and channels in blocks of 16
  rounded upward (the rest as gemmlowp).  Every other MEAN is the reference
  one: a multiplier divided by the count in integers.
- BATCH_MATMUL quantized runs LiteRT's reference kernels (gemmlowp rounding).
"""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._quantized import (_asymmetric_quantize_rows, _f32, _float_clamp, _is_quantized, _require, _requant_params,
                         _scales, _symmetric_quantize_rows, _unsupported)

INT32_MAX = (1 << 31) - 1


def _ruy_requantize(acc, mult, shift):
    """NEON's vshl / vqrdmulh / vrshl requantization: ties rounded up in both steps."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = fx.wrap32(np.asarray(acc, np.int64) << left)
    mult = np.asarray(mult, np.int64)
    high = np.where((x == fx.INT32_MIN) & (mult == fx.INT32_MIN), INT32_MAX, (x * mult + (1 << 30)) >> 31)
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (high + nudge) >> right      # vrshl rounds in wider precision: no overflow


# --- DEPTHWISE_CONV_2D ---

def prepare_depthwise_conv(node):
    from .depthwise_conv_2d import filter_taps

    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    cin, cout = x.shape[3], w.shape[3]
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid depthwise convolution needs int8 weights with scales")
        ws = _scales(w)
        if len(ws) != cout:
            # TFLite's hybrid kernel reads one scale per output channel.
            _unsupported(node, "hybrid depthwise convolution needs one weight scale per output channel")
        node.q_wscale = ws
        node.q_taps = None if w.data is None else filter_taps(w.data.astype(np.float64), cin)
        node.q_bias = None if b is None else b.data
        node.q_clamp = _float_clamp(node)
        return _eval_hybrid_depthwise
    _require(node, x, w, out)
    if x.dtype == np.int16 or x.dtype == np.int8:
        if w.dtype != np.int8:
            _unsupported(node, f"{w.dtype.name} weights with {x.dtype.name} activations")
    elif w.dtype != np.uint8:
        _unsupported(node, f"{w.dtype.name} weights with uint8 activations")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    node.q_x_zp = x.zero_point
    node.q_wzp = w.zero_point if x.dtype == np.uint8 else 0
    node.q_taps = None if w.data is None else filter_taps(w.data.astype(np.float64) - node.q_wzp, cin)
    mode = {np.dtype(np.int16): "mbqm64", np.dtype(np.int8): "gemmlowp", np.dtype(np.uint8): "gemmlowp"}[x.dtype]
    _requant_params(node, x, w, b, out, cout, mode, conv_per_tensor=x.dtype == np.uint8)
    # The optimized int8 kernel rounds channels [0, cout - cout % 8) with NEON.
    # The reference kernel rounds every channel with gemmlowp.
    node.q_simd = np.arange(cout) < (cout - cout % 8) if x.dtype == np.int8 and not node.reference else None
    return _eval_depthwise


def _depthwise_sums(node, xc, taps):
    """[n, oh, ow, cout] exact sums of products of a centered input (float64)."""
    from .conv_2d import pad_input, patches

    g = node.geometry
    windows = patches(pad_input(xc, g), g)          # [n, oh, ow, kh, kw, cin]
    n = xc.shape[0]
    acc = np.zeros((n, g["oh"], g["ow"]) + taps.shape[2:])
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            acc += windows[:, :, :, i, j, :, None] * taps[i, j]
    return acc.reshape(n, g["oh"], g["ow"], -1)


def _eval_depthwise(node, inputs, outputs):
    from .depthwise_conv_2d import filter_taps

    x, out = inputs[0], outputs[0]
    taps = node.q_taps if node.q_taps is not None else filter_taps(inputs[1].astype(np.float64) - node.q_wzp,
                                                                    x.shape[3])
    acc = np.rint(_depthwise_sums(node, x.astype(np.float64) - node.q_x_zp, taps)).astype(np.int64)
    acc = acc.reshape(-1, out.shape[-1])
    if node.q_bias is not None:
        acc = acc + node.q_bias
    if node.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, node.q_mult, node.q_shift)
    else:
        acc = fx.wrap32(acc)
        res = fx.multiply_by_quantized_multiplier(acc, node.q_mult, node.q_shift)
        if node.q_simd is not None and node.q_simd.any():
            res = np.where(node.q_simd, _ruy_requantize(acc, node.q_mult, node.q_shift), res)
    res = np.clip(res + node.q_out_zp, node.q_lo, node.q_hi)
    out[...] = res.reshape(out.shape)


def _eval_hybrid_depthwise(node, inputs, outputs):
    from .depthwise_conv_2d import filter_taps

    x, out = inputs[0], outputs[0]
    taps = node.q_taps if node.q_taps is not None else filter_taps(inputs[1].astype(np.float64), x.shape[3])
    n = x.shape[0]
    # Each image is quantized asymmetrically as a whole (AsymmetricQuantizeFloats).
    q, sf, off = _asymmetric_quantize_rows(x.reshape(n, -1))
    xc = (q - off[:, None]).reshape(x.shape)
    acc = np.rint(_depthwise_sums(node, xc, taps)).astype(np.float32)
    scale = (node.q_wscale[None, :] * sf[:, None]).astype(np.float32)      # float32 product, as TFLite
    res = acc * scale[:, None, None, :]
    if node.q_bias is not None:
        res += node.q_bias
    if node.q_clamp is not None:
        np.clip(res, *node.q_clamp, out=res)
    out[...] = res


# --- MEAN ---

def prepare_mean(node):
    from ._window import prepare_reduction

    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype != out.dtype:
        _unsupported(node, f"{x.dtype.name} input with a {out.dtype.name} output")
    if x.dtype == np.int16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    prepare_reduction(node)
    info = np.iinfo(out.dtype)
    node.q_range = (int(info.min), int(info.max))
    node.q_x_zp, node.q_out_zp = x.zero_point, out.zero_point
    # The optimized kernel's spatial case (LiteRT's reference kernel has none).
    spatial = (not node.reference and x.dtype != np.int16 and node.options.get("keep_dims") and len(x.shape) == 4
               and sorted(node.axes) == [1, 2] and x.size > 0)
    if spatial:
        sx, so = _f32(x.scale), _f32(out.scale)
        count = _f32(x.shape[1] * x.shape[2])
        real = float(sx / (count * so))
        node.q_mult, node.q_shift = fx.quantize_multiplier(real)
        temp = _f32(_f32(x.zero_point) * sx / so)
        temp = temp + _f32(0.5) if temp > 0 else temp - _f32(0.5)
        node.q_bias = out.zero_point - int(temp)       # C's cast truncates toward zero
        depth = x.shape[3]
        node.q_simd = np.arange(depth) < depth - depth % 16
        return _eval_mean_spatial
    mult, shift = fx.quantize_multiplier(float(x.scale) / float(out.scale))
    n = node.count
    if n > 0:
        # The reference kernel divides the multiplier by the element count, in integers.
        s = min(n.bit_length() - 1, 32, 31 + shift)
        mult = int(np.int64(mult) << s) // n if s >= 0 else int(np.int64(mult) >> -s) // n
        shift -= s
    node.q_mult, node.q_shift = mult, shift
    return _eval_mean


def _eval_mean_spatial(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    acc = x.astype(np.int64).sum(axis=(1, 2))                    # [n, depth]
    res = fx.multiply_by_quantized_multiplier(acc, node.q_mult, node.q_shift)
    if node.q_simd.any():
        res = np.where(node.q_simd, _ruy_requantize(acc, node.q_mult, node.q_shift), res)
    out[...] = np.clip(res + node.q_bias, *node.q_range).reshape(out.shape)


def _eval_mean(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if x.size == 0 or node.count == 0:
        out[...] = 0
        return
    total = np.sum(x, axis=node.axes, dtype=np.int64, keepdims=True)
    shifted = fx.wrap32(total - node.q_x_zp * node.count)
    res = fx.multiply_by_quantized_multiplier(shifted, node.q_mult, node.q_shift) + node.q_out_zp
    out.reshape(node.kept_shape)[...] = np.clip(res, *node.q_range)


# --- BATCH_MATMUL ---

def prepare_batch_matmul(node):
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    adj_x, adj_y = node.adj
    if x.dtype == np.float32:
        if y.dtype != np.int8 or not _is_quantized(y):
            _unsupported(node, "hybrid BATCH_MATMUL needs an int8 right-hand side with a scale")
        ys = _scales(y)
        cols = y.shape[-2] if adj_y else y.shape[-1]
        if len(ys) > 1 and len(ys) != cols:
            _unsupported(node, f"{len(ys)} scales for {cols} output columns")
        node.q_yscale = ys
        node.q_asym = bool(node.options.get("asymmetric_quantize_inputs"))
        return _eval_hybrid_bmm
    _require(node, x, y)
    if out.dtype == np.int32 and x.dtype == y.dtype == np.int8:
        node.q_mode = "int32"
        return _eval_bmm
    _require(node, out)
    if x.dtype == np.int8 and (y.dtype != np.int8 or out.dtype != np.int8):
        _unsupported(node, f"int8 x {y.dtype.name} -> {out.dtype.name}")
    if x.dtype == np.int16 and (y.dtype not in (np.int8, np.int16) or out.dtype != np.int16):
        _unsupported(node, f"int16 x {y.dtype.name} -> {out.dtype.name}")
    if x.dtype == np.uint8:
        _unsupported(node, "uint8 inputs")
    if x.dtype == np.int16 and (x.zero_point or y.zero_point or out.zero_point):
        node.fail("int16 inputs and output need zero points of 0")
    if len(_scales(y)) > 1 and np.any(_scales(y) != _scales(y)[0]):
        _unsupported(node, "per-channel scales")
    # GetQuantizedConvolutionMultipler: the scale product in float32.
    real = float(_f32(x.scale) * _f32(y.scale)) / float(out.scale)
    node.q_mult, node.q_shift = fx.quantize_multiplier(real)
    node.q_zps = (x.zero_point, y.zero_point, out.zero_point)
    node.q_mode = "mbqm64" if x.dtype == np.int16 else "gemmlowp"
    info = np.iinfo(out.dtype)
    node.q_range = (int(info.min), int(info.max))
    return _eval_bmm


def _operands(node, x, y):
    adj_x, adj_y = node.adj
    return (np.swapaxes(x, -1, -2) if adj_x else x), (np.swapaxes(y, -1, -2) if adj_y else y)


def _eval_bmm(node, inputs, outputs):
    lhs, rhs = _operands(node, inputs[0], inputs[1])
    out = outputs[0]
    if node.q_mode == "int32":
        # TFLite's int8 x int8 -> int32 kernel ignores the zero points.
        out[...] = fx.wrap32(np.rint(np.matmul(lhs.astype(np.float64), rhs.astype(np.float64))).astype(np.int64))
        return
    zx, zy, zo = node.q_zps
    acc = np.rint(np.matmul(lhs.astype(np.float64) - zx, rhs.astype(np.float64) - zy)).astype(np.int64)
    if node.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, node.q_mult, node.q_shift)
    else:
        res = fx.multiply_by_quantized_multiplier(fx.wrap32(acc), node.q_mult, node.q_shift)
    out[...] = np.clip(res + zo, *node.q_range)


def _eval_hybrid_bmm(node, inputs, outputs):
    lhs, rhs = _operands(node, inputs[0], inputs[1])
    out = outputs[0]
    depth = lhs.shape[-1]
    rows = lhs.reshape(-1, depth)
    q, sf, off = (_asymmetric_quantize_rows if node.q_asym else _symmetric_quantize_rows)(rows)
    if len(node.q_yscale) == 1:
        sf = (sf * node.q_yscale[0]).astype(np.float32)
    q = q.reshape(lhs.shape)
    w = rhs.astype(np.float64)
    acc = np.rint(np.matmul(q.astype(np.float64), w)).astype(np.int64)
    if node.q_asym:
        acc = acc - w.sum(axis=-2, keepdims=True).astype(np.int64) * off.reshape(lhs.shape[:-1] + (1,))
    scale = sf.reshape(lhs.shape[:-1] + (1,))
    if len(node.q_yscale) > 1:
        scale = (scale * node.q_yscale).astype(np.float32)
    out[...] = acc.astype(np.float32) * scale
