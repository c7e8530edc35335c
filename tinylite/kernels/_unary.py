"""Helpers of the elementwise and activation kernels: unary prepare, TFLite's
clamp of fused activations on arithmetic ops, MAXIMUM/MINIMUM, and erfc."""
import functools
import math

import numpy as np

from ._base import Clamp, activation_name, broadcast_shape
from ._binary import eval_binary, prepare_binary

QUANTIZED_TYPES = (np.int8, np.uint8, np.int16)


def is_quantized(spec):
    q = spec.quantization
    return q is not None and q.is_quantized


def same_shape(node):
    """The input spec, after giving the output its shape (TFLite requires equal types)."""
    x, y = node.inputs[0], node.outputs[0]
    if x.dtype != y.dtype:
        node.fail(f"output type {y.dtype.name} differs from input type {x.dtype.name}")
    y.shape = x.shape
    return x


def prepare_float_unary(node, eval_float, quantized_name):
    """eval_float for float32; int8/uint8/int16 go to the quantized kernels."""
    x = same_shape(node)
    if x.dtype == np.float32:
        return eval_float
    if x.dtype in [np.dtype(t) for t in QUANTIZED_TYPES]:
        from . import _quantized

        return getattr(_quantized, "prepare_" + quantized_name)(node)
    node.expect_dtype(x, np.float32)    # raises: no other type is run


# --- arithmetic with a fused activation ---

def activation_range(node, dtype):
    """(min, max) as TFLite's CalculateActivationRange gives them, cast to dtype
    as C++ does (-1 wraps for unsigned types); None when nothing is clamped.

    Without a clamping activation the range is the type's own, which for floats
    still turns +-inf into +-max (LiteRT's ADD/SUB/MUL/DIV never return inf).
    """
    dtype = np.dtype(dtype)
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    lo, hi = {"RELU": (0, info.max), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}.get(
        activation_name(node), (info.min, info.max))
    if dtype.kind != "f" and (lo, hi) == (info.min, info.max):
        return None
    return np.array(lo).astype(dtype)[()], np.array(hi).astype(dtype)[()]


def prepare_arithmetic(node, ufunc, dtypes):
    """prepare_binary, with the fused activation clamping exactly as TFLite's does."""
    fn = prepare_binary(node, ufunc, dtypes)
    if fn is eval_binary:
        bounds = activation_range(node, node.inputs[0].dtype)
        if bounds is None:
            node.act = None
        elif node.inputs[0].dtype.kind == "f":
            node.act = Clamp(*bounds)   # SIMD max/min against bound arrays: 3x np.clip's speed
        else:
            node.act = _clamp(*bounds)
    return fn


def _clamp(lo, hi):
    # np.clip is min(max(x, lo), hi) like TFLite's, also when lo > hi (uint32
    # RELU_N1_TO_1, whose -1 wraps): every value becomes hi.
    return lambda x: np.clip(x, lo, hi, out=x)


# --- MAXIMUM / MINIMUM ---

EXTREMUM_TYPES = (np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64)


def prepare_extremum(node, ufunc):
    """np.maximum / np.minimum with TFLite's NaN rule: its `x > y ? x : y`
    yields y where x is NaN (numpy would give NaN) and NaN where y is.

    Integer types compare raw values, quantized or not, as TFLite does.
    """
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    node.expect_dtype(x, *EXTREMUM_TYPES)
    node.ufunc = ufunc
    return eval_extremum


def eval_extremum(node, inputs, outputs):
    x, y = inputs
    out = outputs[0]
    node.ufunc(x, y, out=out)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():
            np.copyto(out, y, where=nan)


# --- erfc ---

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
