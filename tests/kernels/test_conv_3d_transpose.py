"""CONV_3D_TRANSPOSE against LiteRT: SAME/VALID, strides, dilations, bias."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("padding,out_dhw,strides,dil", [
    ("SAME", (6, 8, 4), (2, 2, 1), (1, 1, 1)), ("VALID", (7, 9, 6), (2, 2, 1), (1, 1, 1)),
    ("SAME", (3, 4, 4), (1, 1, 1), (1, 2, 1)), ("VALID", (5, 6, 6), (1, 1, 1), (1, 1, 1))])
@pytest.mark.parametrize("bias", [False, True])
def test_conv_3d_transpose(padding, out_dhw, strides, dil, bias):
    from tinylite.kernels._base import conv_output_size

    k = (2, 3, 3)
    in_dhw = [conv_output_size(o, kk, s, d, padding) for o, kk, s, d in zip(out_dhw, k, strides, dil)]
    x = rng.standard_normal((2, *in_dhw, 3)).astype(np.float32)
    w = rng.standard_normal((*k, 4, 3)).astype(np.float32)
    ins = [dict(name="s", data=np.array([2, *out_dhw, 4], np.int32)), dict(name="w", data=w), ("x", list(x.shape))]
    if bias:
        ins.append(dict(name="b", data=rng.standard_normal(4).astype(np.float32)))
    content = single_op_model("CONV_3D_TRANSPOSE", ins, [("y", [2, *out_dhw, 4])], options=dict(
        padding=padding, stride_d=strides[0], stride_h=strides[1], stride_w=strides[2], dilation_d_factor=dil[0],
        dilation_h_factor=dil[1], dilation_w_factor=dil[2]))
    assert_same_outputs(content, [x])
