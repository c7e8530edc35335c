"""SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND and FLOOR_MOD against LiteRT, on every
input type LiteRT's kernels take."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)

# (dtype, quantization): 8-bit types pad with the zero point; int16 needs zero point 0.
MOVE_TYPES = [(np.float32, None), (np.int32, None), (np.int64, None), (np.bool_, None),
              (np.int8, (0.5, -7)), (np.uint8, (0.5, 131)), (np.int16, (0.25, 0))]


def data(shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def tensor(name, shape, dtype, quant=None):
    d = dict(name=name, shape=list(shape), dtype=dtype)
    if quant is not None:
        d["quantization"] = quant
    return d


@pytest.mark.parametrize("dtype,quant", MOVE_TYPES)
@pytest.mark.parametrize("shape,block,pads", [
    ((1, 4, 4, 3), [2, 2], [[0, 0], [0, 0]]),
    ((2, 5, 3, 2), [3, 2], [[1, 0], [2, 1]]),
    ((1, 6, 2), [2], [[1, 1]]),            # 3-D input: only H is blocked
    ((3, 2, 7, 1), [1, 3], [[0, 0], [1, 1]]),
])
def test_space_to_batch_nd(dtype, quant, shape, block, pads):
    x = data(shape, dtype)
    content = single_op_model("SPACE_TO_BATCH_ND", [
        tensor("x", shape, dtype, quant), dict(name="b", data=np.array(block, np.int32)),
        dict(name="p", data=np.array(pads, np.int32))], [tensor("y", [1], dtype, quant)])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype,quant", MOVE_TYPES)
@pytest.mark.parametrize("shape,block,crops", [
    ((4, 2, 2, 3), [2, 2], [[0, 0], [0, 0]]),
    ((12, 3, 2, 2), [3, 2], [[1, 0], [2, 1]]),
    ((4, 3, 2), [2], [[1, 2]]),
    ((6, 2, 3, 1), [1, 3], [[0, 1], [1, 1]]),
])
def test_batch_to_space_nd(dtype, quant, shape, block, crops):
    x = data(shape, dtype)
    content = single_op_model("BATCH_TO_SPACE_ND", [
        tensor("x", shape, dtype, quant), dict(name="b", data=np.array(block, np.int32)),
        dict(name="c", data=np.array(crops, np.int32))], [tensor("y", [1], dtype, quant)])
    assert_same_outputs(content, [x])


def test_space_batch_round_trip_with_dynamic_block():
    # Block and paddings as model inputs: the output shape is only known at invoke.
    x = data((2, 4, 6, 3), np.float32)
    content = single_op_model("SPACE_TO_BATCH_ND", [
        tensor("x", x.shape, np.float32), tensor("b", [2], np.int32), tensor("p", [2, 2], np.int32)],
        [tensor("y", [1], np.float32)])
    assert_same_outputs(content, [x, np.array([2, 3], np.int32), np.array([[0, 2], [0, 0]], np.int32)])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("broadcast", [False, True])
def test_floor_mod(dtype, broadcast):
    shape_b = (1, 5) if broadcast else (4, 5)
    if np.dtype(dtype).kind == "f":
        a = (rng.standard_normal((4, 5)) * 10).astype(dtype)
        b = (rng.standard_normal(shape_b) * 3).astype(dtype)
        a.flat[:4] = [0.0, -0.0, 6.0, -6.0]
    else:
        a = data((4, 5), dtype)
        b = data(shape_b, dtype)
        b[b == 0] = 1
        b.flat[:2] = [-1, np.iinfo(dtype).min]
    content = single_op_model("FLOOR_MOD", [tensor("a", a.shape, dtype), tensor("b", b.shape, dtype)],
                              [tensor("y", [1], dtype)])
    got, want = assert_same_outputs(content, [a, b], rtol=0, atol=0)
    np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))


def test_floor_mod_by_zero_fails_like_litert():
    a = np.array([3, 4], np.int32)
    b = np.array([1, 0], np.int32)
    content = single_op_model("FLOOR_MOD", [tensor("a", [2], np.int32), tensor("b", [2], np.int32)],
                              [tensor("y", [1], np.int32)])
    with pytest.raises(RuntimeError):
        run_litert(content, [a, b])
    with pytest.raises(Exception, match="division by 0"):
        run_tinylite(content, [a, b])
