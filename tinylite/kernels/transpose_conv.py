"""TRANSPOSE_CONV: the gradient of CONV_2D with respect to its input.  Inputs:
output_shape (int32 [4]), weights [cout, kh, kw, cin], input, optional bias.

Each input pixel scatters input @ weights into a kh x kw patch of the output,
at (y * stride - pad_top, x * stride - pad_left); the padding is the one a
CONV_2D from the output back to the input would use.

Hybrid: float32 input with int8 weights, see prepare_hybrid.

Quantized: uint8 (per-tensor weights with a zero point), int8 (per-channel
symmetric weights, int32 bias) and int16 activations with int8 weights (16x8,
int32 or int64 bias).  Sums of (input - zero point) * weight are exact; the
requantization is the one of the LiteRT kernel that runs the case by default:
- int8, and 16x8 with an int32 bias and zero points 0: LiteRT's optimized
  kernel quantizes channels in blocks of 8 with NEON intrinsics (SSE on x86):
  a doubling high multiply, then a right shift, both rounding half up;
  the channels left over (count % 8) take gemmlowp's MultiplyByQuantizedMultiplier.
  (Under OpResolverType.BUILTIN_REF gemmlowp rounds every channel, as
  LiteRT's reference resolver does.)
- uint8: the optimized kernel requantizes the flat output in blocks of 16
  with a rounding high multiply and rounding shift (both ties up, as
  fx.multiply_by_quantized_multiplier_ruy); the last total % 16 values take
  gemmlowp's MultiplyByQuantizedMultiplier (ties away from zero).
- 16x8 with an int64 bias: the int64 MultiplyByQuantizedMultiplier (16-bit
  multiplier, one rounding), no output offset (int16 zero points are 0).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import _fixedpoint as fx
from ._base import conv_padding, fused_float_activation, op_data, padding_name
from ._quantization import _asymmetric_quantize_rows, _requant_params, QuantData
from ._window import window_out_size


@op_data
class OpData(QuantData):
    """What TRANSPOSE_CONV's prepare computes for eval."""

    pad_top: int = None
    pad_left: int = None
    strides: tuple = None
    x_zp: int = None
    w_zp: int = None
    w_scale: np.ndarray = None
    act: Callable | None = None
    kernel: tuple = None
    mode: str = None
    wmat: np.ndarray = None


def prepare(node):
    od = node.draft(OpData)
    shape_in, w, x = node.inputs[0], node.inputs[1], node.inputs[2]
    if len(shape_in.shape) != 1 or len(w.shape) != 4 or len(x.shape) != 4:
        node.fail(f"expects a 1-D output shape, 4-D weights and a 4-D input, got shapes "
                  f"{list(shape_in.shape)}, {list(w.shape)} and {list(x.shape)}")
    node.expect_dtype(shape_in, np.int32)
    out_shape = tuple(int(d) for d in np.asarray(node.value(0)).reshape(-1))
    cout, kh, kw, cin = w.shape
    n, h, wd, c = x.shape
    if c != cin:
        node.fail(f"input has {c} channels, the weights expect {cin}")
    if len(out_shape) != 4 or out_shape[0] != n or out_shape[3] != cout or min(out_shape[1:3]) <= 0:
        node.fail(f"output shape {list(out_shape)} does not fit batch {n} and {cout} output channels")
    o = node.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    pad = padding_name(node)
    H, W = out_shape[1:3]
    # The convolution going the other way (output -> input) must give back the input's size.
    ih, iw = window_out_size(pad, H, kh, sh), window_out_size(pad, W, kw, sw)
    if (ih, iw) != (h, wd):
        node.fail(f"a {pad} {kh}x{kw} convolution with strides {sh}x{sw} maps output size {H}x{W} to "
                  f"{ih}x{iw}, not to the input's {h}x{wd}")
    od.pad_top = conv_padding(H, kh, sh, 1, h)[0]
    od.pad_left = conv_padding(W, kw, sw, 1, wd)[0]
    od.strides = (sh, sw)
    node.outputs[0].shape = out_shape
    if node.has_input(3) and node.inputs[3].size != cout:
        node.fail(f"bias has {node.inputs[3].size} elements, expected {cout}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if w.data is not None:
            od.wmat = weight_matrix(w.data)
        od.act = fused_float_activation(node)
        return eval_float
    return prepare_quantized(node)


def weight_matrix(w):
    """[cin, kh * kw * cout], so that input rows @ matrix give every tap's contribution."""
    cin = w.shape[3]
    return np.ascontiguousarray(w.transpose(3, 1, 2, 0).reshape(cin, -1))


def eval_float(node, inputs, outputs):
    data = node.data
    w, x, out = inputs[1], inputs[2], outputs[0]
    b = inputs[3] if len(inputs) > 3 else None
    cout, kh, kw, cin = w.shape
    n, h, wd, _ = x.shape
    _, H, W, _ = out.shape
    sh, sw = data.strides
    pt, pl = data.pad_top, data.pad_left
    wmat = node.data.wmat
    if wmat is None:
        wmat = weight_matrix(w)
    cols = node.matmul()(x.reshape(-1, cin), wmat).reshape(n, h, wd, kh, kw, cout)
    # Scatter into an output grid that starts pad_top/pad_left before the real one.
    full = np.zeros((n, max((h - 1) * sh + kh, pt + H), max((wd - 1) * sw + kw, pl + W), cout), np.float32)
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw] += cols[:, :, :, i, j]
    out[...] = full[:, pt:pt + H, pl:pl + W]
    if b is not None:
        out += b
    if data.act is not None:
        data.act(out)


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    w, x, out = node.inputs[1], node.inputs[2], node.outputs[0]
    b = node.inputs[3] if node.has_input(3) else None
    d.kernel = (w.shape[1], w.shape[2], w.shape[0])     # (kh, kw, cout)
    if x.dtype == np.float32:
        return prepare_hybrid(node)
    node.expect_dtype(x, np.float32, np.uint8, np.int8, np.int16)
    if x.dtype != out.dtype:
        node.fail(f"output type {out.dtype.name} differs from input type {x.dtype.name}")
    want_w = np.uint8 if x.dtype == np.uint8 else np.int8
    if w.dtype != want_w:
        node.fail(f"{x.dtype.name} input needs {np.dtype(want_w).name} weights, got {w.dtype.name}")
    for spec in (x, w, out):
        if spec.quantization is None or not spec.quantization.is_quantized:
            node.fail(f"tensor {spec.name!r} of type {spec.dtype.name} has no quantization parameters")
    cout = w.shape[0]
    if x.dtype == np.int16:
        if x.zero_point or out.zero_point:
            node.fail("16x8 TRANSPOSE_CONV needs input and output zero points 0")
        if b is not None and b.dtype not in (np.int32, np.int64):
            node.fail(f"16x8 bias must be int32 or int64, got {b.dtype.name}")
    elif b is not None and b.dtype != np.int32:
        node.fail(f"bias must be int32 for {x.dtype.name} input, got {b.dtype.name}")
    if b is not None and b.data is None:
        node.fail("the quantized bias must be a constant")
    d.x_zp = x.zero_point
    d.w_zp = w.zero_point if x.dtype == np.uint8 else 0
    _requant_params(node, x, w, b, out, cout, "gemmlowp", conv_per_tensor=x.dtype == np.uint8)
    if x.dtype == np.int16:
        # LiteRT takes the int32 path only when the options name an int32 bias.
        d.mode = "blocked" if node.options.get("quantized_bias_type") == 2 else "mbqm64"
        if d.mode == "mbqm64" and b is not None and b.dtype != np.int64:
            node.fail("a 16x8 int32 bias needs quantized_bias_type INT32 in the options "
                      "(LiteRT reads the bias as int64 otherwise)")
    elif x.dtype == np.int8:
        d.mode = "blocked"
    else:
        d.mode = "flat16"
    # The float64 weight matrix is made at the first invoke (see _quantized_weights): where an
    # optimized kernel runs instead, loading never pays for a float64 copy of the weights.
    return eval_quantized


def _quantized_weights(node, w):
    """The centered float64 weight matrix of a quantized node, kept in node.cache for constant weights."""
    wm = node.cache.get("q_wmat")
    if wm is None:
        # Transposed as integers, then one float64 copy (a float64 transpose and a subtraction of 0 took
        # three passes over eight bytes a weight).
        wm = weight_matrix(w).astype(np.float64)
        if node.data.w_zp:
            wm -= node.data.w_zp
        if node.inputs[1].data is not None:
            node.cache["q_wmat"] = wm
    return wm


def prepare_hybrid(node):
    """float32 input and output, int8 weights (per channel or one scale), float32 bias: LiteRT
    quantizes each image asymmetrically (AsymmetricQuantizeFloats), then every input pixel adds
    (q - zero point) * weight * weight scale * image scale to its patch (reference
    HybridTransposeConv, in both resolvers).  The integer sums are exact here and scaled once; LiteRT
    rounds each term to float32 and adds them in order, a difference of a few float32 ulps."""
    d = node.draft(OpData)
    w, out = node.inputs[1], node.outputs[0]
    b = node.inputs[3] if node.has_input(3) else None
    if w.dtype != np.int8:
        node.fail(f"float32 input needs float32 or int8 (hybrid) weights, got {w.dtype.name}")
    if out.dtype != np.float32:
        node.fail(f"a hybrid TRANSPOSE_CONV's output must be float32, got {out.dtype.name}")
    if b is not None and b.dtype != np.float32:
        node.fail(f"a hybrid TRANSPOSE_CONV's bias must be float32, got {b.dtype.name}")
    q = w.quantization
    if q is None or not q.is_quantized:
        node.fail(f"int8 weights {w.name!r} have no quantization scale")
    cout = w.shape[0]
    scales = np.asarray(q.scale, np.float32).reshape(-1)
    if scales.size == 1:
        scales = np.full(cout, scales[0], np.float32)
    elif scales.size != cout or int(q.quantized_dimension) != 0:
        node.fail(f"weight scales must be one per output channel (dimension 0, {cout}), got {scales.size} "
                  f"on dimension {q.quantized_dimension}")
    d.w_scale = scales
    d.act = fused_float_activation(node)
    d.kernel = (w.shape[1], w.shape[2], cout)
    if w.data is not None:
        d.wmat = weight_matrix(w.data).astype(np.float64)     # transposed as int8: one float64 pass
    return eval_hybrid


def eval_hybrid(node, inputs, outputs):
    data = node.data
    w, x, out = inputs[1], inputs[2], outputs[0]
    b = inputs[3] if len(inputs) > 3 else None
    wmat = node.data.wmat
    if wmat is None:
        wmat = weight_matrix(w.astype(np.float64))
    n = x.shape[0]
    q, sf, zp = _asymmetric_quantize_rows(x.reshape(n, -1))
    xc = (q.astype(np.float64) - zp[:, None]).reshape(x.shape)
    acc = np.rint(_scatter(node, xc, wmat, out.shape, np.float64))
    res = acc * data.w_scale.astype(np.float64) * sf.astype(np.float64)[:, None, None, None]
    if b is not None:
        res = res + b
    out[...] = res.astype(np.float32)
    if data.act is not None:
        data.act(out)


def _scatter(node, x, wmat, out_shape, dtype):
    """The transposed convolution's sums for a centered input (exact in float64)."""
    kh, kw, cout = node.data.kernel
    n, h, wd, cin = x.shape
    _, H, W, _ = out_shape
    sh, sw = node.data.strides
    pt, pl = node.data.pad_top, node.data.pad_left
    cols = (x.reshape(-1, cin) @ wmat).reshape(n, h, wd, kh, kw, cout)
    full = np.zeros((n, max((h - 1) * sh + kh, pt + H), max((wd - 1) * sw + kw, pl + W), cout), dtype)
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw] += cols[:, :, :, i, j]
    return full[:, pt:pt + H, pl:pl + W]


def _requantize_blocked(acc, mult, shift):
    """LiteRT's optimized Quantize: channels in blocks of 8 through NEON intrinsics
    (NEON_2_SSE on x86): the accumulator shifted left by max(shift + 1, 0), a doubling
    high multiply, then a rounding right shift by max(-shift, 1).  Both round ties up
    in LiteRT's x86 build (measured against it: its emulated high multiply rounds);
    the remaining channels take gemmlowp's rounding (ties away from zero)."""
    channels = acc.shape[-1]
    blocked = channels - channels % 8
    res = np.empty_like(acc)
    if blocked:
        a = acc[..., :blocked]
        m = mult[:blocked].astype(np.int64)
        sft = shift[:blocked].astype(np.int64)
        right = np.minimum(sft, -1)
        left = sft - right
        a = fx.wrap32(a << left)
        high = np.where((a == fx.INT32_MIN) & (m == fx.INT32_MIN), fx.INT32_MAX, (a * m + (1 << 30)) >> 31)
        r = -right
        res[..., :blocked] = (high + (np.int64(1) << (r - 1))) >> r
    if blocked < channels:
        res[..., blocked:] = fx.multiply_by_quantized_multiplier(
            acc[..., blocked:], mult[blocked:], shift[blocked:])
    return res


def eval_quantized(node, inputs, outputs):
    d = node.data
    w, x, out = inputs[1], inputs[2], outputs[0]
    wmat = _quantized_weights(node, w)
    acc = np.rint(_scatter(node, x.astype(np.float64) - d.x_zp, wmat, out.shape, np.float64)).astype(np.int64)
    if d.q_bias is not None:
        acc += d.q_bias
    if d.mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, d.q_mult, d.q_shift)
    else:
        acc = fx.wrap32(acc)
        if d.mode == "blocked" and not node.reference:
            res = _requantize_blocked(acc, d.q_mult, d.q_shift)
        elif d.mode == "flat16" and not node.reference:
            flat = acc.reshape(-1)
            split = flat.size - flat.size % 16
            res = np.concatenate([
                fx.multiply_by_quantized_multiplier_ruy(flat[:split], d.q_mult[0], d.q_shift[0]),
                fx.multiply_by_quantized_multiplier(flat[split:], d.q_mult[0], d.q_shift[0])])
            res = res.reshape(acc.shape)
        else:
            res = fx.multiply_by_quantized_multiplier(acc, d.q_mult, d.q_shift)
        res = res + d.q_out_zp
    np.clip(res, d.q_lo, d.q_hi, out=res)
    out[...] = res
