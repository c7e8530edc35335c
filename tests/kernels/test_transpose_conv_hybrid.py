"""Hybrid TRANSPOSE_CONV (float32 input and output, int8 weights, float32
bias) against LiteRT: per-channel and per-tensor weight scales, with and
without bias, fused activations, SAME and VALID padding, strides 1 to 3,
images of different ranges in one batch; the default resolver and the
reference one."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(12)


def model(cout, bias, act, padding, stride, per_channel, cin=5, k=3, hw=(4, 5)):
    w = rng.integers(-127, 128, (cout, k, k, cin)).astype(np.int8)
    scales = rng.random(cout) * 0.01 + 0.001 if per_channel else np.array([0.005])
    h, wd = hw
    oh, ow = (h * stride, wd * stride) if padding == "SAME" else ((h - 1) * stride + k, (wd - 1) * stride + k)
    ins = [dict(name="s", data=np.array([2, oh, ow, cout], np.int32)),
           dict(name="w", data=w, quantization=(scales, np.zeros(len(scales), np.int64), 0)),
           ("x", [2, h, wd, cin], np.float32)]
    if bias:
        ins.append(dict(name="b", data=rng.standard_normal(cout).astype(np.float32)))
    return single_op_model("TRANSPOSE_CONV", ins, [("y", [1], np.float32)], version=3,
                           options=dict(padding=padding, stride_w=stride, stride_h=stride,
                                        fused_activation_function=act))


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("cout", [3, 8, 11])
@pytest.mark.parametrize("padding,stride", [("SAME", 2), ("VALID", 2), ("SAME", 1), ("VALID", 3)])
def test_transpose_conv_hybrid(per_channel, bias, cout, padding, stride):
    content = model(cout, bias, "NONE", padding, stride, per_channel)
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    x[1] *= 7                                # each image gets its own quantization scale
    assert_same_outputs(content, [x], rtol=1e-5, atol=0)


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_transpose_conv_hybrid_activations(act):
    content = model(4, True, act, "SAME", 2, True)
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32) * 0.3
    assert_same_outputs(content, [x], rtol=1e-5, atol=0)


def test_transpose_conv_hybrid_all_positive_and_zero_images():
    content = model(6, True, "NONE", "SAME", 2, True)
    x = np.abs(rng.standard_normal((2, 4, 5, 5))).astype(np.float32)
    x[1] = 0                                  # a zero image: scale 1, everything 0, the bias alone
    assert_same_outputs(content, [x], rtol=1e-5, atol=0)
