"""Single-op differential tests against LiteRT: CONV_3D, FAKE_QUANT, REAL,
IMAG, COMPLEX_ABS, RFFT2D."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides,dil", [((1, 1, 1), (1, 1, 1)), ((2, 1, 2), (1, 1, 1)), ((1, 1, 1), (2, 1, 2))])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_conv_3d(padding, strides, dil, bias, act):
    x = rng.standard_normal((2, 5, 6, 7, 3)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3, 4)).astype(np.float32)
    ins = [("x", list(x.shape)), dict(name="w", data=w)]
    if bias:
        ins.append(dict(name="b", data=rng.standard_normal(4).astype(np.float32)))
    content = single_op_model("CONV_3D", ins, [("y", [1])], options=dict(
        padding=padding, stride_d=strides[0], stride_h=strides[1], stride_w=strides[2], dilation_d_factor=dil[0],
        dilation_h_factor=dil[1], dilation_w_factor=dil[2], fused_activation_function=act))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("lo,hi,bits", [(-1.0, 1.0, 8), (-0.3, 2.7, 8), (0.0, 6.0, 4), (-5.1, 0.0, 16)])
def test_fake_quant(lo, hi, bits):
    x = (rng.standard_normal((4, 50)) * 3).astype(np.float32)
    content = single_op_model("FAKE_QUANT", [("x", [4, 50])], [("y", [1])],
                              options=dict(min=lo, max=hi, num_bits=bits, narrow_range=False))
    assert_same_outputs(content, [x], rtol=0, atol=0)


@pytest.mark.parametrize("op", ["REAL", "IMAG", "COMPLEX_ABS"])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_parts(op, dtype):
    x = (rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))).astype(dtype)
    out = np.float32 if dtype == np.complex64 else np.float64
    content = single_op_model(op, [("x", [3, 5], dtype)], [("y", [1], out)])
    assert_same_outputs(content, [x], rtol=1e-6)


@pytest.mark.parametrize("shape,fl", [((4, 8), (4, 8)), ((2, 6, 5), (8, 4)), ((3, 16, 16), (16, 16))])
def test_rfft2d(shape, fl):
    x = rng.standard_normal(shape).astype(np.float32)
    content = single_op_model("RFFT2D", [("x", list(shape)), dict(name="l", data=np.array(fl, np.int32))],
                              [("y", [1], np.complex64)])
    got, want = run_tinylite(content, [x])[0], run_litert(content, [x])[0]
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def _complex(shape, dtype=np.complex64):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _c(name, value):
    return dict(name=name, data=np.asarray(value))


# The data-movement ops LiteRT runs on complex tensors (SQUEEZE and EXPAND_DIMS copy complex128
# too), found by probing every such op with both complex types: tinylite copies them alike.
COMPLEX_MOVES = {
    "SQUEEZE": lambda t: ([("x", [2, 1, 3], t)], [("y", [2, 3], t)], {"squeeze_dims": np.array([1], np.int32)}),
    "EXPAND_DIMS": lambda t: ([("x", [2, 1, 3], t), _c("a", np.array([0], np.int32))], [("y", [1, 2, 1, 3], t)], None),
    "TRANSPOSE": lambda t: ([("x", [2, 1, 3], t), _c("p", np.array([2, 1, 0], np.int32))], [("y", [3, 1, 2], t)], None),
    "SLICE": lambda t: ([("x", [2, 1, 3], t), _c("b", np.array([0, 0, 1], np.int32)),
                         _c("s", np.array([2, 1, 2], np.int32))], [("y", [2, 1, 2], t)], None),
    "TILE": lambda t: ([("x", [2, 1, 3], t), _c("m", np.array([1, 2, 1], np.int32))], [("y", [2, 2, 3], t)], None),
    "SELECT_V2": lambda t: ([("c", [2, 1, 3], np.bool_), ("x", [2, 1, 3], t), ("z", [1, 3], t)], [("y", [2, 1, 3], t)],
                            None),
    "DYNAMIC_UPDATE_SLICE": lambda t: ([("x", [2, 1, 3], t), ("u", [1, 1, 2], t), _c("s", np.array([1, 0, 1], np.int32))],
                                       [("y", [2, 1, 3], t)], None),
    "RESHAPE": lambda t: ([("x", [2, 1, 3], t), _c("s", np.array([3, 2], np.int32))], [("y", [3, 2], t)], None),
}
COMPLEX_CASES = [(op, np.complex64) for op in COMPLEX_MOVES] + [
    (op, np.complex128) for op in ("SQUEEZE", "EXPAND_DIMS", "DYNAMIC_UPDATE_SLICE")]


@pytest.mark.parametrize("op,dtype", COMPLEX_CASES, ids=[f"{o}-{np.dtype(t).name}" for o, t in COMPLEX_CASES])
def test_complex_data_movement(op, dtype):
    ins, outs, options = COMPLEX_MOVES[op](dtype)
    content = single_op_model(op, ins, outs, options)
    feeds = [rng.random(d[1]) < 0.5 if d[2] == np.bool_ else _complex(d[1], dtype) for d in ins if isinstance(d, tuple)]
    got, want = run_tinylite(content, feeds)[0], run_litert(content, feeds)[0]
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_complex_fill():
    content = single_op_model("FILL", [_c("d", np.array([2, 3], np.int32)), ("v", [], np.complex64)],
                              [("y", [2, 3], np.complex64)])
    v = np.complex64(1.5 - 2j)
    np.testing.assert_array_equal(run_tinylite(content, [v])[0], run_litert(content, [v])[0])


@pytest.mark.parametrize("to", [np.float32, np.float64, np.float16, np.int32, np.int8, np.uint8, np.int64, np.bool_])
def test_cast_from_complex64(to):
    """LiteRT casts a complex64's real part (as float32, by the float rules: truncating,
    saturating integers)."""
    x = (np.array([0.0, -0.0, 1.7, -2.9, 300.5, -1e10, 3e9, 0.4]) + 1j * np.arange(8)).astype(np.complex64)
    content = single_op_model("CAST", [("x", [8], np.complex64)], [("y", [8], to)])
    got, want = run_tinylite(content, [x])[0], run_litert(content, [x])[0]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("src", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_cast_to_complex64(src):
    x = np.array([0, 1, 7, 200, 3, 1], src) if src != np.bool_ else np.array([0, 1, 1, 0, 1, 0], bool)
    if np.dtype(src).kind == "f":
        x = (x * 1.37 - 0.5).astype(src)
    content = single_op_model("CAST", [("x", [6], src)], [("y", [6], np.complex64)])
    got, want = run_tinylite(content, [x])[0], run_litert(content, [x])[0]
    assert got.dtype == want.dtype == np.complex64
    np.testing.assert_array_equal(got, want)
