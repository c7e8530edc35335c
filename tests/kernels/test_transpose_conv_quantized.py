"""Quantized TRANSPOSE_CONV against LiteRT, bit-exact: uint8 (per-tensor
weights), int8 (per-channel), 16x8 with an int32 or int64 bias or none; with
channel counts on and off LiteRT's blocks of 8, fused activations, SAME and
VALID padding; the default resolver and the reference one."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.kernels import transpose_conv
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
INT64, INT32 = 4, 2      # TensorType values of quantized_bias_type


def model(dtype, cout, bias, act, padding, stride, per_channel=True, cin=5, k=3, hw=(4, 5)):
    wdt = np.uint8 if dtype == np.uint8 else np.int8
    if wdt == np.uint8:
        w = rng.integers(0, 256, (cout, k, k, cin)).astype(wdt)
        wq = (np.array([0.004]), np.array([131]))
    else:
        w = rng.integers(-127, 128, (cout, k, k, cin)).astype(wdt)
        scales = rng.random(cout) * 0.01 + 0.001 if per_channel else np.array([0.005])
        wq = (scales, np.zeros(len(scales), np.int64), 0)
    xs = 0.0005 if dtype == np.int16 else 0.02
    xzp = {np.int16: 0, np.int8: 5, np.uint8: 120}[dtype]
    h, wd = hw
    if padding == "SAME":
        oh, ow = h * stride, wd * stride
    else:
        oh, ow = (h - 1) * stride + k, (wd - 1) * stride + k
    ins = [dict(name="s", data=np.array([2, oh, ow, cout], np.int32)), dict(name="w", data=w, quantization=wq),
           dict(name="x", shape=[2, h, wd, cin], dtype=dtype, quantization=(xs, xzp))]
    opts = dict(padding=padding, stride_w=stride, stride_h=stride, fused_activation_function=act)
    if bias is not None:
        bscale = xs * np.asarray(wq[0], np.float64)
        ins.append(dict(name="b", data=rng.integers(-30000, 30000, cout).astype(bias),
                        quantization=(bscale, np.zeros(len(bscale), np.int64))))
    if dtype == np.int16 and bias is not None:
        opts["quantized_bias_type"] = INT64 if bias == np.int64 else INT32
    oq = (0.01, 0) if dtype == np.int16 else (0.3, -3 if dtype == np.int8 else 125)
    return single_op_model("TRANSPOSE_CONV", ins, [dict(name="y", shape=[1], dtype=dtype, quantization=oq)],
                           options=opts, version=3)


def feed(dtype, hw=(4, 5), cin=5):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, (2, *hw, cin), endpoint=True).astype(dtype)


CASES = [(np.int8, None), (np.int8, np.int32), (np.uint8, None), (np.uint8, np.int32),
         (np.int16, None), (np.int16, np.int64), (np.int16, np.int32)]


@pytest.mark.parametrize("dtype,bias", CASES)
@pytest.mark.parametrize("cout", [3, 8, 19])
@pytest.mark.parametrize("padding,stride", [("SAME", 2), ("VALID", 2), ("SAME", 1), ("VALID", 3)])
def test_transpose_conv_quantized(dtype, bias, cout, padding, stride):
    content = model(dtype, cout, bias, "NONE", padding, stride, per_channel=dtype != np.uint8)
    assert_same_outputs(content, [feed(dtype)])       # both resolvers


@pytest.mark.parametrize("dtype,bias", CASES)
@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_transpose_conv_quantized_activation(dtype, bias, act):
    content = model(dtype, 16, bias, act, "SAME", 2, per_channel=dtype != np.uint8)
    assert_same_outputs(content, [feed(dtype)])


def test_transpose_conv_int8_per_tensor_weights_many_ties():
    # Large images give many accumulators on rounding ties.
    content = model(np.int8, 24, np.int32, "NONE", "VALID", 2, per_channel=False, cin=7, hw=(9, 9))
    assert_same_outputs(content, [feed(np.int8, (9, 9), 7)])


def test_transpose_conv_16x8_int32_bias_without_bias_type_is_refused():
    import tinylite

    content = model(np.int16, 8, np.int32, "NONE", "SAME", 2)
    from tinylite.flatbuffer.reader import parse
    from tinylite.flatbuffer.writer import write_model

    m = parse(content)
    m.subgraphs[0].operators[0].builtin_options["quantized_bias_type"] = 0
    ip = tinylite.Interpreter(model_content=write_model(m))
    with pytest.raises(Exception, match="quantized_bias_type"):
        ip.allocate_tensors()
