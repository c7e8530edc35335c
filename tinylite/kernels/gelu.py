"""GELU: x * Phi(x), exactly as 0.5 * x * erfc(-x / sqrt(2)), or with the tanh
approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))."""
from __future__ import annotations

import functools
import math

import numpy as np

from ._quantization import QuantData, _prepare_lut
from ._unary import prepare_float_unary
from ._base import op_data


@op_data
class OpData(QuantData):
    """What GELU's prepare computes for eval."""

    approximate: bool = None


SQRT_2_OVER_PI = np.float32(math.sqrt(2 / math.pi))
MINUS_SQRT_HALF = np.float32(-math.sqrt(0.5))
HALF = np.float32(0.5)


def prepare(node):
    d = node.draft(OpData)
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    d.approximate = bool(node.options.get("approximate", False))
    fn = prepare_float_unary(node, eval_approximate if d.approximate else eval_exact, "gelu")
    if fn is eval_exact:
        for _ in range(2):
            node.reserve(node.inputs[0].shape, np.float32, "GELU work buffer")
    return fn


def eval_exact(node, inputs, outputs):
    # erfc rather than 1 + erf, as LiteRT does: no cancellation for negative x.
    # In float32 like LiteRT's std::erfc: ~1e-6 relative, and float32's SIMD
    # exp makes it 2.5x faster than float64 on a transformer's activations.
    x, out = inputs[0], outputs[0]
    buffers = node.cache.get("gelu")
    if buffers is None or buffers[0].shape != x.shape:
        # Work buffers, reused across invokes (fresh large arrays are slow).
        buffers = node.cache["gelu"] = (np.empty(x.shape, np.float32), np.empty(x.shape, np.float32))
    u, scratch = buffers
    np.multiply(x, MINUS_SQRT_HALF, out=u)
    erfc(u, out=out, scratch=scratch)
    out *= HALF         # exact, and before x: erfc(.) * x overflows for x near float32's max
    out *= x


def eval_approximate(node, inputs, outputs):
    # float32 in LiteRT's order: (0.5 * x) * (1 + tanh(c * (x + 0.044715 * x*x*x))).
    x, out = inputs[0], outputs[0]
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply(x, x, out=out)
        out *= x
        out *= np.float32(0.044715)
        out += x
        out *= SQRT_2_OVER_PI
        np.tanh(out, out=out)
        out += np.float32(1)
        out *= np.float32(0.5)
        out *= x


# --- quantized ---

_SQRT_2_OVER_PI = np.float32(2 / np.sqrt(np.pi) * np.sqrt(0.5))


def _gelu_exact32(x):
    # 0.5f * x * erfcf(x * -sqrt(1/2)) in float32; erfc correctly rounded (math.erfc in double).
    import math

    u = (x * np.float32(-np.sqrt(0.5))).astype(np.float32)
    e = np.array([math.erfc(float(v)) for v in u], np.float64).astype(np.float32)
    return (np.float32(0.5) * x).astype(np.float32) * e


def _gelu_tanh32(x):
    cube = ((np.float32(0.044715) * x) * x) * x
    t = np.tanh((_SQRT_2_OVER_PI * (x + cube)).astype(np.float64)).astype(np.float32)
    return (np.float32(0.5) * x) * (np.float32(1) + t)


def prepare_quantized(node):
    return _prepare_lut(node, _gelu_tanh32 if node.options.get("approximate") else _gelu_exact32)


_ERFC_ZMAX = 10.0   # erfc(10) ~ 2e-45: beyond it a float32 result is 0 (or 2).


@functools.lru_cache(maxsize=None)
def _erfcx_coefficients(degree=12):
    """Power-series coefficients, in t = 2 / (2 + z), of exp(z^2) erfc(z) for z in [0, 10].

    The scaled function is smooth there: a degree-12 interpolant (nodes from
    math.erfc) is accurate to ~1e-10 relative, degree 9 to 1.4e-7 (3e-7
    evaluated in float32, where degree 12 gets no closer), and the power
    basis on t in [1/6, 1] is well conditioned (coefficients below 2).
    """
    def scaled(t):
        z = 2 * (1 - np.asarray(t)) / np.asarray(t)
        return np.array([math.erfc(v) * math.exp(v * v) for v in np.atleast_1d(z)])

    domain = [2 / (2 + _ERFC_ZMAX), 1]
    fit = np.polynomial.Chebyshev.interpolate(scaled, degree, domain=domain)
    return fit.convert(kind=np.polynomial.Polynomial, domain=domain, window=domain).coef


def erfc(u, out=None, scratch=None):
    """Complementary error function of a float64 or float32 array, computed in
    its dtype: relative error ~1e-10 in float64, ~1e-6 in float32 (where the
    rounding of u*u in exp(-u*u) dominates), for |u| <= 10; beyond, results
    are below float32's range (0) or 2.

    `out` and `scratch` (u's dtype and shape) may be given to avoid allocating
    temporaries, which for large arrays costs more than the arithmetic.
    """
    dtype = u.dtype
    coef = _erfcx_coefficients(12 if dtype == np.float64 else 9).astype(dtype)
    two = dtype.type(2)
    out = np.empty_like(u) if out is None else out
    t = np.empty_like(u) if scratch is None else scratch
    np.abs(u, out=t)
    np.minimum(t, dtype.type(_ERFC_ZMAX), out=t)
    t += two
    np.divide(two, t, out=t)
    out.fill(coef[-1])
    for c in coef[-2::-1]:
        out *= t
        out += c
    np.multiply(u, u, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    out *= t
    # erfc(-z) = 2 - erfc(z), blended arithmetically (masked numpy ops are slow):
    # out * (1 - 2s) + 2s with s = (u < 0) is exact.
    np.multiply(u < 0, -two, out=t)
    t += dtype.type(1)
    out *= t
    t -= dtype.type(1)
    out -= t
    return out
