import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dilation", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (1, 1)),
                                             ((1, 1), (2, 2)), ((2, 1), (1, 3))])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"])
def test_conv_2d_float(padding, stride, dilation, act):
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3, 2, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    content = single_op_model(
        "CONV_2D", [("x", x.shape), dict(name="w", data=w), dict(name="b", data=b)], [("y", [1])],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function=act))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (5, 1)])
def test_conv_2d_odd_shapes(kernel):
    x = rng.standard_normal((1, 7, 5, 6)).astype(np.float32)
    w = rng.standard_normal((5, *kernel, 6)).astype(np.float32)
    b = np.zeros(5, np.float32)
    content = single_op_model("CONV_2D", [("x", x.shape), dict(name="w", data=w), dict(name="b", data=b)], [("y", [1])],
                              options=dict(padding="SAME", stride_h=1, stride_w=1))
    assert_same_outputs(content, [x])


def test_conv_2d_groups():
    x = rng.standard_normal((1, 6, 6, 4)).astype(np.float32)
    w = rng.standard_normal((6, 3, 3, 2)).astype(np.float32)   # 2 groups of 2 input channels
    b = rng.standard_normal(6).astype(np.float32)
    content = single_op_model("CONV_2D", [("x", x.shape), dict(name="w", data=w), dict(name="b", data=b)],
                              [("y", [1])], options=dict(padding="VALID", stride_h=1, stride_w=1))
    assert_same_outputs(content, [x])


def test_conv_2d_batch_resize():
    x = rng.standard_normal((5, 8, 8, 2)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    content = single_op_model("CONV_2D", [dict(name="x", shape=[1, 8, 8, 2], shape_signature=[-1, 8, 8, 2]),
                                          dict(name="w", data=w), dict(name="b", data=np.ones(3, np.float32))],
                              [("y", [1, 8, 8, 3])],
                              options=dict(padding="SAME", stride_h=1, stride_w=1))
    assert_same_outputs(content, [x])
