"""POW: x ** y with broadcasting, float32 or int32 (exponents must be >= 0).

As in TFLite, a broadcast with a single exponent within 1e-5 of an integer
n >= 1 is computed by repeated squaring (n = 3.000001 gives x*x*x, also for
negative x), each product clamped to the finite float range.  Otherwise int32
goes through double pow and a truncating conversion where an out-of-range
result becomes INT_MIN (x86 behaviour of the conversion).
"""
from __future__ import annotations

import numpy as np

from ._base import broadcast_shape, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What POW's prepare computes for eval."""

    scalar_exponent: bool = None

INT32_MIN = np.iinfo(np.int32).min


def prepare(node):
    d = node.draft(OpData)
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.expect_dtype(x, np.float32, np.int32)
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    d.scalar_exponent = tuple(x.shape) != tuple(y.shape) and int(np.prod(y.shape)) == 1
    return eval_pow


def eval_pow(node, inputs, outputs):
    x, y = inputs
    out = outputs[0]
    integer = x.dtype == np.int32
    if integer and np.any(y < 0):
        raise ValueError("POW: int32 exponents must not be negative")
    n = _integer_exponent(y.reshape(-1)[0]) if node.data.scalar_exponent else None
    if n is not None:
        out.reshape(-1)[...] = _power_by_squaring(x.reshape(-1), n, integer)
    elif integer:
        with np.errstate(over="ignore"):
            r = np.power(x.astype(np.float64), y.astype(np.float64))
        ok = (r > INT32_MIN - 1.0) & (r < 2.0 ** 31)
        out[...] = np.where(ok, r, INT32_MIN)
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            np.power(x, y, out=out)
        if np.any(y == 0.5):
            # numpy runs a broadcast 0.5 exponent as sqrt; C's pow gives +inf for -inf and +0 for -0.
            half = y == 0.5
            np.copyto(out, np.float32(np.inf), where=half & (x == -np.inf))
            np.copyto(out, np.float32(0), where=half & (x == 0))


def _integer_exponent(e):
    """n when the exponent e is within 1e-5 of an integer n >= 1, else None."""
    if not np.isfinite(e) or abs(float(e)) >= 2.0 ** 31:
        return None
    n = int(np.sign(e) * np.floor(np.abs(float(e)) + 0.5))     # std::round: halves away from zero
    if n < 1 or not abs(np.float32(e) - np.float32(n)) < np.float32(1e-5):
        return None
    return n


def _power_by_squaring(x, n, integer):
    if n == 1:
        return x.copy()
    r = _power_by_squaring(x, n // 2, integer)
    r = _times(r, r, integer)
    return _times(x, r, integer) if n % 2 else r


def _times(a, b, integer):
    if integer:
        return a * b                    # wraps, as int32 multiplication does
    with np.errstate(over="ignore"):
        p = a * b
    return np.clip(p, -np.finfo(np.float32).max, np.finfo(np.float32).max, out=p)
