"""StableHLO elementwise builtins against LiteRT: STABLEHLO_ADD, _MULTIPLY,
_MAXIMUM, _MINIMUM, _AND, _SHIFT_LEFT on every type LiteRT's kernel takes."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
NUMERIC = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
           np.uint32, np.uint64]


def data(dtype, shape=(3, 7), lo=None, hi=None):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        x = rng.standard_normal(shape).astype(dtype)
        x.flat[0] = np.nan
        return x
    info = np.iinfo(dtype)
    return rng.integers(info.min if lo is None else lo, info.max if hi is None else hi, shape,
                        endpoint=True, dtype=dtype)


def check(op, a, b):
    content = single_op_model(op, [("a", list(a.shape), a.dtype), ("b", list(b.shape), b.dtype)],
                              [("y", [1], a.dtype)])
    got, want = run_tinylite(content, [a, b])[0], run_litert(content, [a, b])[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["STABLEHLO_ADD", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM", "STABLEHLO_MINIMUM"])
@pytest.mark.parametrize("dtype", NUMERIC)
def test_arithmetic(op, dtype):
    check(op, data(dtype), data(dtype))


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                                   np.uint64])
def test_and(dtype):
    check("STABLEHLO_AND", data(dtype), data(dtype))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32])
def test_shift_left(dtype):
    bits = np.dtype(dtype).itemsize * 8
    check("STABLEHLO_SHIFT_LEFT", data(dtype), data(dtype, lo=0, hi=bits - 1))
