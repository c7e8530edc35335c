"""Quantized kernel paths: int8/uint8/int16 activations with affine
quantization, and the hybrid (dynamic-range) kernels with float activations
and int8 weights.  The float kernels route here through
``_quantized.prepare_<op>(node)``.

Semantics are TFLite's integer kernels: QuantizeMultiplier, gemmlowp's
double-rounding MultiplyByQuantizedMultiplier (the 16-bit-multiplier variant
for int64 accumulators), activation clamping in the quantized domain, padding
that contributes nothing (input zero point), the gemmlowp fixed-point exp of
the int8 softmax and TFLite's lookup tables for the int8/int16 activations.
Integer GEMMs run as float64 BLAS products, which are exact (every partial sum
stays far below 2**53).

Which LiteRT kernel is followed.  LiteRT's default (optimized) kernels and
its reference kernels do not always agree; tinylite matches the default ones
bit for bit wherever that was measured (the shared corpus, tests/kernels/
test_quantized.py), and says so where it follows the reference instead:
- CONV_2D int8 and FULLY_CONNECTED int8/uint8 (and 16x8 FULLY_CONNECTED
  without an int64 bias) requantize as ruy's x86 kernels do: the high
  multiply and the final right shift both round ties *up*
  (fx.multiply_by_quantized_multiplier_ruy).  The reference kernels use
  gemmlowp's double rounding (ties away from zero), and the reference
  FULLY_CONNECTED even requantizes in double precision: they differ from the
  default by one LSB on ties.  Set ``RUY = "gemmlowp"`` to follow the
  reference CONV_2D.  Grouped convolutions run on LiteRT's reference kernel,
  so they use gemmlowp rounding; 16x8 CONV_2D uses the int64 (16-bit
  multiplier) MultiplyByQuantizedMultiplier in both LiteRT kernels; 16x8
  FULLY_CONNECTED with an int64 bias requantizes in double precision in both.
- SOFTMAX int8/uint8 follows the default float exp table (``SOFTMAX_INT8 =
  "reference"`` switches to the gemmlowp fixed-point reference kernel).
- TANH/LOGISTIC int16 follow the reference (interpolated sigmoid table);
  for power-of-two input scales LiteRT's default kernel uses gemmlowp's
  fixed-point functions instead and may differ by an LSB.
- TANH/LOGISTIC int8 build TFLite's 256-entry table with correctly rounded
  float32 exp/tanh; the C library may differ in a last ulp (never seen).
- QUANTIZE/DEQUANTIZE reproduce the SIMD/scalar split of LiteRT's x86 build
  (see quantize.py); these, like the ruy rounding, are properties of the x86
  build of LiteRT and can differ by one LSB on ARM.
- Hybrid kernels quantize each batch row (FULLY_CONNECTED) or image
  (CONV_2D) as TFLite does; float results may differ in the last bits from
  LiteRT's SIMD accumulation order.
- ADD/SUB/MUL, the RELU family, LEAKY_RELU, HARD_SWISH, GELU, EXP and
  CONCATENATION live in _quantized_elementwise.py; DEPTHWISE_CONV_2D, MEAN and
  BATCH_MATMUL in _quantized_compute.py; RSQRT, SQRT, LOG_SOFTMAX and
  SQUARED_DIFFERENCE in _quantized_math.py (LOG_SOFTMAX int8 follows the
  default float-table kernel; ``_quantized_math.LOG_SOFTMAX_INT8 =
  "reference"`` switches to the fixed-point reference one).  Each docstring
  says which LiteRT kernel and rounding it follows.
- LiteRT's SIMD hybrid kernels assume symmetric int8 weights (-128 never
  occurs); with a -128 weight they give different results, tinylite the exact
  product.
"""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedOpError
from . import _fixedpoint as fx
from ._base import activation_name

QUANTIZED = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))

# Requantization of the GEMMs LiteRT's optimized kernels hand to ruy (set to "gemmlowp" to
# follow TFLite's reference kernels instead).
RUY = "ruy"
# Int8/uint8 SOFTMAX: "optimized" (LiteRT's default float exp table) or "reference"
# (the gemmlowp fixed-point kernel of LiteRT's reference op resolver).
SOFTMAX_INT8 = "optimized"


def gemm_rounding(node):
    """How a GEMM's int32 accumulators are requantized: LiteRT's optimized kernels
    hand them to ruy (ties rounded up in the high multiply and the shift), its
    reference kernels use gemmlowp's MultiplyByQuantizedMultiplier (ties away
    from zero); the two differ by one LSB on ties."""
    return "gemmlowp" if node.reference else RUY


def _unsupported(node, detail=""):
    types = ", ".join(s.dtype.name for s in node.inputs if s is not None)
    raise UnsupportedOpError(
        f"{node.op_name} (node {node.index}) with input types ({types}) is not supported by tinylite"
        + (f": {detail}" if detail else ""))


def __getattr__(name):
    # Ops without a quantized path yet report it clearly.
    if name.startswith("prepare_"):
        return _unsupported
    raise AttributeError(name)


# --- quantization parameters ---

def _is_quantized(spec):
    return spec is not None and spec.quantization is not None and spec.quantization.is_quantized


def _require(node, *specs):
    for s in specs:
        if s.dtype not in QUANTIZED:
            _unsupported(node, f"tensor {s.name!r} has type {s.dtype.name}")
        if not _is_quantized(s):
            node.fail(f"tensor {s.name!r} of type {s.dtype.name} has no quantization parameters")


def _scales(spec):
    return np.asarray(spec.quantization.scale, np.float32).reshape(-1)


def _zero_points(spec):
    zp = spec.quantization.zero_point
    return np.zeros(1, np.int64) if zp is None or not len(zp) else np.asarray(zp, np.int64).reshape(-1)


def _f32(x):
    return np.float32(x)


def activation_range(node, out):
    """TFLite's CalculateActivationRangeQuantized: the fused activation as integer bounds."""
    info = np.iinfo(out.dtype)
    name = activation_name(node)
    scale, zp = _f32(out.scale), out.zero_point

    def q(f):
        return zp + int(fx.round_half_away(_f32(f) / scale))

    if name == "RELU":
        return max(info.min, q(0.0)), info.max
    if name == "RELU6":
        return max(info.min, q(0.0)), min(info.max, q(6.0))
    if name == "RELU_N1_TO_1":
        return max(info.min, q(-1.0)), min(info.max, q(1.0))
    return info.min, info.max


def _store(out, values, lo, hi):
    np.clip(values, lo, hi, out=values)
    out[...] = values.reshape(out.shape)


# --- float activations of the hybrid kernels ---

def _float_clamp(node):
    name = activation_name(node)
    return {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}.get(name)


def _symmetric_quantize_rows(rows):
    """TFLite's SymmetricQuantizeFloats per row: (int8 values, float32 scaling factors)."""
    rng = np.maximum(np.abs(rows.min(axis=1)), np.abs(rows.max(axis=1))).astype(np.float32)
    zero = rng == 0
    safe = np.where(zero, np.float32(1), rng)
    sf = np.where(zero, np.float32(1), safe / np.float32(127)).astype(np.float32)
    inv = (np.float32(127) / safe).astype(np.float32)
    q = np.clip(fx.round_half_away(rows * inv[:, None]), -127, 127)
    q[zero] = 0
    return q, sf, np.zeros(len(rows), np.int64)


def _asymmetric_quantize_rows(rows):
    """TFLite's AsymmetricQuantizeFloats per row: (int8 values, float32 scales, zero points)."""
    rmin = np.minimum(rows.min(axis=1), 0).astype(np.float64)
    rmax = np.maximum(rows.max(axis=1), 0).astype(np.float64)
    same = rmin == rmax
    scale = np.where(same, 1.0, (rmax - rmin) / 255.0)
    zp_min = -128.0 - rmin / scale
    zp_max = 127.0 - rmax / scale
    err_min = 128.0 + np.abs(rmin / scale)
    err_max = 127.0 + np.abs(rmax / scale)
    zp = np.where(err_min < err_max, zp_min, zp_max)
    nudged = np.where(zp <= -128, -128, np.where(zp >= 127, 127, fx.round_half_away(zp))).astype(np.int64)
    sf = scale.astype(np.float32)
    inv = (np.float32(1) / sf).astype(np.float32)
    q = np.clip(fx.round_half_away(nudged.astype(np.float32)[:, None] + rows * inv[:, None]), -128, 127)
    q[same] = 0
    nudged[same] = 0
    sf[same] = 1
    return q, sf, nudged


# --- CONV_2D ---

def prepare_conv(node):
    from . import conv_2d

    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid convolution needs int8 weights with a scale")
        return _prepare_hybrid_conv(node, w, b)
    _require(node, x, w, out)
    if x.dtype == np.int16:
        if w.dtype != np.int8:
            _unsupported(node, "16x8 convolution needs int8 weights")
    elif w.dtype != (np.int8 if x.dtype == np.int8 else np.uint8):
        _unsupported(node, f"weights of type {w.dtype.name} with {x.dtype.name} activations")
    cout = w.shape[0]
    node.q_x_zp = x.zero_point if x.dtype != np.int16 else 0
    # Only uint8 filters carry a zero point; int8 filters are symmetric.
    node.q_wzp = w.zero_point if x.dtype == np.uint8 else 0
    if w.data is not None:
        node.q_wmat = conv_2d.filter_matrix(w.data.astype(np.float64) - node.q_wzp, node.groups)
    if x.dtype == np.int16:
        # TFLite accumulates 16x8 in int64 unless the model asks for an int32 bias.
        int32_acc = b is not None and b.dtype == np.int32 and node.options.get("quantized_bias_type") == 2
        mode = gemm_rounding(node) if int32_acc else "mbqm64"
    else:
        # LiteRT runs grouped convolutions on its reference kernel.  Its optimized uint8
        # kernel goes through ruy as int8 does (ruy flips uint8 operands to int8 and
        # adjusts the zero points), so it rounds as ruy: 1 LSB from the reference on ties.
        mode = "gemmlowp" if node.groups != 1 else gemm_rounding(node)
    _requant_params(node, x, w, b, out, cout, mode, conv_per_tensor=x.dtype == np.uint8)
    return _eval_conv


def _requant_params(node, x, w, b, out, channels, mode, conv_per_tensor=False):
    """Output multipliers (per channel), zero point, activation range and the requantization mode
    ("gemmlowp", "ruy", "double"; int16 activations with int64 accumulators use "mbqm64")."""
    ws = _scales(w)
    if len(ws) not in (1, channels):
        node.fail(f"weights have {len(ws)} scales for {channels} output channels")
    if conv_per_tensor:
        # GetQuantizedConvolutionMultipler: the scale product is taken in float32.
        real = np.array([float(_f32(x.scale) * ws[0]) / float(out.scale)])
    else:
        real = float(x.scale) * ws.astype(np.float64) / float(out.scale)
    node.q_real = np.broadcast_to(real, (channels,)).copy()
    mult, shift = fx.quantize_multipliers(node.q_real)
    node.q_mult, node.q_shift = mult, shift
    node.q_out_zp = out.zero_point
    node.q_lo, node.q_hi = activation_range(node, out)
    node.q_bias = None
    if b is not None:
        if b.data is None:
            _unsupported(node, "a non-constant quantized bias")
        node.q_bias = b.data.astype(np.int64).reshape(-1)
    node.q_mode = mode


def _requantize(node, acc):
    """int64 accumulators [rows, channels] (bias added here) -> clamped output integers."""
    if node.q_bias is not None:
        acc = acc + node.q_bias
    if node.q_mode == "gemmlowp":
        res = fx.multiply_by_quantized_multiplier(fx.wrap32(acc), node.q_mult, node.q_shift)
    elif node.q_mode == "ruy":
        res = fx.multiply_by_quantized_multiplier_ruy(fx.wrap32(acc), node.q_mult, node.q_shift)
    elif node.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, node.q_mult, node.q_shift)
    else:
        res = fx.round_half_away(acc.astype(np.float64) * node.q_real).astype(np.int64)
    return res + node.q_out_zp


def _conv_products(node, xc, wmat):
    """[n*oh*ow, cout] exact integer sums of products (float64) of a centered input."""
    from . import conv_2d

    cols = conv_2d.im2col(xc, node.geometry, 0.0)
    if node.groups == 1:
        return cols @ wmat[0]
    g = node.groups
    cg = xc.shape[-1] // g
    k = node.geometry["kh"] * node.geometry["kw"]
    grouped = cols.reshape(-1, k, g, cg)
    return np.concatenate([grouped[:, :, i, :].reshape(-1, k * cg) @ wmat[i] for i in range(g)], axis=1)


def _weights(node, w, zp=0):
    from . import conv_2d

    wm = getattr(node, "q_wmat", None)
    return wm if wm is not None else conv_2d.filter_matrix(w.astype(np.float64) - zp, node.groups)


def _eval_conv(node, inputs, outputs):
    x, w = inputs[0], inputs[1]
    xc = x.astype(np.float64) - node.q_x_zp
    acc = np.rint(_conv_products(node, xc, _weights(node, w, node.q_wzp))).astype(np.int64)
    _store(outputs[0], _requantize(node, acc), node.q_lo, node.q_hi)


def _prepare_hybrid_conv(node, w, b):
    from . import conv_2d

    ws = _scales(w)
    node.q_per_channel = (len(ws) > 1 and np.any(ws != ws[0])) or node.groups != 1
    node.q_wscale = np.broadcast_to(ws, (w.shape[0],)).astype(np.float32)
    if w.data is not None:
        node.q_wmat = conv_2d.filter_matrix(w.data.astype(np.float64), node.groups)
    node.q_bias = None if b is None else b.data
    node.q_clamp = _float_clamp(node)
    return _eval_hybrid_conv


def _eval_hybrid_conv(node, inputs, outputs):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    n = x.shape[0]
    rows = x.reshape(n, -1)
    if node.q_per_channel:
        q, sf, off = _asymmetric_quantize_rows(rows)
    else:
        q, sf, off = _symmetric_quantize_rows(rows)
        sf = (sf * node.q_wscale[0]).astype(np.float32)
    xc = (q - off[:, None]).reshape(x.shape)
    acc = np.rint(_conv_products(node, xc, _weights(node, w))).astype(np.float32)
    out = outputs[0]
    res = acc.reshape(n, -1, out.shape[-1])
    if node.q_per_channel:
        res *= (node.q_wscale[None, :] * sf[:, None])[:, None, :]
    else:
        res *= sf[:, None, None]
    if b is not None:
        res += b
    if node.q_clamp is not None:
        np.clip(res, *node.q_clamp, out=res)
    out[...] = res.reshape(out.shape)


# --- FULLY_CONNECTED ---

def prepare_fully_connected(node):
    x, w, out = node.inputs[0], node.inputs[1], node.outputs[0]
    b = node.inputs[2] if node.has_input(2) else None
    units = w.shape[0]
    if node.options.get("weights_format", 0) != 0:
        _unsupported(node, "shuffled weights")
    if x.dtype == np.float32:
        if w.dtype != np.int8 or not _is_quantized(w):
            _unsupported(node, "hybrid fully-connected needs int8 weights with a scale")
        ws = _scales(w)
        node.q_per_channel = len(ws) > 1
        node.q_wscale = ws
        if w.data is not None:
            node.q_wt = np.ascontiguousarray(w.data.astype(np.float64).T)
            node.q_row_sums = w.data.astype(np.int64).sum(axis=1)
        node.q_asym = bool(node.options.get("asymmetric_quantize_inputs"))
        node.q_clamp = _float_clamp(node)
        return _eval_hybrid_fc
    _require(node, x, w, out)
    if x.dtype == np.int16 and w.dtype != np.int8:
        _unsupported(node, f"16-bit activations with {w.dtype.name} weights")
    if x.dtype != np.int16 and w.dtype != x.dtype:
        _unsupported(node, f"{x.dtype.name} activations with {w.dtype.name} weights")
    if out.dtype != x.dtype:
        _unsupported(node, f"{x.dtype.name} input with {out.dtype.name} output")
    per_channel = len(_scales(w)) > 1
    node.q_x_zp = x.zero_point
    node.q_wzp = 0 if per_channel else w.zero_point
    if w.data is not None:
        node.q_wt = np.ascontiguousarray((w.data.astype(np.float64) - node.q_wzp).T)
    if x.dtype == np.int16:
        # LiteRT runs 16x8 with an int64 bias (or non-zero zero points) on its reference
        # kernel, which requantizes in double precision; otherwise on ruy.
        double = ((b is not None and b.dtype == np.int64) or node.options.get("quantized_bias_type") == 4
                  or x.zero_point != 0 or out.zero_point != 0)
        mode = "double" if double else gemm_rounding(node)
    else:
        mode = "double" if node.reference else gemm_rounding(node)
    _requant_params(node, x, w, b, out, units, mode, conv_per_tensor=not per_channel)
    return _eval_fc


def _eval_fc(node, inputs, outputs):
    x, w = inputs[0], inputs[1]
    wt = getattr(node, "q_wt", None)
    if wt is None:
        wt = (w.astype(np.float64) - node.q_wzp).T
    xc = x.reshape(-1, node.depth).astype(np.float64) - node.q_x_zp
    acc = np.rint(xc @ wt).astype(np.int64)
    _store(outputs[0], _requantize(node, acc), node.q_lo, node.q_hi)


def _eval_hybrid_fc(node, inputs, outputs):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    wt = getattr(node, "q_wt", None)
    if wt is None:
        wt = w.astype(np.float64).T
        row_sums = w.astype(np.int64).sum(axis=1)
    else:
        row_sums = node.q_row_sums
    rows = x.reshape(-1, node.depth)
    q, sf, off = (_asymmetric_quantize_rows if node.q_asym else _symmetric_quantize_rows)(rows)
    acc = np.rint(q.astype(np.float64) @ wt).astype(np.int64)
    if node.q_asym:
        acc -= row_sums[None, :] * off[:, None]
    if node.q_per_channel:
        scale = (sf[:, None] * node.q_wscale[None, :]).astype(np.float32)
    else:
        scale = (sf * node.q_wscale[0]).astype(np.float32)[:, None]
    res = acc.astype(np.float32) * scale
    if b is not None:
        res += b
    if node.q_clamp is not None:
        np.clip(res, *node.q_clamp, out=res)
    outputs[0].reshape(res.shape)[...] = res


# --- pooling ---

def prepare_max_pool_2d(node):
    from ._pool import pool_geometry

    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    node.geometry = pool_geometry(node)
    node.q_lo, node.q_hi = activation_range(node, out)
    return _eval_max_pool


def _eval_max_pool(node, inputs, outputs):
    from ._pool import window_slices

    out = outputs[0]
    res = None
    for view in window_slices(inputs[0], node.geometry, np.iinfo(out.dtype).min):
        res = view.copy() if res is None else np.maximum(res, view, out=res)
    _store(out, res, node.q_lo, node.q_hi)


def prepare_average_pool_2d(node):
    from ._pool import pool_geometry, valid_counts

    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    node.geometry = g = pool_geometry(node)
    node.q_count = valid_counts(x.shape[1], x.shape[2], g).astype(np.int64)[None, :, :, None]
    node.q_lo, node.q_hi = activation_range(node, out)
    return _eval_average_pool


def _eval_average_pool(node, inputs, outputs):
    from ._pool import window_slices

    out = outputs[0]
    acc = np.zeros(out.shape, np.int64)
    for view in window_slices(inputs[0], node.geometry, 0):
        acc += view
    n = node.q_count
    # C division truncates toward zero; the +-n/2 makes it round half away from zero.
    num = np.where(acc > 0, acc + n // 2, acc - n // 2)
    res = np.sign(num) * (np.abs(num) // n)
    _store(out, res, node.q_lo, node.q_hi)


# --- SOFTMAX ---

def prepare_softmax(node):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    beta = float(np.float32(node.options.get("beta", 1.0)))
    if x.dtype in (np.int8, np.uint8):
        if out.dtype not in (np.int8, np.uint8, np.int16):
            _unsupported(node, f"{out.dtype.name} output")
        # PreprocessSoftmaxScaling with 5 integer bits for the scaled differences.
        real = min(beta * float(x.scale) * (1 << (31 - 5)), (1 << 31) - 1.0)
        node.q_mult, node.q_shift = fx.quantize_multiplier(real)
        node.q_diff_min = -fx.calculate_input_radius(5, node.q_shift)
        if SOFTMAX_INT8 == "reference" or node.reference:
            return _eval_softmax8
        # exp(-scale * beta * d) for d = max - x in 0..255, in float32.
        d = np.arange(256, dtype=np.float32)
        node.q_table = _expf((-np.float32(x.scale) * np.float32(beta)) * d)
        node.q_out_scale, node.q_out_zp = np.float32(out.scale), out.zero_point
        return _eval_softmax8_table
    if out.dtype != np.int16:
        _unsupported(node, f"{x.dtype.name} input with {out.dtype.name} output")
    if x.zero_point != 0 or out.zero_point != 0:
        node.fail("int16 softmax needs zero points of 0")
    rng = 65535
    node.q_exp_lut = fx.lut_int16(np.exp, 10.0 / rng, 32767, 2.0 / rng, 0)
    node.q_recip_lut = fx.lut_int16(lambda v: 1.0 / (1.0 + v), 1.0 / rng, -32768, 2.0 / rng, 0)
    node.q_mult, node.q_shift = fx.quantize_multiplier(float(x.scale) * beta / (10.0 / 65535.0))
    return _eval_softmax16


def _eval_softmax8(node, inputs, outputs):
    x = inputs[0].astype(np.int64)
    out = outputs[0]
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= node.q_diff_min
    # MultiplyByQuantizedMultiplierGreaterThanOne: the shift is a left shift.
    scaled = fx.saturating_rounding_doubling_high_mul(fx.wrap32(np.where(live, diff, 0) << node.q_shift), node.q_mult)
    exps = fx.exp_on_negative_values(scaled, 5)
    sum_of_exps = fx.wrap32(np.where(live, fx.rounding_divide_by_pot(exps, 12), 0).sum(axis=-1, keepdims=True))
    recip, bits_over_unit = fx.get_reciprocal(sum_of_exps, 12)
    info = np.iinfo(out.dtype)
    exponent = bits_over_unit + 31 - 8 * out.dtype.itemsize
    unsat = fx.rounding_divide_by_pot(fx.saturating_rounding_doubling_high_mul(recip, exps), exponent)
    res = np.where(live, unsat + (-32768 if out.dtype == np.int16 else -128 if out.dtype == np.int8 else 0),
                   info.min)
    _store(out, res, info.min, info.max)


def _eval_softmax8_table(node, inputs, outputs):
    out = outputs[0]
    x = inputs[0].astype(np.int64)
    e = node.q_table[x.max(axis=-1, keepdims=True) - x]
    # The C++ loop sums in float32, in order; cumulative sums keep that order.
    total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
    inv = np.float32(1) / (total * node.q_out_scale)
    prob = e * inv
    if out.dtype == np.uint8:
        q = np.floor(prob + np.float32(0.5))       # LiteRT truncates prob + 0.5 for uint8
    else:
        q = fx.round_half_away(prob) + node.q_out_zp
    info = np.iinfo(out.dtype)
    _store(out, q.astype(np.int64), info.min, info.max)


def _eval_softmax16(node, inputs, outputs):
    x = inputs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = fx.multiply_by_quantized_multiplier(diff, node.q_mult, node.q_shift)
    exps = fx.lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), node.q_exp_lut)
    total = exps.sum(axis=-1, keepdims=True)
    headroom_plus_one = fx.count_leading_zeros32(total)
    shifted = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
    recip = fx.lut_lookup_int16(sym, node.q_recip_lut)
    right_shift = 31 - headroom_plus_one
    res = (exps * recip + (np.int64(1) << (right_shift - 1))) >> right_shift
    _store(outputs[0], res, 0, 32767)


# --- TANH / LOGISTIC ---

def _expf(v):
    # Evaluated in float64 and rounded once: the correctly rounded float32 result, as the
    # C library's expf/tanhf give in all but rare cases (numpy's float32 SIMD ones may not).
    return np.exp(v.astype(np.float64)).astype(np.float32)


def _tanh32(v):
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def _sigmoid32(v):
    return np.float32(1) / (np.float32(1) + _expf(-v.astype(np.float32)))


def prepare_tanh(node):
    return _prepare_sigmoid_like(node, tanh=True)


def prepare_logistic(node):
    return _prepare_sigmoid_like(node, tanh=False)


def _prepare_sigmoid_like(node, tanh):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype != out.dtype:
        node.fail(f"input type {x.dtype.name} differs from output type {out.dtype.name}")
    if x.dtype != np.int16:
        if not tanh and abs(out.scale - 1.0 / 256) > 0:
            node.fail("int8/uint8 LOGISTIC needs an output scale of 1/256")
        node.q_lut = fx.lut_int8(_tanh32 if tanh else _sigmoid32, x.scale, x.zero_point, out.scale,
                                 out.zero_point, x.dtype)
        node.q_offset = -int(np.iinfo(x.dtype).min)
        return _eval_lut8
    if x.zero_point != 0 or out.zero_point != 0:
        node.fail("int16 TANH/LOGISTIC need zero points of 0")
    # Inputs are rescaled to units of 1/(3*4096) (a power-of-two scale of 2**-12 or, for
    # TANH, 2**-11 is the multiplier 3 << shift).
    log2 = float(np.log(np.float32(x.scale)) * (np.float32(1) / np.log(np.float32(2))))
    rounded = float(fx.round_half_away(log2))
    shift = 12 + int(rounded)
    pot = abs(log2 - rounded) < 1e-3 and (shift in (0, 1) if tanh else shift == 0)
    if pot:
        node.q_mult, node.q_shift = 3 << shift, 0
    else:
        multiplier = float(x.scale) * 4096.0 * 3.0
        shift = 0
        while multiplier <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            multiplier *= 2.0
        node.q_mult, node.q_shift = int(multiplier), shift
    out_log2 = float(np.log(np.float32(out.scale)) * (np.float32(1) / np.log(np.float32(2))))
    if abs(out_log2 + 15) >= 1e-3:
        node.fail("int16 TANH/LOGISTIC need an output scale of 2**-15")
    return _eval_tanh16 if tanh else _eval_logistic16


def _eval_lut8(node, inputs, outputs):
    outputs[0][...] = node.q_lut[inputs[0].astype(np.int64) + node.q_offset]


def _sigmoid_table_interp(x, mult, shift, frac_bits):
    """abs(rescaled input) and the interpolated sigmoid table value (frac_bits of interpolation)."""
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = (x.astype(np.int64) * mult + rnd) >> shift
    a = np.abs(v)
    uh = a >> frac_bits
    idx = np.minimum(uh, 254)
    ua = fx.SIGMOID_TABLE_UINT16[idx]
    ub = fx.SIGMOID_TABLE_UINT16[idx + 1]
    ut = a & ((1 << frac_bits) - 1)
    return v, uh, (ua << frac_bits) + ut * (ub - ua)


def _eval_tanh16(node, inputs, outputs):
    v, uh, res = _sigmoid_table_interp(inputs[0], node.q_mult, node.q_shift, 8)
    res = np.where(uh >= 255, 0xFFFF << 8, res)
    res = np.where(v >= 0, res - (1 << 23) + (1 << 7), -res + (1 << 23) + (1 << 7) - 1)
    outputs[0][...] = (res >> 8).astype(np.int16)


def _eval_logistic16(node, inputs, outputs):
    v, uh, res = _sigmoid_table_interp(inputs[0], node.q_mult, node.q_shift, 9)
    res = np.where(uh >= 255, 0x7FFF << 10, res)
    res = np.where(v >= 0, res + (1 << 9), (1 << 25) - res + (1 << 9) - 1)
    outputs[0][...] = ((res & 0xFFFFFFFF) >> 10).astype(np.int16)


# --- PRELU ---

def prepare_prelu(node):
    x, alpha, out = node.inputs[0], node.inputs[1], node.outputs[0]
    _require(node, x, alpha, out)
    if out.shape != x.shape:
        node.fail(f"alpha of shape {list(alpha.shape)} does not broadcast to the input's {list(x.shape)}")
    # The real multipliers are computed in float32, as TFLite does.
    node.q_m1 = fx.quantize_multiplier(float(_f32(x.scale) / _f32(out.scale)))
    node.q_m2 = fx.quantize_multiplier(float(_f32(x.scale) * _f32(alpha.scale) / _f32(out.scale)))
    node.q_x_zp, node.q_a_zp, node.q_out_zp = x.zero_point, alpha.zero_point, out.zero_point
    return _eval_prelu


def _eval_prelu(node, inputs, outputs):
    out = outputs[0]
    xv = inputs[0].astype(np.int64) - node.q_x_zp
    av = inputs[1].astype(np.int64) - node.q_a_zp
    pos = fx.multiply_by_quantized_multiplier(xv, *node.q_m1)
    neg = fx.multiply_by_quantized_multiplier(xv * av, *node.q_m2)
    res = np.where(xv >= 0, pos, neg) + node.q_out_zp
    info = np.iinfo(out.dtype)
    _store(out, np.broadcast_to(res, out.shape).copy(), info.min, info.max)


# Kernels split by family into sibling modules (they import the helpers above).
from ._quantized_elementwise import (  # noqa: E402,F401
    prepare_binary, prepare_concatenation, prepare_hard_swish, prepare_leaky_relu, prepare_relu,
    prepare_relu6, prepare_relu_n1_to_1, prepare_gelu, prepare_exp)
from ._quantized_compute import prepare_batch_matmul, prepare_depthwise_conv, prepare_mean  # noqa: E402,F401
from ._quantized_math import (  # noqa: E402,F401
    prepare_log_softmax, prepare_rsqrt, prepare_sqrt, prepare_squared_difference)
