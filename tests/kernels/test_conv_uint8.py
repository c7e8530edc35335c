"""uint8 CONV_2D against LiteRT's default kernel on large images, where many
accumulators fall on rounding ties: it requantizes as ruy does (ties up),
not with gemmlowp's double rounding (coral_mobilenet_v2_1.0_224_quant showed
the difference)."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("k,stride", [(1, 1), (3, 1), (3, 2)])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_conv_uint8_ties(k, stride, act):
    cin, cout = 16, 24
    # The quantization of coral_mobilenet_v2_1.0_224_quant's first projection: input zero point 0,
    # a multiplier with shift -8.
    x = rng.integers(0, 256, (1, 56, 56, cin)).astype(np.uint8)
    w = rng.integers(100, 180, (cout, k, k, cin)).astype(np.uint8)
    b = rng.integers(-5000, 5000, cout).astype(np.int32)
    content = single_op_model("CONV_2D", [
        dict(name="x", shape=list(x.shape), dtype=np.uint8, quantization=(0.02352848, 0)),
        dict(name="w", data=w, quantization=(0.03737175, 140)),
        dict(name="b", data=b, quantization=(0.0008793, 0))],
        [dict(name="y", shape=[1], dtype=np.uint8, quantization=(0.35441333, 129))],
        options=dict(padding="SAME", stride_w=stride, stride_h=stride, fused_activation_function=act))
    assert_same_outputs(content, [x])
