"""Single-op differential tests against LiteRT: UNIQUE, DYNAMIC_UPDATE_SLICE,
RIGHT_SHIFT, BITWISE_XOR, SPARSE_TO_DENSE."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def exact(content, feeds):
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g, w)


def ints(shape, dtype, lo=None, hi=None):
    info = np.iinfo(dtype)
    return rng.integers(info.min if lo is None else lo, info.max if hi is None else hi, shape,
                        endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
def test_unique(dtype, idx_dtype):
    x = rng.integers(0, 6, 20).astype(dtype)
    content = single_op_model("UNIQUE", [dict(name="x", shape=[20], dtype=dtype)],
                              [dict(name="y", shape=[1], dtype=dtype), dict(name="i", shape=[20], dtype=idx_dtype)],
                              options=dict(idx_out_type=4 if idx_dtype == np.int64 else 2))
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("start_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("start", [[0, 0, 0], [1, 2, 1], [-3, 9, 1]])       # clamped into range
def test_dynamic_update_slice(dtype, start_dtype, start):
    x = (rng.random((4, 5, 3)) < 0.5) if dtype == np.bool_ else rng.integers(-9, 9, (4, 5, 3)).astype(dtype)
    u = (rng.random((2, 3, 2)) < 0.5) if dtype == np.bool_ else rng.integers(-9, 9, (2, 3, 2)).astype(dtype)
    content = single_op_model("DYNAMIC_UPDATE_SLICE", [dict(name="x", shape=[4, 5, 3], dtype=dtype),
                                                       dict(name="u", shape=[2, 3, 2], dtype=dtype),
                                                       dict(name="s", shape=[3], dtype=start_dtype)],
                              [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, [x, u, np.array(start, start_dtype)])


@pytest.mark.parametrize("op", ["RIGHT_SHIFT", "BITWISE_XOR"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32])
def test_bit_ops(op, dtype):
    bits = np.dtype(dtype).itemsize * 8
    a = ints((3, 8), dtype)
    b = ints((1, 8), dtype, 0 if op == "RIGHT_SHIFT" else None, bits + 3 if op == "RIGHT_SHIFT" else None)
    content = single_op_model(op, [dict(name="a", shape=[3, 8], dtype=dtype), dict(name="b", shape=[1, 8], dtype=dtype)],
                              [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, [a, b])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8, np.int32, np.int64])
@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("case", ["nd", "vector", "scalar_value"])
def test_sparse_to_dense(dtype, idx_dtype, case):
    if case == "vector":
        shape, idx = [9], np.array([1, 4, 7], idx_dtype)
    else:
        shape, idx = [3, 4, 2], np.array([[0, 1, 1], [2, 3, 0], [1, 0, 1]], idx_dtype)
    values = np.array(5, dtype) if case == "scalar_value" else np.array([3, 7, 9], dtype)
    content = single_op_model("SPARSE_TO_DENSE", [dict(name="i", data=idx), dict(name="s", data=np.array(shape, idx_dtype)),
                                                  dict(name="v", shape=list(values.shape), dtype=dtype),
                                                  dict(name="d", shape=[], dtype=dtype)],
                              [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, [values, np.array(-1 if dtype != np.uint8 else 1, dtype)])
