"""What the quantized paths of the kernels share: quantization parameters,
requantization, the fused activation as integer bounds, row quantization of
the hybrid kernels, per-value lookup tables, and ``prepare_quantized``,
which finds an op's quantized path (``prepare_quantized`` in kernels/<op>.py).
No op's logic lives here; the fixed-point arithmetic is _fixedpoint.py.

Semantics are LiteRT's integer kernels: QuantizeMultiplier, gemmlowp's
double-rounding MultiplyByQuantizedMultiplier (the 16-bit-multiplier variant
for int64 accumulators), activation clamping in the quantized domain, padding
that contributes nothing (input zero point).  Integer GEMMs run as float64
BLAS products, which are exact (every partial sum stays far below 2**53).

Which LiteRT kernel is followed.  LiteRT's optimized kernels (its default
resolver) and its reference kernels (BUILTIN_REF) do not always agree;
tinylite follows the optimized ones by default and the reference ones under
OpResolverType.BUILTIN_REF (``node.reference``), bit for bit, as measured on
the shared corpus and zoo (tests/test_resolvers.py) and tests/kernels.  The
differences:
- GEMM requantization (CONV_2D int8 and uint8, FULLY_CONNECTED int8/uint8,
  16x8 with int32 accumulators): the optimized kernels go through ruy,
  whose x86 kernels round ties *up* in the high multiply and the final
  shift (fx.multiply_by_quantized_multiplier_ruy; ruy runs uint8 as int8
  with adjusted zero points); the reference ones use gemmlowp's double
  rounding (ties away from zero), and the reference int8/uint8
  FULLY_CONNECTED requantizes in double precision.  Grouped convolutions run
  on LiteRT's reference kernel in both modes; 16x8 CONV_2D with int64
  accumulators uses the int64 MultiplyByQuantizedMultiplier in both.
- DEPTHWISE_CONV_2D int8 (optimized) requantizes output channels in blocks
  of 8 with NEON_2_SSE intrinsics (ties up) and the rest with gemmlowp.
- MEAN int8/uint8 over the two spatial axes with keep_dims (optimized): a
  float32 multiplier, the zero point in a rounded float bias, channels in
  blocks of 16 rounded upward.  The reference divides the multiplier by the
  count in integers.
- SOFTMAX and LOG_SOFTMAX int8 (optimized): a float32 exp table; the
  reference works in gemmlowp fixed point.
- QUANTIZE/DEQUANTIZE (optimized): SIMD blocks round differently from the
  scalar tail (see quantize.py); the reference is scalar throughout.
- RESIZE_NEAREST_NEIGHBOR 8-bit (optimized): a 16.16 fixed-point index.
- ADD 8-bit with a scalar-like broadcast (optimized): see optimized/add.py.
Other notes:
- TANH/LOGISTIC int16 follow the reference (interpolated sigmoid table);
  for power-of-two input scales LiteRT's default kernel uses gemmlowp's
  fixed-point functions instead and may differ by an LSB.  TANH/LOGISTIC
  int8 build TFLite's 256-entry table with correctly rounded float32
  exp/tanh; the C library may differ in a last ulp (never seen).
- For 8-bit ADD/SUB/MUL without broadcasting and the 8-bit activations,
  every input pair was compared exhaustively against LiteRT with random
  parameters and no difference showed: the scalar formulas throughout.
- Hybrid kernels quantize each batch row (FULLY_CONNECTED) or image
  (CONV_2D, DEPTHWISE_CONV_2D) as TFLite does; float results may differ in
  the last bits from LiteRT's SIMD accumulation order.  LiteRT's SIMD hybrid
  kernels assume symmetric int8 weights (-128 never occurs); with a -128
  weight they give different results, tinylite the exact product.
- The SIMD/ruy rounding above is a property of LiteRT's x86 build and can
  differ by one LSB on ARM.
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Callable

import numpy as np

from . import _fixedpoint as fx
from ._lazy import LazyTable
from ..errors import UnsupportedOpError
from ._base import activation_name, op_data, OpDataBase


@op_data
class QuantData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    q_real: np.ndarray = None
    q_mult: int | np.ndarray = None
    q_shift: int | np.ndarray = None
    q_out_zp: int = None
    q_lo: int = None
    q_hi: int = None
    q_bias: np.ndarray | None = None
    q_mode: str = None
    q_fn: Callable = None
    q_lut16: np.ndarray = None
    q_lut: np.ndarray | LazyTable = None      # an 8-bit table: lazy where _lut_or_direct made it
    q_offset: int = None


QUANTIZED = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


def gemm_rounding(node):
    """How a GEMM's int32 accumulators are requantized: LiteRT's optimized kernels
    hand them to ruy (ties rounded up in the high multiply and the shift), its
    reference kernels use gemmlowp's MultiplyByQuantizedMultiplier (ties away
    from zero); the two differ by one LSB on ties."""
    return "gemmlowp" if node.reference else "ruy"


def _unsupported(node, detail=""):
    types = ", ".join(s.dtype.name for s in node.inputs if s is not None)
    raise UnsupportedOpError(
        f"{node.op_name} (node {node.index}) with input types ({types}) is not supported by tinylite"
        + (f": {detail}" if detail else ""))


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


class _BoundOutOfRange(ValueError):
    def __init__(self, bound, quantized):
        super().__init__(bound, quantized)
        self.bound, self.quantized = bound, quantized


def activation_range(node, out):
    """TFLite's CalculateActivationRangeQuantized: the fused activation as integer bounds."""
    name = activation_name(node)
    try:
        return _activation_range(name, out.scale, out.zero_point, out.dtype.str)
    except _BoundOutOfRange as e:
        node.fail(f"the fused {name}: its bound {e.bound} over the scale of output {out.name!r} "
                  f"({float(out.scale):.4g}) rounds to {e.quantized:.4g}, outside int32: LiteRT refuses such a model "
                  "at allocate_tensors (CalculateActivationRangeQuantized), so tinylite does too.  The "
                  "calibrated range of that tensor has collapsed (its activations are near zero); "
                  "reconvert with representative data that exercises this layer, or keep it in float")


@functools.lru_cache(maxsize=1024)
def _activation_range(name, out_scale, zp, dtype):
    # (Memoized: a few numpy scalar operations for every quantized op at every load, on parameters
    # that repeat across a model's layers.)
    info = np.iinfo(np.dtype(dtype))
    scale = _f32(out_scale)

    def q(f):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = fx.round_half_away(_f32(f) / scale)
        # LiteRT's Quantize checks the rounded float32 against int32's limits as floats (a tiny or
        # zero scale fails it, a NaN too).
        if not -2.0**31 <= r <= 2.0**31:
            raise _BoundOutOfRange(f, float(r))
        return zp + int(r)

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


def _float_clamp(node):
    name = activation_name(node)
    return {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}.get(name)


def _symmetric_quantize_rows(rows):
    """TFLite's SymmetricQuantizeFloats per row: (int8 values, float32 scaling factors)."""
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    rng = np.maximum(np.abs(lo), np.abs(hi)).astype(np.float32)
    zero = rng == 0
    safe = np.where(zero, np.float32(1), rng)
    sf = np.where(zero, np.float32(1), safe / np.float32(127)).astype(np.float32)
    inv = (np.float32(127) / safe).astype(np.float32)
    q = np.clip(_neon_round_rows(rows * inv[:, None]), -127, 127)
    q[zero] = 0
    _non_finite_rows(lo, hi, q, sf)
    return q, sf, np.zeros(len(rows), np.int64)


def _non_finite_rows(lo, hi, q, sf, zp=None):
    """Rows holding a NaN or an infinity (extremes lo, hi): LiteRT's quantization of them is
    undefined (a NaN cast to an integer), so tinylite defines it: the row's scaling factor
    is NaN, and every output computed from the row is NaN (the optimized kernels agree)."""
    bad = ~(np.isfinite(lo) & np.isfinite(hi))
    if bad.any():
        sf[bad] = np.nan
        q[bad] = 0
        if zp is not None:
            zp[bad] = 0


def _neon_round_rows(p):
    """Round float32 products [rows, n] to integers as LiteRT's x86 build quantizes (its
    NEON code through NEON_2_SSE): in whole blocks of 8 values per row, p + 0.5 (or - 0.5
    below zero) is added in float32 and truncated, so a product just under a half can
    round up (what round_half_away computes on float32); the last n % 8 values round
    half away from zero exactly (TfLiteRound)."""
    p = np.asarray(p, np.float32)
    q = fx.round_half_away(p)
    n = p.shape[-1]
    if n % 8:
        q[..., n - n % 8:] = fx.round_half_away(p[..., n - n % 8:].astype(np.float64))    # exact: C's round()
    return q


def _asymmetric_quantize_rows(rows):
    """TFLite's AsymmetricQuantizeFloats per row: (int8 values, float32 scales, zero points)."""
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    finite = np.isfinite(lo) & np.isfinite(hi)
    # (Non-finite rows: NaN results, set at the end; zeros meanwhile keep the casts defined.)
    rmin32 = np.minimum(np.where(finite, lo, 0), 0).astype(np.float32)
    rmax32 = np.maximum(np.where(finite, hi, 0), 0).astype(np.float32)
    rmin, rmax = rmin32.astype(np.float64), rmax32.astype(np.float64)
    same = rmin == rmax
    # LiteRT's x86 build runs the NEON version (NEON_2_SSE), whose range rmax - rmin is a float32
    # difference (the portable one subtracts in double): they differ in the last bit of the scale.
    scale = np.where(same, 1.0, (rmax32 - rmin32).astype(np.float64) / 255.0)
    zp_min = -128.0 - rmin / scale
    zp_max = 127.0 - rmax / scale
    err_min = 128.0 + np.abs(rmin / scale)
    err_max = 127.0 + np.abs(rmax / scale)
    zp = np.where(err_min < err_max, zp_min, zp_max)
    nudged = np.where(zp <= -128, -128, np.where(zp >= 127, 127, fx.round_half_away(zp))).astype(np.int64)
    sf = scale.astype(np.float32)
    inv = (1.0 / sf.astype(np.float64)).astype(np.float32)         # 1.0 / scale in double, as the NEON code
    # The zero point is added to the rounded integers, not to the float products.
    q = np.clip(_neon_round_rows(rows * inv[:, None]) + nudged[:, None], -128, 127)
    q[same] = 0
    nudged[same] = 0
    sf[same] = 1
    _non_finite_rows(lo, hi, q, sf, nudged)
    return q, sf, nudged


def _requant_params(node, x, w, b, out, channels, mode, conv_per_tensor=False):
    """Output multipliers (per channel), zero point, activation range and the requantization mode
    ("gemmlowp", "ruy", "double", "double32" where the double-precision kernel's accumulator is an
    int32 that wraps; int16 activations with int64 accumulators use "mbqm64")."""
    d = node.draft(QuantData)
    ws = _scales(w)
    if len(ws) not in (1, channels):
        node.fail(f"weights have {len(ws)} scales for {channels} output channels")
    d.q_real, d.q_mult, d.q_shift = _channel_multipliers(x.scale, ws, out.scale, channels,
                                                         conv_per_tensor and not mode.startswith("double"))
    d.q_out_zp = out.zero_point
    d.q_lo, d.q_hi = activation_range(node, out)
    d.q_bias = None
    if b is not None:
        if b.size != channels:
            node.fail(f"bias {b.name!r} has {b.size} values ({list(b.shape)}) for {channels} output channels; "
                      "it needs one per channel")
        if b.data is None:
            _unsupported(node, "a non-constant quantized bias")
        d.q_bias = b.data.astype(np.int64).reshape(-1)
    d.q_mode = mode


_MULTIPLIERS: dict = {}


def _channel_multipliers(x_scale, ws, out_scale, channels, float32_product):
    """(real multipliers, QuantizeMultiplier's multipliers, shifts), one per channel, read-only: memoized
    by the scales (a dozen numpy calls per layer at every load; a model's layers are prepared again by
    every allocate_tensors, a resize_tensor_input's included)."""
    key = (x_scale, out_scale, ws.tobytes(), channels, float32_product)
    got = _MULTIPLIERS.get(key)
    if got is None:
        if float32_product:
            # GetQuantizedConvolutionMultipler: the scale product is taken in float32 (the
            # double-precision kernels take in * filter / out in double).
            real = np.array([float(_f32(x_scale) * ws[0]) / float(out_scale)])
        else:
            real = float(x_scale) * ws.astype(np.float64) / float(out_scale)
        real = real if real.shape == (channels,) else np.broadcast_to(real, (channels,)).copy()   # (a new array)
        got = (real,) + tuple(fx.quantize_multipliers(real))
        for a in got:
            a.setflags(write=False)
        if len(_MULTIPLIERS) > 4096:
            _MULTIPLIERS.clear()
        _MULTIPLIERS[key] = got
    return got


def _requantize(node, acc):
    """int64 accumulators [rows, channels] (bias added here) -> clamped output integers."""
    data = node.data
    if data.q_bias is not None:
        acc = acc + data.q_bias
    if data.q_mode == "gemmlowp":
        res = fx.multiply_by_quantized_multiplier(fx.wrap32(acc), data.q_mult, data.q_shift)
    elif data.q_mode == "ruy":
        res = fx.multiply_by_quantized_multiplier_ruy(fx.wrap32(acc), data.q_mult, data.q_shift)
    elif data.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, data.q_mult, data.q_shift)
    else:
        if data.q_mode == "double32":
            acc = fx.wrap32(acc)
        res = fx.round_half_away(acc.astype(np.float64) * data.q_real).astype(np.int64)
    return res + data.q_out_zp


_INT8_TYPES = (np.dtype(np.int8), np.dtype(np.uint8))


def _info(dtype):
    return np.iinfo(dtype)


def _all_values(dtype):
    """Every value of an 8-bit type, for per-value tables (index: q - min)."""
    i = _info(dtype)
    return np.arange(i.min, i.max + 1, dtype=np.int64)


# The 8-bit tables of _lut_or_direct, by key (256 bytes each; see _lazy).
_TABLES: OrderedDict = OrderedDict()
_TABLES_KEPT = 1024


def _lut_or_direct(node, x, fn, params):
    """An eval applying fn(node, int64 values): through a 256-entry table for 8-bit types, filled at
    its first use (see _lazy) and shared by the nodes whose `params` are equal.  `params`
    (hashable) must hold everything fn reads from the node: the table's key is fn, the type and
    `params`."""
    d = node.draft(QuantData)
    d.q_fn = fn
    if x.dtype in _INT8_TYPES:
        dtype = x.dtype

        def fill_into(table):
            table[...] = fn(node, _all_values(dtype))

        key = (fn.__module__, fn.__qualname__, dtype.str, params)
        d.q_lut = LazyTable(key, dtype, fill_into, _TABLES, _TABLES_KEPT, entries=256)
        d.q_offset = -int(_info(dtype).min)
        return _eval_lut
    return _eval_direct


def lut_values(lut) -> np.ndarray:
    """A node's q_lut as an array (a lazy table filled first)."""
    return lut.values() if isinstance(lut, LazyTable) else lut


def _eval_lut(node, inputs, outputs):
    data = node.data
    np.take(lut_values(data.q_lut), inputs[0].astype(np.intp) + data.q_offset, out=outputs[0])


def _eval_direct(node, inputs, outputs):
    outputs[0][...] = node.data.q_fn(node, inputs[0].astype(np.int64))


def _prepare_lut(node, fn):
    """TFLite's LUTPopulate for a float32 function: a 256-entry table for 8-bit types, the
    interpolated 513-entry one (float32 samples) for int16."""
    d = node.draft(QuantData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype in _INT8_TYPES:
        d.q_lut = fx.lut_int8(fn, x.scale, x.zero_point, out.scale, out.zero_point, x.dtype)
        d.q_offset = -int(_info(x.dtype).min)
        return _eval_lut
    if x.zero_point or out.zero_point:
        node.fail("int16 input and output need zero points of 0")

    def fn32(v):
        return fn(np.asarray(v, np.float32).reshape(-1)).astype(np.float32)

    d.q_lut16 = fx.lut_int16(fn32, _f32(x.scale), 0, _f32(out.scale), 0, float_type=np.float32)
    return _eval_lut16


def _eval_lut16(node, inputs, outputs):
    outputs[0][...] = fx.lut_lookup_int16(inputs[0], node.data.q_lut16)


_INT8 = np.dtype(np.int8)


_INT16 = np.dtype(np.int16)


def _check_unary(node, dtypes):
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in dtypes:
        _unsupported(node)
    if x.dtype != out.dtype:
        node.fail(f"input type {x.dtype.name} differs from output type {out.dtype.name}")
    if x.dtype == _INT16 and (x.zero_point or out.zero_point):
        node.fail("int16 input and output need zero points of 0")
    return x, out


def _require_non_negative(node, q, zero_point, what):
    if np.any(q < zero_point):
        node.fail(f"{what} is only defined for non-negative inputs; got a quantized value "
                  f"{int(q.min())} below the zero point {zero_point}")


def prepare_quantized(node):
    """The quantized path of the node's op: ``prepare_quantized(node)`` of its
    kernel module (kernels/<op>.py), or an UnsupportedOpError naming the types."""
    from . import kernel_for

    fn = getattr(kernel_for(node.op_name), "prepare_quantized", None)
    if fn is None or fn is prepare_quantized:
        _unsupported(node)
    return fn(node)
