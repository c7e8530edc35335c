"""Single-op differential tests against LiteRT of the elementwise math and
shape-arithmetic builtins: FLOOR, CEIL, ROUND, SIN, COS, SIGN, RELU_0_TO_1,
ZEROS_LIKE, RANK, FLOOR_DIV, ADD_N, ATAN2, REDUCE_MIN, REDUCE_PROD,
BROADCAST_TO, BROADCAST_ARGS, RANGE; every input type LiteRT takes."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
SPECIAL = np.array([0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-30, 3e38, -3e38, np.inf, -np.inf, 7.0],
                   np.float32)


def values(shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        x = (rng.standard_normal(shape) * 4).astype(dtype)
        flat = x.reshape(-1)
        k = min(flat.size, SPECIAL.size)
        with np.errstate(over="ignore"):       # 3e38 becomes inf in float16
            flat[:k] = SPECIAL[:k].astype(dtype)
        return x
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -100000), min(info.max, 100000), shape, endpoint=True).astype(dtype)


def unary(op, x, out_dtype=None, quant=None):
    ins = dict(name="x", shape=list(x.shape), dtype=x.dtype)
    outs = dict(name="y", shape=[1], dtype=out_dtype or x.dtype)
    if quant is not None:
        ins["quantization"] = quant[0]
        outs["quantization"] = quant[1]
    return single_op_model(op, [ins], [outs])


def exact(content, feeds):
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("op,dtypes", [("FLOOR", [np.float32, np.float16]), ("CEIL", [np.float32]),
                                       ("ROUND", [np.float32]), ("SIGN", [np.float32, np.float64, np.int32])])
def test_rounding_and_sign(op, dtypes):
    for dtype in dtypes:
        x = values((3, 7), dtype)
        exact(unary(op, x), [x])


def test_sign_nan():
    x = np.array([np.nan, -1, 0, 2], np.float32)
    got = run_tinylite(unary("SIGN", x), [x])[0]
    want = run_litert(unary("SIGN", x), [x])[0]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("op", ["SIN", "COS"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_sin_cos(op, dtype):
    x = (rng.standard_normal((4, 50)) * 10).astype(dtype)
    assert_same_outputs(unary(op, x), [x], rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_relu_0_to_1_float():
    x = values((5, 6), np.float32)
    exact(unary("RELU_0_TO_1", x), [x])


@pytest.mark.parametrize("dtype,qin,qout", [(np.int8, (0.02, -5), (0.005, -128)), (np.uint8, (0.03, 120), (0.004, 0)),
                                            (np.int8, (0.01, 3), (0.01, 3))])
def test_relu_0_to_1_quantized(dtype, qin, qout):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (4, 33), endpoint=True).astype(dtype)
    exact(unary("RELU_0_TO_1", x, quant=(qin, qout)), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_zeros_like(dtype):
    x = values((2, 3, 4), dtype)
    exact(unary("ZEROS_LIKE", x), [x])


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4, 1, 2)])
def test_rank(shape):
    x = np.zeros(shape, np.float32)
    content = single_op_model("RANK", [dict(name="x", shape=list(shape), dtype=np.float32)],
                              [dict(name="y", shape=[], dtype=np.int32)])
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int16, np.int32])
@pytest.mark.parametrize("broadcast", [False, True])
def test_floor_div(dtype, broadcast):
    a = values((4, 6), dtype)
    b = values((1, 6) if broadcast else (4, 6), dtype)
    if np.dtype(dtype).kind == "i":
        b[b == 0] = 3
        a = a // 3 if dtype != np.int32 else a
        b.flat[:2] = [-1, -7]
    else:
        b[np.abs(b) < 0.1] = 0.5
    content = single_op_model("FLOOR_DIV", [dict(name="a", shape=list(a.shape), dtype=dtype),
                                            dict(name="b", shape=list(b.shape), dtype=dtype)],
                              [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, [a, b])


def test_floor_div_by_zero_fails():
    content = single_op_model("FLOOR_DIV", [("a", [2], np.int32), ("b", [2], np.int32)], [("y", [1], np.int32)])
    with pytest.raises(Exception, match="division by 0"):
        run_tinylite(content, [np.array([1, 2], np.int32), np.array([1, 0], np.int32)])


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("count", [2, 5])
def test_add_n(dtype, count):
    xs = [values((3, 4), dtype) for _ in range(count)]
    xs = [x if dtype != np.float32 else np.nan_to_num(x, posinf=1, neginf=-1) for x in xs]
    content = single_op_model("ADD_N", [dict(name=f"x{i}", shape=[3, 4], dtype=dtype) for i in range(count)],
                              [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, xs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_atan2(dtype):
    y = rng.standard_normal((5, 7)).astype(dtype)
    x = rng.standard_normal((5, 7)).astype(dtype)
    x[0, :4] = [0, -0.0, 0, -0.0]
    y[0, :4] = [0, 0, -0.0, 1]
    content = single_op_model("ATAN2", [dict(name="y", shape=[5, 7], dtype=dtype),
                                        dict(name="x", shape=[5, 7], dtype=dtype)],
                              [dict(name="z", shape=[1], dtype=dtype)])
    assert_same_outputs(content, [y, x], rtol=1e-6)


REDUCE_AXES = [[0], [1, 2], [-1], [0, 1, 2], []]


@pytest.mark.parametrize("op", ["REDUCE_MIN", "REDUCE_PROD"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("axes", REDUCE_AXES)
@pytest.mark.parametrize("keep", [False, True])
def test_reduce_min_prod(op, dtype, axes, keep):
    if np.dtype(dtype).kind == "f":
        x = (rng.random((3, 4, 5)) + 0.5).astype(dtype)
    else:
        x = rng.integers(-3 if np.dtype(dtype).kind == "i" else 0, 4, (3, 4, 5)).astype(dtype)
    content = single_op_model(op, [dict(name="x", shape=[3, 4, 5], dtype=dtype),
                                   dict(name="a", data=np.array(axes, np.int32))],
                              [dict(name="y", shape=[1], dtype=dtype)], options=dict(keep_dims=keep))
    assert_same_outputs(content, [x], rtol=1e-6)


@pytest.mark.parametrize("dtype,q", [(np.int8, (0.1, -3)), (np.uint8, (0.2, 100)), (np.int16, (0.01, 0))])
def test_reduce_min_quantized(dtype, q):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (3, 4, 5), endpoint=True).astype(dtype)
    content = single_op_model("REDUCE_MIN", [dict(name="x", shape=[3, 4, 5], dtype=dtype, quantization=q),
                                             dict(name="a", data=np.array([1], np.int32))],
                              [dict(name="y", shape=[1], dtype=dtype, quantization=q)])
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.int8, np.uint8, np.bool_, np.float16])
@pytest.mark.parametrize("shape,target", [((3, 1), (2, 3, 4)), ((1,), (5,)), ((2, 1, 3), (4, 2, 5, 3)), ((), (2, 2))])
@pytest.mark.parametrize("shape_dtype", [np.int32, np.int64])
def test_broadcast_to(dtype, shape, target, shape_dtype):
    x = (rng.random(shape) < 0.5) if dtype == np.bool_ else rng.integers(-50, 50, shape).astype(dtype)
    content = single_op_model("BROADCAST_TO", [dict(name="x", shape=list(shape), dtype=dtype),
                                               dict(name="s", data=np.array(target, shape_dtype))],
                              [dict(name="y", shape=[1], dtype=dtype)], version=2)
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("a,b", [([2, 1, 3], [4, 1]), ([5], [1]), ([1, 2], [3, 1, 2]), ([], [4])])
def test_broadcast_args(dtype, a, b):
    content = single_op_model("BROADCAST_ARGS", [dict(name="a", shape=[len(a)], dtype=dtype),
                                                 dict(name="b", shape=[len(b)], dtype=dtype)],
                              [dict(name="y", shape=[max(len(a), len(b))], dtype=dtype)])
    exact(content, [np.array(a, dtype), np.array(b, dtype)])


@pytest.mark.parametrize("dtype,args", [(np.int32, (0, 10, 3)), (np.int32, (10, -4, -3)), (np.int64, (5, 6, 1)),
                                        (np.float32, (0.5, 3.3, 0.7)), (np.float32, (1.0, -2.0, -0.1))])
def test_range(dtype, args):
    ins = [dict(name=n, shape=[], dtype=dtype) for n in ("s", "l", "d")]
    content = single_op_model("RANGE", ins, [dict(name="y", shape=[1], dtype=dtype)])
    exact(content, [np.array(v, dtype) for v in args])


def test_range_constant():
    ins = [dict(name=n, data=np.array(v, np.int32)) for n, v in zip("sld", (2, 11, 2))]
    content = single_op_model("RANGE", ins, [dict(name="y", shape=[5], dtype=np.int32)])
    exact(content, [])
