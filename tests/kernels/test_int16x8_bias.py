"""The rest of the 16x8 sweep against LiteRT, bit-exact in both resolvers:
CONV_2D and FULLY_CONNECTED with int16 activations, int8 weights and an
int32 bias (quantized_bias_type INT32), and FULLY_CONNECTED with int16
weights (16x16)."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(16)
INT32, INT64 = 2, 4          # TensorType values of quantized_bias_type


def q16(name, shape, scale):
    return dict(name=name, shape=list(shape), dtype=np.int16, quantization=(scale, 0))


def bias_desc(units, bias_dtype, bscale):
    b = rng.integers(-30000, 30000, units).astype(bias_dtype)
    return dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
@pytest.mark.parametrize("cout", [4, 8, 11])
@pytest.mark.parametrize("bias_type", [INT32, INT64])
def test_conv_2d_16x8_bias_types(per_channel, act, cout, bias_type):
    x = rng.integers(-32768, 32768, (2, 7, 6, 3)).astype(np.int16)
    w = rng.integers(-127, 128, (cout, 3, 3, 3)).astype(np.int8)
    xs = 3e-4
    ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    content = single_op_model(
        "CONV_2D", [q16("x", x.shape, xs), dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0)),
                    bias_desc(cout, np.int32 if bias_type == INT32 else np.int64, bscale)],
        [q16("y", [1], xs * float(ws.mean()) * 9 * 60)],
        options=dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function=act,
                     quantized_bias_type=bias_type))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("bias", [None, INT32, INT64])
@pytest.mark.parametrize("units", [5, 16])
def test_fully_connected_16x8_bias_types(per_channel, bias, units):
    x = rng.integers(-32768, 32768, (9, 21)).astype(np.int16)
    w = rng.integers(-127, 128, (units, 21)).astype(np.int8)
    xs = 2e-4
    ws = rng.uniform(0.002, 0.01, units if per_channel else 1).astype(np.float32)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    ins = [q16("x", x.shape, xs), dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0)),
           None if bias is None else bias_desc(units, np.int32 if bias == INT32 else np.int64, bscale)]
    options = dict(fused_activation_function="RELU")
    if bias is not None:
        options["quantized_bias_type"] = bias
    content = single_op_model("FULLY_CONNECTED", ins, [q16("y", [1], xs * float(ws.mean()) * 21 * 40)],
                              options=options)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("bias", [None, INT32, INT64])
@pytest.mark.parametrize("units", [3, 8])
def test_fully_connected_16x16(bias, units):
    x = rng.integers(-32768, 32768, (4, 13)).astype(np.int16)
    w = rng.integers(-32767, 32768, (units, 13)).astype(np.int16)
    xs, ws = 2e-4, 3e-5
    ins = [q16("x", x.shape, xs), dict(name="w", data=w, quantization=(ws, 0)),
           None if bias is None else bias_desc(units, np.int32 if bias == INT32 else np.int64,
                                               np.array([np.float32(xs) * np.float32(ws)], np.float32))]
    options = dict(fused_activation_function="NONE")
    if bias is not None:
        options["quantized_bias_type"] = bias
    content = single_op_model("FULLY_CONNECTED", ins, [q16("y", [1], xs * ws * 13 * 30000)], options=options)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
def test_fully_connected_16x8_int32_accumulator_wraps(per_channel):
    """With an int32 quantized_bias_type, LiteRT's kernels sum 16x8 products in an int32 that
    wraps: a depth of 700 at full scale passes 2**31 (both resolvers: ruy, and the reference
    kernel's double-precision requantization of the wrapped sum)."""
    depth, units = 700, 6
    x = np.full((3, depth), 32767, np.int16)
    x[1] = -32768
    x[2] = rng.integers(-32768, 32768, depth)
    w = np.full((units, depth), 127, np.int8)
    w[1::2] = -127
    xs = 2e-4
    ws = rng.uniform(0.002, 0.01, units if per_channel else 1).astype(np.float32)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    ins = [q16("x", x.shape, xs), dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0)),
           bias_desc(units, np.int32, bscale)]
    content = single_op_model("FULLY_CONNECTED", ins, [q16("y", [1], xs * float(ws.mean()) * 4000)],
                              options=dict(fused_activation_function="NONE", quantized_bias_type=INT32))
    got, _ = assert_same_outputs(content, [x])
    assert len(np.unique(got)) > 2, "the sums saturate everywhere: the wrap is not exercised"
