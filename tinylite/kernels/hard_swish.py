"""HARD_SWISH: x * relu6(x + 3) / 6, rounded as LiteRT's optimized kernel does."""
from __future__ import annotations

import functools

import numpy as np

from . import _fixedpoint as fx
from ._quantization import QuantData, _f32, _info, _INT8_TYPES, _lut_or_direct, _require, _unsupported
from ._unary import prepare_float_unary
from ._base import op_data


@op_data
class OpData(QuantData):
    """What HARD_SWISH's prepare computes for eval."""

    q_hs: tuple = None
    q_x_zp: int = None


ONE_SIXTH = np.float32(1.0) / np.float32(6.0)


def prepare(node):
    return prepare_float_unary(node, eval_float, "hard_swish")


def eval_float(node, inputs, outputs):
    x, out = inputs[0].reshape(-1), outputs[0].reshape(-1)
    np.add(x, np.float32(3), out=out)
    np.clip(out, np.float32(0), np.float32(6), out=out)
    # LiteRT's NEON loop (x86 builds run it too, through NEON_2_SSE) computes
    # (x * 1/6) * relu6(x + 3) in blocks of 4; its scalar tail computes
    # (x * relu6(x + 3)) * 1/6.  The order shows at overflow and underflow.
    n = x.size - x.size % 4
    out[:n] *= x[:n] * ONE_SIXTH
    out[n:] *= x[n:]
    out[n:] *= ONE_SIXTH


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, out = node.inputs[0], node.outputs[0]
    _require(node, x, out)
    if x.dtype not in _INT8_TYPES:
        _unsupported(node)
    d.q_hs = _multipliers(x.scale, out.scale)
    if d.q_hs is None:
        node.fail("HARD_SWISH needs an output scale no finer than the input scale / 128")
    d.q_x_zp, d.q_out_zp = x.zero_point, out.zero_point
    return _lut_or_direct(node, x, _hard_swish, (d.q_hs, d.q_x_zp, d.q_out_zp, out.dtype.str))


@functools.lru_cache(maxsize=1024)
def _multipliers(x_scale, out_scale):
    """(output multiplier, its exponent, reluish multiplier, its exponent) as TFLite's HardSwishPrepare
    computes them (16-bit multipliers), or None where the output multiplier would exceed 1.  (Memoized:
    numpy float32 scalar operations for every node at every load.)"""
    hires = _f32(_f32(1.0 / 128.0) * _f32(x_scale))
    om, oe = fx.quantize_multiplier(float(hires / _f32(out_scale)))
    rm, re_ = fx.quantize_multiplier(float(hires / _f32(3.0 / 32768.0)))
    if oe > 0:
        return None
    return (fx.downscale_multiplier16(om), oe, fx.downscale_multiplier16(rm), re_)


def _hard_swish(node, q):
    """TFLite's fixed-point hard-swish: x * relu6(x + 3) / 6 with x on a 2**7 finer grid."""
    om, oe, rm, re_ = node.data.q_hs
    hires = (q - node.data.q_x_zp) * 128
    preshift = fx.srdhm16(hires, om)
    reluish = hires
    if re_ > 0:
        reluish = fx.saturate16(reluish * (1 << (re_ - 1)))
    reluish = fx.srdhm16(reluish, rm)
    if re_ > 0:
        reluish = fx.saturate16(reluish * 2)
    if re_ < 0:
        reluish = fx.rounding_divide_by_pot(reluish, -re_)
    # relu6(x + 3) / 6 as a fraction in [0, 1] (Q0.15): (r + 1) / 2.
    reluish = (reluish + (1 << 15)) >> 1
    ab = reluish * preshift
    prod = np.where((reluish == -32768) & (preshift == -32768), 32767, fx._trunc_div_pow2(ab, 15))
    res = fx.rounding_divide_by_pot(prod, -oe) + node.data.q_out_zp
    info = _info(node.outputs[0].dtype)
    return np.clip(res, info.min, info.max)
