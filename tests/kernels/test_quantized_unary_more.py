"""Quantized ABS (int8, int16), LOG (int8, int16) and ELU (int8) against LiteRT, bit-exact,
over every input value, with equal and different input/output scales."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model


def every_value(dtype):
    info = np.iinfo(dtype)
    step = 1 if dtype == np.int8 else 7
    return np.arange(info.min, info.max + 1, step).astype(dtype)


@pytest.mark.parametrize("op", ["ABS", "LOG"])
@pytest.mark.parametrize("dtype,qin,qout", [
    (np.int8, (0.05, -3), (0.05, -3)), (np.int8, (0.05, -3), (0.02, -128)), (np.int8, (0.1, 20), (0.04, 5)),
    (np.int16, (0.001, 0), (0.001, 0)), (np.int16, (0.001, 0), (0.0003, 0))])
def test_quantized(op, dtype, qin, qout):
    x = every_value(dtype)
    content = single_op_model(op, [dict(name="x", shape=list(x.shape), dtype=dtype, quantization=qin)],
                              [dict(name="y", shape=[1], dtype=dtype, quantization=qout)])
    got, want = run_tinylite(content, [x])[0], run_litert(content, [x])[0]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("qin,qout", [((0.05, -3), (0.03, 10)), ((0.1, 20), (0.1, 20)), ((0.02, -128), (0.01, -100))])
def test_elu_int8(qin, qout):
    x = every_value(np.int8)
    content = single_op_model("ELU", [dict(name="x", shape=list(x.shape), dtype=np.int8, quantization=qin)],
                              [dict(name="y", shape=[1], dtype=np.int8, quantization=qout)])
    np.testing.assert_array_equal(run_tinylite(content, [x])[0], run_litert(content, [x])[0])


@pytest.mark.parametrize("dtype,q1,q2,qo", [
    (np.uint8, (0.05, 120), (0.02, 3), (0.2, 10)), (np.uint8, (0.1, 0), (0.1, 0), (0.05, 0)),
    (np.int16, (0.001, 0), (0.002, 0), (0.004, 0)), (np.int8, (0.05, -3), (0.02, 5), (0.3, 1))])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_div_quantized(dtype, q1, q2, qo, act):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    a = rng.integers(info.min, info.max, (4, 64), endpoint=True).astype(dtype)
    b = rng.integers(info.min, info.max, (1, 64), endpoint=True).astype(dtype)
    b[b == q2[1]] = q2[1] + 1            # no zero divisors
    content = single_op_model("DIV", [dict(name="a", shape=[4, 64], dtype=dtype, quantization=q1),
                                      dict(name="b", shape=[1, 64], dtype=dtype, quantization=q2)],
                              [dict(name="y", shape=[1], dtype=dtype, quantization=qo)],
                              options=dict(fused_activation_function=act))
    np.testing.assert_array_equal(run_tinylite(content, [a, b])[0], run_litert(content, [a, b])[0])


@pytest.mark.parametrize("dtype,qin,qout", [(np.uint8, (0.05, 120), (0.4, 3)), (np.int8, (0.05, -3), (0.5, 10)),
                                            (np.int16, (0.001, 0), (0.01, 0))])
@pytest.mark.parametrize("axes,keep", [([1], False), ([0, 2], True), ([-1], True)])
def test_sum_quantized(dtype, qin, qout, axes, keep):
    info = np.iinfo(dtype)
    x = np.random.default_rng(1).integers(info.min, info.max, (3, 5, 7), endpoint=True).astype(dtype)
    content = single_op_model("SUM", [dict(name="x", shape=[3, 5, 7], dtype=dtype, quantization=qin),
                                      dict(name="a", data=np.array(axes, np.int32))],
                              [dict(name="y", shape=[1], dtype=dtype, quantization=qout)], options=dict(keep_dims=keep))
    np.testing.assert_array_equal(run_tinylite(content, [x])[0], run_litert(content, [x])[0])
