"""Comparisons, logical ops, REDUCE_ANY/ALL and REVERSE_V2 against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(11)
COMPARISONS = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]


def values(dtype, shape):
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind == "f":
        return np.round(rng.standard_normal(shape), 1).astype(dtype)   # rounding makes ties happen
    return rng.integers(-4, 5, shape).astype(dtype)


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("shapes", [([2, 3], [2, 3]), ([2, 1, 4], [3, 1]), ([5], [])])
def test_comparison(op, dtype, shapes):
    a, b = values(dtype, shapes[0]), values(dtype, shapes[1])
    content = single_op_model(op, [("a", a.shape, dtype), ("b", b.shape, dtype)], [("y", [1], np.bool_)])
    assert_same_outputs(content, [a, b])


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL"])
def test_equality_on_bools(op):
    a, b = values(np.bool_, [3, 4]), values(np.bool_, [3, 4])
    content = single_op_model(op, [("a", a.shape, np.bool_), ("b", b.shape, np.bool_)], [("y", [1], np.bool_)])
    assert_same_outputs(content, [a, b])


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("same_params", [True, False])
def test_quantized_comparison(op, dtype, same_params):
    info = np.iinfo(dtype)
    qa = (0.05, int(rng.integers(-10, 10)) + (128 if dtype == np.uint8 else 0))
    qb = qa if same_params else (0.1, int(rng.integers(-10, 10)) + (128 if dtype == np.uint8 else 0))
    a = rng.integers(info.min, info.max + 1, (4, 8)).astype(dtype)
    # Values of b equal to a in real terms where possible, so ties are exercised.
    real = (a.astype(np.float64) - qa[1]) * qa[0]
    b = np.clip(np.round(real / qb[0] + qb[1]), info.min, info.max).astype(dtype)
    b[::2] = rng.integers(info.min, info.max + 1, b[::2].shape)
    content = single_op_model(op, [dict(name="a", shape=a.shape, dtype=dtype, quantization=qa),
                                   dict(name="b", shape=b.shape, dtype=dtype, quantization=qb)],
                              [("y", [1], np.bool_)])
    assert_same_outputs(content, [a, b])


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
def test_logical_binary(op):
    a, b = values(np.bool_, [2, 1, 3]), values(np.bool_, [4, 1])
    content = single_op_model(op, [("a", a.shape, np.bool_), ("b", b.shape, np.bool_)], [("y", [1], np.bool_)])
    assert_same_outputs(content, [a, b])


def test_logical_not():
    a = values(np.bool_, [3, 5])
    assert_same_outputs(single_op_model("LOGICAL_NOT", [("a", a.shape, np.bool_)], [("y", [1], np.bool_)]), [a])


@pytest.mark.parametrize("op", ["REDUCE_ANY", "REDUCE_ALL"])
@pytest.mark.parametrize("axes,keep", [([1], False), ([0, 2], True), ([-1], False), ([], False)])
def test_reduce_bool(op, axes, keep):
    x = rng.random((3, 4, 5)) > 0.3
    content = single_op_model(op, [("x", x.shape, np.bool_), dict(name="axes", data=np.array(axes, np.int32))],
                              [("y", [1], np.bool_)], options=dict(keep_dims=keep))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8, np.bool_])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_reverse_v2(dtype, axis):
    x = values(dtype, [3, 4, 2])
    content = single_op_model("REVERSE_V2", [("x", x.shape, dtype), dict(name="axis", data=np.array([axis], np.int32))],
                              [("y", [1], dtype)])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("axes,keep", [([1], False), ([1, 2], True), ([-1], False)])
def test_quantized_reduce_max(dtype, axes, keep):
    info = np.iinfo(dtype)
    q = (0.05, 0 if dtype == np.int16 else int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0))
    x = rng.integers(info.min, info.max + 1, (2, 5, 4, 3)).astype(dtype)
    content = single_op_model("REDUCE_MAX", [dict(name="x", shape=x.shape, dtype=dtype, quantization=q),
                                            dict(name="axes", data=np.array(axes, np.int32))],
                              [dict(name="y", shape=[1], dtype=dtype, quantization=q)], options=dict(keep_dims=keep))
    assert_same_outputs(content, [x])
