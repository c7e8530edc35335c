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
