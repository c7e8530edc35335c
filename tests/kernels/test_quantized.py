"""Quantized kernels (int8/uint8/int16, hybrid) against LiteRT, with random scales
and zero points, per-tensor and per-channel.  Integer outputs must match exactly
(max_lsb=0).  Where LiteRT's optimized kernel and its reference kernel differ,
the test names the resolver whose semantics tinylite follows (see the
docstring of tinylite/kernels/_quantization.py)."""
import sys

import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(7)
INFO = {np.int8: np.iinfo(np.int8), np.uint8: np.iinfo(np.uint8), np.int16: np.iinfo(np.int16)}


def qdesc(name, shape, dtype, scale, zero_point=0, **kw):
    return dict(name=name, shape=list(shape), dtype=dtype, quantization=(scale, zero_point), **kw)


def qdata(shape, dtype):
    i = INFO[dtype]
    return rng.integers(i.min, i.max + 1, shape).astype(dtype)


def weights(shape):
    # TFLite's int8 weights are symmetric: -128 never occurs (LiteRT's SIMD hybrid kernels
    # even rely on it).
    return rng.integers(-127, 128, shape).astype(np.int8)


def zp(dtype):
    return 0 if dtype == np.int16 else int(rng.integers(-20, 21)) + (128 if dtype == np.uint8 else 0)


# --- QUANTIZE / DEQUANTIZE ---

@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_quantize_float(dtype):
    x = (rng.standard_normal((3, 7, 5)) * 4).astype(np.float32)
    # Exact ties of x / scale: LiteRT rounds them away from zero.
    x[0, 0, :] = np.array([0.25, -0.25, 0.75, -0.75, 1.25], np.float32)
    content = single_op_model("QUANTIZE", [("x", x.shape)], [qdesc("y", x.shape, dtype, 0.5 if dtype != np.int16 else 0.01,
                                                                   zp(dtype))])
    assert_same_outputs(content, [x])


def test_quantize_per_channel():
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    scale = rng.uniform(0.01, 0.05, 3).astype(np.float32)
    content = single_op_model("QUANTIZE", [("x", x.shape)],
                              [dict(name="y", shape=[2, 3, 4], dtype=np.int8,
                                    quantization=(scale, np.array([1, -2, 3]), 1))])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("src,dst", [(np.int8, np.int8), (np.int8, np.uint8), (np.uint8, np.int8),
                                     (np.int8, np.int16), (np.int16, np.int8), (np.int16, np.int16)])
def test_requantize(src, dst):
    x = qdata((4, 33), src)
    content = single_op_model("QUANTIZE", [qdesc("x", x.shape, src, 0.037, zp(src))],
                              [qdesc("y", x.shape, dst, 0.021 if dst != np.int16 else 0.0007, zp(dst))])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("src,dst", [(np.int8, np.int8), (np.uint8, np.uint8), (np.int8, np.int16),
                                     (np.uint8, np.int16), (np.int16, np.int8), (np.int16, np.int16)])
def test_requantize_multiplier_below_one(src, dst):
    """A multiplier below 1 rounds ties, where LiteRT's SIMD blocks (8-bit to 8-bit
    only) and its scalar formula differ.  Its own generator: the module's stream
    feeds the tests below."""
    g = np.random.default_rng(11)
    info = INFO[src]
    x = g.integers(info.min, info.max + 1, (4, 70)).astype(src)
    x[0, :] = np.arange(70) - 35 + (128 if src == np.uint8 else 0)
    zps = {np.int8: -3, np.uint8: 130, np.int16: 0}
    content = single_op_model("QUANTIZE", [qdesc("x", x.shape, src, 0.02, zps[src])],
                              [qdesc("y", x.shape, dst, 0.06, zps[dst])])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_dequantize(dtype):
    x = qdata((5, 9), dtype)
    content = single_op_model("DEQUANTIZE", [qdesc("x", x.shape, dtype, 0.0123, zp(dtype))], [("y", [5, 9])])
    assert_same_outputs(content, [x], rtol=0, atol=0)


# --- CONV_2D ---

def conv_model(x_shape, dtype, w, per_channel, act="NONE", padding="SAME", stride=(1, 1), dilation=(1, 1),
               out_scale=None, bias_dtype=None):
    cout = w.shape[0]
    xs = float(rng.uniform(0.01, 0.05)) if dtype != np.int16 else float(rng.uniform(1e-4, 5e-4))
    ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
    bias_dtype = bias_dtype or (np.int64 if dtype == np.int16 else np.int32)
    b = rng.integers(-3000, 3000, cout).astype(bias_dtype)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    depth = np.prod(w.shape[1:])
    out_scale = out_scale or xs * float(ws.mean()) * np.sqrt(depth) * (40 if dtype != np.int16 else 2000)
    wq = (ws, np.zeros(len(ws), np.int64), 0)
    return single_op_model(
        "CONV_2D", [qdesc("x", x_shape, dtype, xs, zp(dtype)), dict(name="w", data=w, quantization=wq),
                    dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
        [qdesc("y", [1], dtype, out_scale, zp(dtype))],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function=act))


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("padding,stride,dilation", [("SAME", (1, 1), (1, 1)), ("VALID", (2, 1), (1, 1)),
                                                     ("SAME", (1, 2), (2, 1)), ("VALID", (1, 1), (1, 2))])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6"])
def test_conv_2d_int8(per_channel, padding, stride, dilation, act):
    # LiteRT's optimized int8 convolution requantizes through ruy (tinylite's default).
    x = qdata((2, 9, 8, 3), np.int8)
    w = weights((5, 3, 2, 3))
    content = conv_model(x.shape, np.int8, w, per_channel, act, padding, stride, dilation)
    assert_same_outputs(content, [x])


def test_conv_2d_int8_reference():
    # The reference kernel requantizes with gemmlowp's double rounding.
    x = qdata((2, 9, 8, 3), np.int8)
    w = weights((6, 3, 3, 3))
    content = conv_model(x.shape, np.int8, w, True, "RELU")
    assert_same_outputs(content, [x], resolver="ref")


@pytest.mark.parametrize("padding,stride,kernel", [("SAME", (1, 1), (3, 3)), ("VALID", (1, 1), (1, 1)),
                                                   ("SAME", (2, 2), (3, 3))])
@pytest.mark.parametrize("ratio", [2.0 ** -3, 2.0 ** -9])
def test_conv_2d_uint8(padding, stride, kernel, ratio):
    # LiteRT's optimized uint8 convolution also requantizes through ruy (ties rounded up, not away
    # from zero); a multiplier with a small right shift makes ties frequent.
    x = qdata((1, 24, 24, 5), np.uint8)
    w = rng.integers(0, 256, (8,) + kernel + (5,)).astype(np.uint8)
    xs, ws = 0.02, 0.004
    b = rng.integers(-3000, 3000, 8).astype(np.int32)
    content = single_op_model(
        "CONV_2D", [qdesc("x", x.shape, np.uint8, xs, zp(np.uint8)), dict(name="w", data=w, quantization=(ws, 131)),
                    dict(name="b", data=b, quantization=(np.float32(xs) * np.float32(ws), 0))],
        [qdesc("y", [1], np.uint8, xs * ws / ratio * 1.37, zp(np.uint8))],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], fused_activation_function="NONE"))
    assert_same_outputs(content, [x])


def test_conv_2d_int8_groups():
    x = qdata((1, 6, 6, 4), np.int8)
    w = weights((6, 3, 3, 2))
    content = conv_model(x.shape, np.int8, w, True, padding="VALID")
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_conv_2d_int16x8(per_channel, act):
    x = qdata((2, 7, 6, 3), np.int16)
    w = weights((4, 3, 3, 3))
    content = conv_model(x.shape, np.int16, w, per_channel, act)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("padding,stride,dilation", [("SAME", (1, 1), (1, 1)), ("VALID", (2, 2), (1, 1)),
                                                     ("SAME", (1, 1), (2, 2))])
def test_conv_2d_hybrid(per_channel, padding, stride, dilation):
    # Float input, int8 weights: per-channel scales quantize each image asymmetrically,
    # a single scale symmetrically.
    x = rng.standard_normal((2, 8, 7, 3)).astype(np.float32)
    w = weights((4, 3, 3, 3))
    ws = rng.uniform(0.01, 0.02, 4 if per_channel else 1).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    content = single_op_model(
        "CONV_2D", [("x", x.shape), dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0)),
                    dict(name="b", data=b)], [("y", [1])],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function="RELU"))
    assert_same_outputs(content, [x])


# --- FULLY_CONNECTED ---

def fc_model(n, depth, units, dtype, per_channel, act="NONE", bias=True, keep_num_dims=False, x_shape=None):
    xs = float(rng.uniform(0.01, 0.05)) if dtype != np.int16 else float(rng.uniform(1e-4, 5e-4))
    w = weights((units, depth))
    ws = rng.uniform(0.002, 0.01, units if per_channel else 1).astype(np.float32)
    out_scale = xs * float(ws.mean()) * np.sqrt(depth) * (40 if dtype != np.int16 else 2000)
    inputs = [qdesc("x", x_shape or [n, depth], dtype, xs, zp(dtype)),
              dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0))]
    if bias:
        b = rng.integers(-3000, 3000, units).astype(np.int64 if dtype == np.int16 else np.int32)
        inputs.append(dict(name="b", data=b, quantization=((np.float32(xs) * ws).astype(np.float32),
                                                           np.zeros(len(ws), np.int64), 0)))
    else:
        inputs.append(None)
    return single_op_model("FULLY_CONNECTED", inputs, [qdesc("y", [1], dtype, out_scale, zp(dtype))],
                           options=dict(fused_activation_function=act, keep_num_dims=keep_num_dims))


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU_N1_TO_1"])
@pytest.mark.parametrize("bias", [True, False])
def test_fully_connected_int8(per_channel, act, bias):
    # LiteRT's optimized kernel: ruy for per-channel multipliers, gemmlowp for a single one.
    x = qdata((64, 37), np.int8)
    content = fc_model(64, 37, 19, np.int8, per_channel, act, bias)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("act", ["RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("resolver", ["builtin", "ref"])
def test_fused_activation_bound_outside_int32(act, dtype, resolver):
    """An output scale so small that the fused activation's bound over it (6.0 or 1.0 / scale)
    leaves int32, as when a calibrated range collapses (a 16x8 MobileNetV2 with untrained
    weights): LiteRT refuses the model at allocate_tensors (CalculateActivationRangeQuantized)
    and so does tinylite, naming the node, the tensor and what to do.  Just inside int32 the
    model runs, with LiteRT's outputs."""
    from oracle import litert_interpreter, run_tinylite

    bound = 6.0 if act == "RELU6" else 1.0
    x = qdata((4, 8), dtype)
    xs = 0.02 if dtype != np.int16 else 1e-4
    for out_scale, runs in ((bound / 2.0**32, False), (bound / 2.0**30, True)):
        w = weights((3, 8))
        # A weight scale that keeps the output multiplier (xs * ws / out_scale) ordinary.
        ws = np.float32([out_scale / xs * 0.3])
        inputs = [qdesc("x", [4, 8], dtype, xs, 0), dict(name="w", data=w, quantization=(ws, np.zeros(1, np.int64), 0)),
                  None]
        content = single_op_model("FULLY_CONNECTED", inputs, [qdesc("y", [4, 3], dtype, out_scale, 0)],
                                  options=dict(fused_activation_function=act))
        if runs:
            assert_same_outputs(content, [x], resolver=resolver)
            continue
        with pytest.raises(RuntimeError, match="no_integer_overflow_from_quantization"):
            litert_interpreter(content, resolver).allocate_tensors()
        with pytest.raises(RuntimeError, match=rf"Node number 0 \(FULLY_CONNECTED\) failed to prepare: .*fused {act}: its "
                                               rf"bound -?{bound} over the scale of output 'y' .*outside int32.*reconvert"):
            run_tinylite(content, [x], resolver)


def test_fully_connected_int8_keep_num_dims():
    x = qdata((2, 3, 16), np.int8)
    content = fc_model(None, 16, 5, np.int8, True, keep_num_dims=True, x_shape=[2, 3, 16])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_fully_connected_int16x8(per_channel, bias):
    # With an int64 bias both LiteRT kernels requantize in double precision; without a
    # bias the optimized kernel runs on ruy.
    x = qdata((32, 29), np.int16)
    content = fc_model(32, 29, 11, np.int16, per_channel, "RELU", bias)
    assert_same_outputs(content, [x])


# Data on which the double-precision requantization of LiteRT's reference FC kernel differs
# from the others in the last bit: 16x8 under BUILTIN_REF runs that kernel whatever the bias,
# and it takes input * filter / output scale in double (not the product in float32).
@pytest.mark.parametrize("dtype,per_channel,bias,n,seed", [
    (np.int16, True, False, 32, 10), (np.int16, True, False, 32, 23), (np.int16, False, False, 32, 64),
    (np.int16, False, False, 32, 137), (np.int16, False, True, 32, 181), (np.int8, False, True, 512, 113),
    (np.int8, False, True, 512, 164)])
def test_fully_connected_double_requantization_edges(monkeypatch, dtype, per_channel, bias, n, seed):
    monkeypatch.setattr(sys.modules[__name__], "rng", np.random.default_rng(seed))
    x = qdata((n, 29), dtype)
    content = fc_model(n, 29, 11, dtype, per_channel, "RELU", bias)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("asymmetric", [True, False])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_fully_connected_hybrid(per_channel, asymmetric, act):
    x = rng.standard_normal((6, 24)).astype(np.float32)
    x[1] = 0          # an all-zero row: scale 1, nothing but the bias
    x[2] = np.abs(x[2])
    w = weights((10, 24))
    ws = rng.uniform(0.01, 0.02, 10 if per_channel else 1).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    content = single_op_model(
        "FULLY_CONNECTED", [("x", x.shape), dict(name="w", data=w, quantization=(ws, np.zeros(len(ws), np.int64), 0)),
                            dict(name="b", data=b)], [("y", [1])],
        options=dict(fused_activation_function=act, asymmetric_quantize_inputs=asymmetric), version=12)
    assert_same_outputs(content, [x])


# --- pooling ---

@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("padding,filt,stride", [("SAME", (3, 3), (2, 2)), ("VALID", (2, 3), (1, 2))])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_pool(dtype, op, padding, filt, stride, act):
    x = qdata((2, 9, 7, 3), dtype)
    s, z = (0.05, zp(dtype)) if dtype != np.int16 else (0.001, 0)
    content = single_op_model(op, [qdesc("x", x.shape, dtype, s, z)], [qdesc("y", [1], dtype, s, z)],
                              options=dict(padding=padding, filter_height=filt[0], filter_width=filt[1],
                                           stride_h=stride[0], stride_w=stride[1], fused_activation_function=act))
    assert_same_outputs(content, [x])


# --- SOFTMAX ---

@pytest.mark.parametrize("beta", [1.0, 0.7])
@pytest.mark.parametrize("scale", [0.05, 0.3])
def test_softmax_int8(beta, scale):
    # tinylite follows LiteRT's optimized kernel (float exp table) by default.
    x = qdata((5, 3, 17), np.int8)
    content = single_op_model("SOFTMAX", [qdesc("x", x.shape, np.int8, scale, zp(np.int8))],
                              [qdesc("y", x.shape, np.int8, 1 / 256, -128)], options=dict(beta=beta))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("beta", [1.0, 0.7])
@pytest.mark.parametrize("scale", [0.05, 0.3])
def test_softmax_int8_reference(beta, scale):
    x = qdata((5, 3, 17), np.int8)
    content = single_op_model("SOFTMAX", [qdesc("x", x.shape, np.int8, scale, zp(np.int8))],
                              [qdesc("y", x.shape, np.int8, 1 / 256, -128)], options=dict(beta=beta))
    assert_same_outputs(content, [x], resolver="ref")


@pytest.mark.parametrize("scale", [1e-8, 1e-10, 1e-20])
def test_softmax_int8_tiny_input_scale(scale):
    """Logits whose calibrated range collapsed (a random-weight MobileNetV3's head): LiteRT's
    default kernel gives the uniform distribution, and so does tinylite; LiteRT's reference
    kernel aborts the process (its scaling multiplier must exceed 1, so it is not run here),
    where tinylite's fails prepare saying why and which resolver runs the model."""
    from oracle import run_tinylite

    x = qdata((3, 10), np.int8)
    content = single_op_model("SOFTMAX", [qdesc("x", x.shape, np.int8, scale, 0)],
                              [qdesc("y", x.shape, np.int8, 1 / 256, -128)], options=dict(beta=1.0))
    assert_same_outputs(content, [x], resolver="builtin")
    with pytest.raises(RuntimeError, match=r"SOFTMAX \(node 0\): the scale of input 'x' .* is at most 2\*\*-26.*"
                                           r"default op resolver"):
        run_tinylite(content, [x], "ref")


@pytest.mark.parametrize("scale", [0.0005, 0.003])
def test_softmax_int16(scale):
    x = qdata((4, 23), np.int16)
    content = single_op_model("SOFTMAX", [qdesc("x", x.shape, np.int16, scale, 0)],
                              [qdesc("y", x.shape, np.int16, 1 / 32768, 0)], options=dict(beta=1.0))
    assert_same_outputs(content, [x])


# --- TANH / LOGISTIC / PRELU ---

@pytest.mark.parametrize("op", ["TANH", "LOGISTIC"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_activation_8bit(op, dtype):
    x = np.arange(INFO[dtype].min, INFO[dtype].max + 1).astype(dtype).reshape(4, 64)
    out = (1 / 128, 0 if dtype == np.int8 else 128) if op == "TANH" else (1 / 256, -128 if dtype == np.int8 else 0)
    content = single_op_model(op, [qdesc("x", x.shape, dtype, 0.047, zp(dtype))], [qdesc("y", x.shape, dtype, *out)])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("op", ["TANH", "LOGISTIC"])
@pytest.mark.parametrize("scale", [0.00031, 1 / 4096])
def test_activation_int16(op, scale):
    # For the power-of-two scale 2**-12 LiteRT's optimized kernel switches to gemmlowp's
    # fixed-point functions; tinylite follows the reference (table) kernel.
    x = np.arange(-32768, 32768, 7).astype(np.int16)
    content = single_op_model(op, [qdesc("x", x.shape, np.int16, scale, 0)],
                              [qdesc("y", x.shape, np.int16, 1 / 32768, 0)])
    assert_same_outputs(content, [x], resolver="ref" if scale == 1 / 4096 else "builtin")


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("alpha_shape", [(1, 1, 4), (4,), (5, 6, 4)])
def test_prelu(dtype, alpha_shape):
    x = qdata((2, 5, 6, 4), dtype)
    alpha = qdata(alpha_shape, np.int8)
    xs, os_ = (0.05, 0.04) if dtype != np.int16 else (0.0005, 0.0004)
    content = single_op_model(
        "PRELU", [qdesc("x", x.shape, dtype, xs, zp(dtype)),
                  dict(name="a", data=alpha, quantization=(0.003, int(rng.integers(-10, 10))))],
        [qdesc("y", x.shape, dtype, os_, zp(dtype))])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_quantize_float_near_ties(dtype):
    # Values whose quotient x / scale lies within an ulp of a half: LiteRT's reference
    # divides in float32 (rounding the quotient onto the tie), the optimized tail in double.
    scale = np.float32(0.1 if dtype != np.int16 else 0.003)
    k = np.arange(-40, 40, dtype=np.float64) + 0.5
    base = (k * np.float64(scale)).astype(np.float32)
    x = np.concatenate([np.nextafter(base, np.float32(-np.inf)), base, np.nextafter(base, np.float32(np.inf))])
    x = x.astype(np.float32)
    f32 = x / scale
    f64 = x.astype(np.float64) / np.float64(scale)
    assert (np.floor(np.abs(f32) + 0.5) != np.floor(np.abs(f64) + 0.5)).any()   # the case is live
    x = x[: (len(x) // 8 - 1) * 8 + 3]    # a scalar tail of 3 after the 8-blocks
    content = single_op_model("QUANTIZE", [("x", x.shape)], [qdesc("y", x.shape, dtype, float(scale), zp(dtype))])
    assert_same_outputs(content, [x])
