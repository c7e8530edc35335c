"""More quantized kernels against LiteRT (ADD, SUB, MUL, the RELU family,
LEAKY_RELU, HARD_SWISH, CONCATENATION, DEPTHWISE_CONV_2D, MEAN, BATCH_MATMUL),
with random scales and zero points, per-tensor and per-channel.  Integer
outputs must match exactly (max_lsb=0); the resolver is LiteRT's default one
unless a test says otherwise (see tinylite/kernels/_quantization.py)."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(11)
INFO = {np.int8: np.iinfo(np.int8), np.uint8: np.iinfo(np.uint8), np.int16: np.iinfo(np.int16)}


def qdesc(name, shape, dtype, scale, zero_point=0, **kw):
    return dict(name=name, shape=list(shape), dtype=dtype, quantization=(float(scale), int(zero_point)), **kw)


def qdata(shape, dtype):
    i = INFO[dtype]
    return rng.integers(i.min, i.max + 1, shape).astype(dtype)


def every_value(dtype, shape=None):
    """All values of an 8-bit type (a few times, shuffled), so tables are checked entirely."""
    i = INFO[dtype]
    v = rng.permutation(np.tile(np.arange(i.min, i.max + 1), 2)).astype(dtype)
    return v.reshape(shape) if shape else v


def zp(dtype):
    return 0 if dtype == np.int16 else int(rng.integers(-20, 21)) + (128 if dtype == np.uint8 else 0)


def scale(dtype, lo=0.01, hi=0.1):
    s = float(rng.uniform(lo, hi))
    return s / 256 if dtype == np.int16 else s


# --- ADD / SUB / MUL ---

def mul_out_scale(s1, s2, dtype):
    # Products of centered values reach 2**14 (8-bit) or 2**30 (int16): keep most unsaturated.
    return s1 * s2 * float(rng.uniform(60, 150) if dtype != np.int16 else rng.uniform(2e4, 6e4))


BROADCASTS = [((3, 37), (3, 37)), ((2, 5, 7), (7,)), ((1, 6), (4, 1)), ((2, 1, 3, 17), (2, 4, 1, 1)), ((), (3, 19)),
              ((5, 1, 3), (5, 4, 3))]


# uint8: every shape for ADD, one for SUB and MUL.
BINARY_CASES = [(op, dtype, shapes) for op in ["ADD", "SUB", "MUL"] for dtype in [np.int8, np.uint8, np.int16]
                for shapes in BROADCASTS if dtype != np.uint8 or op == "ADD" or shapes == BROADCASTS[0]]


@pytest.mark.parametrize("op,dtype,shapes", BINARY_CASES)
def test_binary(op, dtype, shapes):
    a, b = qdata(shapes[0], dtype), qdata(shapes[1], dtype)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    s = [scale(dtype) for _ in range(3)]
    if op == "MUL":
        s[2] = mul_out_scale(s[0], s[1], dtype)
    content = single_op_model(op, [qdesc("a", a.shape, dtype, s[0], zp(dtype)), qdesc("b", b.shape, dtype, s[1], zp(dtype))],
                              [qdesc("y", out_shape, dtype, s[2], zp(dtype))],
                              options=dict(pot_scale_int16=False) if op != "MUL" else None)
    assert_same_outputs(content, [a, b])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_binary_activation(op, act, dtype):
    a, b = qdata((4, 33), dtype), qdata((4, 33), dtype)
    s = [scale(dtype, 0.02, 0.05) for _ in range(3)]
    if op == "MUL":
        s[2] = mul_out_scale(s[0], s[1], dtype)
    opts = dict(fused_activation_function=act)
    if op != "MUL":
        opts["pot_scale_int16"] = False
    content = single_op_model(op, [qdesc("a", a.shape, dtype, s[0], zp(dtype)), qdesc("b", b.shape, dtype, s[1], zp(dtype))],
                              [qdesc("y", a.shape, dtype, s[2], zp(dtype))], options=opts)
    assert_same_outputs(content, [a, b])


def test_binary_int8_every_pair():
    # All 65536 input pairs, with very different input scales.
    a = np.repeat(np.arange(-128, 128), 256).astype(np.int8)
    b = np.tile(np.arange(-128, 128), 256).astype(np.int8)
    for op, scales in [("ADD", (0.002, 0.13, 0.11)), ("SUB", (0.07, 0.003, 0.05)), ("MUL", (0.05, 0.03, 0.4))]:
        content = single_op_model(op, [qdesc("a", a.shape, np.int8, scales[0], 7), qdesc("b", b.shape, np.int8, scales[1], -3)],
                                  [qdesc("y", a.shape, np.int8, scales[2], 5)])
        assert_same_outputs(content, [a, b])


@pytest.mark.parametrize("op", ["ADD", "SUB"])
@pytest.mark.parametrize("logs", [(-12, -12, -12), (-14, -12, -12), (-11, -13, -11)])
def test_binary_int16_pot(op, logs):
    # pot_scale_int16 (the schema default) with power-of-two scales: TFLite shifts one input.
    a, b = qdata((5, 21), np.int16), qdata((5, 21), np.int16)
    content = single_op_model(op, [qdesc("a", a.shape, np.int16, 2.0 ** logs[0]), qdesc("b", b.shape, np.int16, 2.0 ** logs[1])],
                              [qdesc("y", a.shape, np.int16, 2.0 ** logs[2])])
    assert_same_outputs(content, [a, b])


# --- RELU family, LEAKY_RELU, HARD_SWISH ---

# LiteRT has no int16 RELU_N1_TO_1.
RELU_CASES = [(op, dtype) for op in ["RELU", "RELU6", "RELU_N1_TO_1"] for dtype in [np.int8, np.uint8, np.int16]
              if not (op == "RELU_N1_TO_1" and dtype == np.int16)]


@pytest.mark.parametrize("op,dtype", RELU_CASES)
def test_relu(op, dtype):
    x = every_value(dtype, (4, 128)) if dtype != np.int16 else qdata((7, 61), dtype)
    for out_scale in (0.031, 0.011):
        s_in = 0.043 if dtype != np.int16 else 0.043 / 256
        s_out = out_scale if dtype != np.int16 else out_scale / 256
        content = single_op_model(op, [qdesc("x", x.shape, dtype, s_in, zp(dtype))], [qdesc("y", x.shape, dtype, s_out, zp(dtype))])
        assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.7, -0.3])
def test_leaky_relu(dtype, alpha):
    x = every_value(dtype, (4, 128)) if dtype != np.int16 else qdata((9, 77), dtype)
    content = single_op_model("LEAKY_RELU", [qdesc("x", x.shape, dtype, scale(dtype), zp(dtype))],
                              [qdesc("y", x.shape, dtype, scale(dtype), zp(dtype))], options=dict(alpha=alpha))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("scales", [(0.05, 0.03), (0.1, 0.09), (0.02, 0.05), (0.3, 0.2)])
def test_hard_swish(dtype, scales):
    x = every_value(dtype, (8, 64))
    content = single_op_model("HARD_SWISH", [qdesc("x", x.shape, dtype, scales[0], zp(dtype))],
                              [qdesc("y", x.shape, dtype, scales[1], zp(dtype))])
    assert_same_outputs(content, [x])


# --- CONCATENATION ---

@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
@pytest.mark.parametrize("axis", [0, -1, 1])
def test_concatenation_rescale(dtype, axis):
    shapes = [(2, 3, 5), (2, 3, 5), (2, 3, 5)]
    shapes = [tuple(d + k if i == axis % 3 else d for i, d in enumerate(s)) for k, s in enumerate(shapes)]
    xs = [qdata(s, dtype) for s in shapes]
    out_shape = np.concatenate(xs, axis=axis).shape
    zps = [zp(dtype) for _ in xs]
    # The first input shares the output grid (copied), the others are requantized (uint8).
    inputs = [qdesc(f"x{i}", x.shape, dtype, 0.02 if i == 0 else scale(dtype), zps[0] if i == 0 else zps[i])
              for i, x in enumerate(xs)]
    content = single_op_model("CONCATENATION", inputs, [qdesc("y", out_shape, dtype, 0.02, zps[0])],
                              options=dict(axis=axis))
    assert_same_outputs(content, xs)


# --- DEPTHWISE_CONV_2D ---

def depthwise_model(x_shape, dtype, w, per_channel, act="NONE", padding="SAME", stride=(1, 1), dilation=(1, 1)):
    cout = w.shape[3]
    xs = scale(dtype, 0.01, 0.05)
    ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
    b = rng.integers(-3000, 3000, cout).astype(np.int64 if dtype == np.int16 else np.int32)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    out_scale = xs * float(ws.mean()) * w.shape[1] * w.shape[2] * (20 if dtype != np.int16 else 5000)
    wq = (ws, np.zeros(len(ws), np.int64), 3)
    return single_op_model(
        "DEPTHWISE_CONV_2D", [qdesc("x", x_shape, dtype, xs, zp(dtype)), dict(name="w", data=w, quantization=wq),
                              dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
        [qdesc("y", [1], dtype, out_scale, zp(dtype))],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function=act,
                     depth_multiplier=cout // x_shape[3]))


def dw_weights(kh, kw, cout):
    return rng.integers(-127, 128, (1, kh, kw, cout)).astype(np.int8)


DW_CASES = [  # (input shape, filter (kh, kw, cout), padding, stride, dilation)
    ((2, 9, 8, 3), (3, 3, 3), "SAME", (1, 1), (1, 1)),
    ((1, 7, 9, 4), (3, 2, 8), "VALID", (2, 1), (1, 1)),       # depth multiplier 2
    ((1, 8, 8, 13), (3, 3, 13), "SAME", (2, 2), (1, 1)),      # 8 NEON channels + 5 scalar ones
    ((2, 6, 7, 16), (2, 3, 16), "SAME", (1, 1), (2, 1)),
    ((1, 5, 5, 2), (3, 3, 10), "VALID", (1, 1), (1, 2)),
]


@pytest.mark.parametrize("case", DW_CASES)
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_depthwise_int8(case, per_channel, act):
    x_shape, (kh, kw, cout), padding, stride, dilation = case
    x = qdata(x_shape, np.int8)
    content = depthwise_model(x_shape, np.int8, dw_weights(kh, kw, cout), per_channel, act, padding, stride, dilation)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("case", DW_CASES[:3])
@pytest.mark.parametrize("per_channel", [True, False])
def test_depthwise_int16x8(case, per_channel):
    x_shape, (kh, kw, cout), padding, stride, dilation = case
    x = qdata(x_shape, np.int16)
    content = depthwise_model(x_shape, np.int16, dw_weights(kh, kw, cout), per_channel, "RELU", padding, stride,
                              dilation)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("case", DW_CASES)
def test_depthwise_uint8(case):
    # uint8 filters carry a zero point; one scale for the tensor.
    x_shape, (kh, kw, cout), padding, stride, dilation = case
    x = qdata(x_shape, np.uint8)
    w = rng.integers(0, 256, (1, kh, kw, cout)).astype(np.uint8)
    xs, ws = 0.02, np.float32(0.005)
    b = rng.integers(-3000, 3000, cout).astype(np.int32)
    content = single_op_model(
        "DEPTHWISE_CONV_2D", [qdesc("x", x_shape, np.uint8, xs, zp(np.uint8)), dict(name="w", data=w, quantization=(ws, 120)),
                              dict(name="b", data=b, quantization=(np.float32(xs) * ws, 0))],
        [qdesc("y", [1], np.uint8, xs * 0.005 * kh * kw * 30, zp(np.uint8))],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function="RELU", depth_multiplier=cout // x_shape[3]))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("case", DW_CASES[:4])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_depthwise_hybrid(case, act):
    x_shape, (kh, kw, cout), padding, stride, dilation = case
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = dw_weights(kh, kw, cout)
    ws = rng.uniform(0.01, 0.02, cout).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    content = single_op_model(
        "DEPTHWISE_CONV_2D", [("x", x_shape), dict(name="w", data=w, quantization=(ws, np.zeros(cout, np.int64), 3)),
                              dict(name="b", data=b)], [("y", [1])],
        options=dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                     dilation_w_factor=dilation[1], fused_activation_function=act, depth_multiplier=cout // x_shape[3]))
    assert_same_outputs(content, [x])


# --- MEAN ---

MEAN_CASES = [((2, 5, 7, 19), [1, 2], True), ((2, 5, 7, 35), [2, 1], True), ((1, 3, 4, 8), [1, 2], False),
              ((3, 4, 6), [-1], False), ((2, 3, 4, 5), [0, 2], True), ((4, 50), [0, 1], False), ((3, 9, 2), [1], True)]


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("case", MEAN_CASES)
def test_mean(dtype, case):
    shape, axes, keep = case
    x = qdata(shape, dtype)
    out_shape = np.mean(x, axis=tuple(axes), keepdims=keep).shape
    for scales in [(0.05, 0.05), (0.05, 0.013), (0.02, 0.07)]:
        s_in, s_out = (s / 256 for s in scales) if dtype == np.int16 else scales
        content = single_op_model("MEAN", [qdesc("x", shape, dtype, s_in, zp(dtype)),
                                           dict(name="axes", data=np.array(axes, np.int32))],
                                  [qdesc("y", out_shape, dtype, s_out, zp(dtype))], options=dict(keep_dims=keep))
        assert_same_outputs(content, [x])


# --- BATCH_MATMUL ---

BMM_CASES = [((3, 17), (17, 5), False, False), ((2, 4, 9), (2, 9, 6), False, True), ((2, 1, 3, 7), (4, 7, 5), True, False),
             ((5, 8), (3, 8, 4), True, True)]


def bmm_shapes(case):
    xs, ys, adj_x, adj_y = case
    xs = xs[:-2] + xs[-2:][::-1] if adj_x else xs
    ys = ys[:-2] + ys[-2:][::-1] if adj_y else ys
    return xs, ys, adj_x, adj_y


@pytest.mark.parametrize("dtypes", [(np.int8, np.int8), (np.int16, np.int16), (np.int16, np.int8)])
@pytest.mark.parametrize("case", BMM_CASES)
def test_batch_matmul(dtypes, case):
    xs, ys, adj_x, adj_y = bmm_shapes(case)
    dx, dy = dtypes
    x, y = qdata(xs, dx), qdata(ys, dy)
    sx, sy = scale(dx), scale(dy)
    depth = case[0][-1]
    so = sx * sy * np.sqrt(depth) * (60 if dx != np.int16 else 2e4 if dy == np.int16 else 150)
    # int16 inputs need zero points of 0 on both sides.
    zy = 0 if dx == np.int16 else zp(dy)
    content = single_op_model("BATCH_MATMUL", [qdesc("x", xs, dx, sx, zp(dx)), qdesc("y", ys, dy, sy, zy)],
                              [qdesc("z", [1], dx, so, zp(dx))], options=dict(adj_x=adj_x, adj_y=adj_y))
    assert_same_outputs(content, [x, y])


@pytest.mark.parametrize("case", BMM_CASES)
@pytest.mark.parametrize("asymmetric", [False, True])
def test_batch_matmul_hybrid(case, asymmetric):
    xs, ys, adj_x, adj_y = bmm_shapes(case)
    x = rng.standard_normal(xs).astype(np.float32)
    y = rng.integers(-127, 128, ys).astype(np.int8)
    content = single_op_model("BATCH_MATMUL", [("x", xs), dict(name="y", data=y, quantization=(0.013, 0))], [("z", [1])],
                              options=dict(adj_x=adj_x, adj_y=adj_y, asymmetric_quantize_inputs=asymmetric))
    assert_same_outputs(content, [x])


# --- GELU ---

@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("scales", [(0.05, 0.03), (0.02, 0.02), (0.1, 0.05)])
def test_gelu(dtype, approximate, scales):
    x = every_value(dtype, (8, 64)) if dtype != np.int16 else np.arange(-32768, 32768, 5).astype(np.int16)
    if dtype == np.int16:
        scales = (scales[0] / 128, scales[1] / 128)
    content = single_op_model("GELU", [qdesc("x", x.shape, dtype, scales[0], zp(dtype))],
                              [qdesc("y", x.shape, dtype, scales[1], zp(dtype))], options=dict(approximate=approximate))
    assert_same_outputs(content, [x])


# --- EXP ---

@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("scales", [(0.02, 0.05), (0.01, 0.01), (0.03, 0.2)])
def test_exp(dtype, scales):
    x = every_value(dtype, (8, 64)) if dtype != np.int16 else np.arange(-32768, 32768, 5).astype(np.int16)
    if dtype == np.int16:
        scales = (scales[0] / 128, scales[1] / 8)
    content = single_op_model("EXP", [qdesc("x", x.shape, dtype, scales[0], zp(dtype))],
                              [qdesc("y", x.shape, dtype, scales[1], zp(dtype) if dtype == np.int8 else 0)])
    assert_same_outputs(content, [x])
