"""Differential tests of the compute-heavy kernels: DEPTHWISE_CONV_2D,
TRANSPOSE_CONV, MEAN, SUM, REDUCE_MAX, BATCH_MATMUL, RESIZE_BILINEAR,
RESIZE_NEAREST_NEIGHBOR, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"]


def normal(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def const(name, value):
    return dict(name=name, data=value)


def batch_input(name, shape, dtype=np.float32):
    """An input whose batch dimension the feeds may resize."""
    return dict(name=name, shape=[1, *shape[1:]], shape_signature=[-1, *shape[1:]], dtype=dtype)


# --- DEPTHWISE_CONV_2D ---

def depthwise_model(x_shape, w, b, **options):
    options = dict(dict(padding="SAME", stride_h=1, stride_w=1, depth_multiplier=w.shape[3] // x_shape[3]), **options)
    inputs = [("x", x_shape), const("w", w)] + ([const("b", b)] if b is not None else [])
    return single_op_model("DEPTHWISE_CONV_2D", inputs, [("y", [1])], options=options)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dilation", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (1, 1)),
                                             ((1, 1), (2, 2)), ((2, 1), (1, 3)), ((3, 3), (1, 1))])
@pytest.mark.parametrize("multiplier", [1, 3])
def test_depthwise_conv_2d(padding, stride, dilation, multiplier):
    x = normal(2, 9, 8, 3)
    w = normal(1, 3, 3, 3 * multiplier)
    content = depthwise_model(x.shape, w, normal(3 * multiplier), padding=padding, stride_h=stride[0],
                              stride_w=stride[1], dilation_h_factor=dilation[0], dilation_w_factor=dilation[1])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("act", ACTS)
def test_depthwise_conv_2d_activation(act):
    x = normal(1, 6, 7, 4) * 4      # large enough for RELU6 to clip
    content = depthwise_model(x.shape, normal(1, 3, 2, 4), normal(4), fused_activation_function=act)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("kernel", [(1, 1), (5, 5), (2, 4), (7, 6)])
def test_depthwise_conv_2d_kernel_sizes(kernel):
    # (7, 6) is larger than the 5x6 input: SAME padding covers it.
    x = normal(1, 5, 6, 2)
    content = depthwise_model(x.shape, normal(1, *kernel, 4), normal(4), stride_h=2, stride_w=1)
    assert_same_outputs(content, [x])


def test_depthwise_conv_2d_ignores_depth_multiplier_option():
    # LiteRT derives the multiplier from the filter and input depths; the option is not read.
    x = normal(1, 5, 5, 2)
    content = depthwise_model(x.shape, normal(1, 3, 3, 4), normal(4), depth_multiplier=0)
    assert_same_outputs(content, [x])


def test_depthwise_conv_2d_no_bias():
    # LiteRT's optimized float kernel crashes (segfault) without a bias; its reference
    # kernels run the op, and the semantics are the same.  A bias omitted as -1 is
    # rejected ("Tensor at index 2 was optional but was expected"), so the op has 2 inputs.
    x = normal(1, 5, 6, 2)
    content = depthwise_model(x.shape, normal(1, 3, 3, 4), None, stride_h=2, stride_w=2)
    assert_same_outputs(content, [x], resolver="ref")


def test_depthwise_conv_2d_runtime_filter():
    x, w, b = normal(1, 6, 6, 3), normal(1, 3, 3, 6), normal(6)
    content = single_op_model("DEPTHWISE_CONV_2D", [("x", x.shape), ("w", w.shape), const("b", b)], [("y", [1])],
                              options=dict(padding="SAME", stride_h=1, stride_w=1, depth_multiplier=2))
    assert_same_outputs(content, [x, w])


def test_depthwise_conv_2d_batch_resize():
    x = normal(4, 8, 8, 3)
    content = single_op_model("DEPTHWISE_CONV_2D", [batch_input("x", x.shape), const("w", normal(1, 3, 3, 3)),
                                                    const("b", normal(3))], [("y", [1, 8, 8, 3])],
                              options=dict(padding="SAME", stride_h=2, stride_w=2, depth_multiplier=1))
    assert_same_outputs(content, [x])


# --- TRANSPOSE_CONV ---

def transpose_conv_model(out_shape, w, x_shape, b=None, shape_input=False, **options):
    options = dict(dict(padding="SAME", stride_h=1, stride_w=1), **options)
    shape = ("s", [4], np.int32) if shape_input else const("s", np.array(out_shape, np.int32))
    inputs = [shape, const("w", w), ("x", x_shape)] + ([const("b", b)] if b is not None else [])
    return single_op_model("TRANSPOSE_CONV", inputs, [("y", [1])], options=options)


@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (2, 1), (3, 2)])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 2), (1, 1), (4, 3)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_transpose_conv(stride, kernel, padding):
    x = normal(2, 4, 5, 3)
    w = normal(2, *kernel, 3)
    sizes = []
    for n, k, s in zip(x.shape[1:3], kernel, stride):
        # Every output size whose convolution back gives n, per TFLite's padding rule.
        sizes.append([n * s - s + 1, n * s] if padding == "SAME" else [(n - 1) * s + k + e for e in range(s)])
    for h in sizes[0]:
        for wd in sizes[1]:
            content = transpose_conv_model([2, h, wd, 2], w, x.shape, normal(2), padding=padding,
                                           stride_h=stride[0], stride_w=stride[1])
            assert_same_outputs(content, [x])


@pytest.mark.parametrize("act", ACTS)
def test_transpose_conv_activation_no_bias(act):
    x = normal(1, 3, 3, 4) * 4
    content = transpose_conv_model([1, 6, 6, 3], normal(3, 3, 3, 4), x.shape, padding="SAME", stride_h=2,
                                   stride_w=2, fused_activation_function=act)
    assert_same_outputs(content, [x])


def test_transpose_conv_runtime_weights():
    x, w = normal(1, 3, 4, 2), normal(3, 2, 3, 2)
    content = single_op_model("TRANSPOSE_CONV", [const("s", np.array([1, 6, 8, 3], np.int32)), ("w", w.shape),
                                                 ("x", x.shape), const("b", normal(3))], [("y", [1])],
                              options=dict(padding="SAME", stride_h=2, stride_w=2))
    assert_same_outputs(content, [w, x])


def test_transpose_conv_runtime_output_shape_and_batch():
    x = normal(3, 4, 4, 2)
    content = transpose_conv_model(None, normal(5, 3, 3, 2), [1, 4, 4, 2], normal(5), shape_input=True,
                                   padding="SAME", stride_h=2, stride_w=2)
    assert_same_outputs(content, [np.array([3, 7, 8, 5], np.int32), x])


def test_transpose_conv_rejects_inconsistent_output_shape():
    # A 9x9 output would convolve back to 5x5, not to the 4x4 input; LiteRT refuses it too.
    x = normal(1, 4, 4, 3)
    content = transpose_conv_model([1, 9, 9, 2], normal(2, 3, 3, 3), x.shape, stride_h=2, stride_w=2)
    with pytest.raises(RuntimeError, match="computed_input_height"):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="maps output size 9x9 to 5x5"):
        run_tinylite(content, [x])


# --- MEAN, SUM, REDUCE_MAX ---

def reduce_model(op, x_shape, axes, keep_dims, dtype=np.float32, axis_input=False):
    axis = ("a", [len(axes)], np.int32) if axis_input else const("a", np.array(axes, np.int32))
    return single_op_model(op, [("x", x_shape, dtype), axis], [("y", [1], dtype)], options=dict(keep_dims=keep_dims))


REDUCE_CASES = [((2, 3, 4), [1]), ((2, 3, 4), [-1]), ((2, 3, 4), [0, 2]), ((2, 3, 4), [2, 0]),
                ((2, 3, 4), [1, 1]), ((2, 3, 4), [-1, 2, 0]), ((2, 3, 4), []), ((2, 3, 4), [0, 1, 2]),
                ((7,), [0]), ((2, 5, 5, 3), [1, 2]), ((2, 1, 3, 2, 5), [-2, 1, 3])]


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
@pytest.mark.parametrize("shape,axes", REDUCE_CASES)
@pytest.mark.parametrize("keep_dims", [False, True])
def test_reduce_float(op, shape, axes, keep_dims):
    x = normal(*shape)
    assert_same_outputs(reduce_model(op, shape, axes, keep_dims), [x])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("axes,keep_dims", [([1], False), ([0, -1], True), ([], False), ([2, 1, 0], False)])
def test_reduce_int(op, dtype, axes, keep_dims):
    # Negative values check that integer means truncate toward zero.
    x = rng.integers(-50, 50, (3, 4, 5)).astype(dtype)
    assert_same_outputs(reduce_model(op, x.shape, axes, keep_dims, dtype), [x])


def test_sum_int32_wraps_around():
    x = np.full((4, 3), 2 ** 30 + 7, np.int32)
    x[1] = -(2 ** 31)
    assert_same_outputs(reduce_model("SUM", x.shape, [0], False, np.int32), [x])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
def test_reduce_runtime_axes(op):
    x = normal(3, 4, 5)
    content = reduce_model(op, x.shape, [0, 0], False, axis_input=True)
    assert_same_outputs(content, [x, np.array([-1, 0], np.int32)])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("shape,axes", [((0, 3), [0]), ((2, 0, 3), [1]), ((2, 0), [0]), ((), [0]), ((), [])])
def test_reduce_empty_and_scalar(op, dtype, shape, axes):
    # Empty reductions give NaN (MEAN float), 0 (MEAN int, SUM) or the lowest value (REDUCE_MAX);
    # a scalar input ignores the axes.
    # Compared exactly here: assert_same_outputs scales its tolerance by max |reference|,
    # which is NaN for an all-NaN output.
    x = rng.integers(-5, 5, shape).astype(dtype)
    content = reduce_model(op, shape, axes, False, dtype)
    (want,), (got,) = run_litert(content, [x]), run_tinylite(content, [x])
    assert got.shape == np.shape(want) and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_mean_large_float():
    # Many terms: float32 accumulation, divided by the count.
    x = rng.uniform(0, 10, (2, 1000, 30)).astype(np.float32)
    assert_same_outputs(reduce_model("MEAN", x.shape, [1], True), [x])


def test_reduce_batch_resize():
    x = normal(5, 4, 4, 3)
    for op in ["MEAN", "SUM", "REDUCE_MAX"]:
        content = single_op_model(op, [batch_input("x", x.shape), const("a", np.array([1, 2], np.int32))],
                                  [("y", [1, 3])], options=dict(keep_dims=False))
        assert_same_outputs(content, [x])


# --- BATCH_MATMUL ---

def matmul_shapes(a, b, adj_x, adj_y):
    """Shapes of x and y for [.., a] @ [.., b] given as non-adjoint [m, k], [k, n]."""
    *ba, m, k = a
    *bb, k2, n = b
    return (*ba, *((k, m) if adj_x else (m, k))), (*bb, *((n, k2) if adj_y else (k2, n)))


@pytest.mark.parametrize("adj_x", [False, True])
@pytest.mark.parametrize("adj_y", [False, True])
@pytest.mark.parametrize("a,b", [((2, 3), (3, 4)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (1, 5, 4, 2)),
                                 ((3, 4), (2, 2, 4, 5)), ((2, 1, 2, 3, 4), (1, 3, 1, 4, 2)),
                                 ((1, 2, 2, 3, 4), (2, 1, 1, 4, 3)), ((5, 1, 6), (6, 1))])
@pytest.mark.parametrize("const_rhs", [False, True])
def test_batch_matmul(adj_x, adj_y, a, b, const_rhs):
    xs, ys = matmul_shapes(a, b, adj_x, adj_y)
    x, y = normal(*xs), normal(*ys)
    rhs = const("y", y) if const_rhs else ("y", ys)
    content = single_op_model("BATCH_MATMUL", [("x", xs), rhs], [("z", [1])], options=dict(adj_x=adj_x, adj_y=adj_y))
    assert_same_outputs(content, [x] if const_rhs else [x, y])


def test_batch_matmul_batch_resize():
    x = normal(6, 3, 4)
    content = single_op_model("BATCH_MATMUL", [batch_input("x", x.shape), const("y", normal(4, 5))], [("z", [1, 3, 5])])
    assert_same_outputs(content, [x])


# --- RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR ---

RESIZE_SIZES = [((4, 5), (8, 10)), ((4, 5), (7, 13)), ((9, 7), (4, 3)), ((3, 3), (1, 1)), ((1, 1), (3, 2)),
                ((5, 6), (5, 6)), ((2, 7), (9, 2)), ((6, 4), (11, 8))]
RESIZE_MODES = [(False, False), (True, False), (False, True)]


def resize_model(op, x_shape, size, dtype=np.float32, size_input=False, **options):
    size_spec = ("s", [2], np.int32) if size_input else const("s", np.array(size, np.int32))
    return single_op_model(op, [("x", x_shape, dtype), size_spec], [("y", [1], dtype)], options=options)


@pytest.mark.parametrize("op", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize("hw,size", RESIZE_SIZES)
@pytest.mark.parametrize("align,half", RESIZE_MODES)
def test_resize_float(op, hw, size, align, half):
    x = normal(2, *hw, 3)
    content = resize_model(op, x.shape, size, align_corners=align, half_pixel_centers=half)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("hw,size", [((4, 5), (7, 13)), ((9, 7), (4, 3)), ((1, 1), (3, 2)), ((2, 7), (9, 2)),
                                     ((3, 5), (9, 20)), ((7, 3), (3, 7))])
@pytest.mark.parametrize("align,half", RESIZE_MODES + [(True, True)])
@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.int16, np.int8, np.uint8, np.bool_])
def test_resize_nearest_neighbor_types(hw, size, align, half, dtype):
    # A pure copy for every 8/16/32-bit type; 8-bit types take LiteRT's fixed-point index path.
    # align_corners together with half_pixel_centers is accepted here (not by RESIZE_BILINEAR).
    x = rng.integers(0, 100, (1, *hw, 2)).astype(dtype)
    content = resize_model("RESIZE_NEAREST_NEIGHBOR", x.shape, size, dtype, align_corners=align,
                           half_pixel_centers=half)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8, np.int8])
def test_resize_nearest_neighbor_index_rounding(dtype):
    # 26 -> 22 and 14 -> 46 are sizes where floor(y * float32(in / out)) (float, 16- and 32-bit
    # types) and LiteRT's 16.16 fixed-point index of 8-bit types pick different source pixels.
    x = rng.integers(0, 100, (1, 26, 14, 1)).astype(dtype)
    assert_same_outputs(resize_model("RESIZE_NEAREST_NEIGHBOR", x.shape, (22, 46), dtype), [x])


def test_resize_bilinear_rejects_align_corners_with_half_pixel_centers():
    x = normal(1, 3, 3, 1)
    content = resize_model("RESIZE_BILINEAR", x.shape, (5, 5), align_corners=True, half_pixel_centers=True)
    with pytest.raises(RuntimeError, match="align_corners must be False"):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="cannot both be true"):
        run_tinylite(content, [x])


@pytest.mark.parametrize("op", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
def test_resize_runtime_size_and_batch(op):
    x = normal(3, 5, 4, 2)
    content = single_op_model(op, [batch_input("x", x.shape), ("s", [2], np.int32)], [("y", [1])],
                              options=dict(half_pixel_centers=True))
    assert_same_outputs(content, [x, np.array([7, 9], np.int32)])


# --- FULLY_CONNECTED ---

@pytest.mark.parametrize("x_shape,keep_num_dims", [
    ((3, 4), False), ((2, 3, 4), False), ((2, 2, 3, 4), False), ((4,), False), ((6, 2), False),
    ((3, 4), True), ((2, 3, 4), True), ((2, 2, 3, 4), True), ((4,), True)])
@pytest.mark.parametrize("bias", ["const", "none", "omitted"])
def test_fully_connected(x_shape, keep_num_dims, bias):
    # (6, 2) with depth 4: without keep_num_dims the input is regrouped into rows of 4
    # (keep_num_dims needs the last dimension to equal the depth).
    x, w = normal(*x_shape), normal(5, 4)
    extra = {"const": [const("b", normal(5))], "none": [None], "omitted": []}[bias]
    content = single_op_model("FULLY_CONNECTED", [("x", x_shape), const("w", w)] + extra, [("y", [1])],
                              options=dict(keep_num_dims=keep_num_dims))
    assert_same_outputs(content, [x])


def fc_activation_model(act):
    # Used with inputs scaled so that RELU6 clips.
    return single_op_model("FULLY_CONNECTED", [("x", (3, 6)), const("w", normal(4, 6)), const("b", normal(4))],
                           [("y", [1])], options=dict(fused_activation_function=act))


@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_fully_connected_activation(act):
    assert_same_outputs(fc_activation_model(act), [normal(3, 6) * 4])


@pytest.mark.parametrize("act", ["TANH", "SIGN_BIT"])
@pytest.mark.parametrize("kind", ["float32", "int8", "int16"])
def test_fully_connected_rejects_non_clipping_activation(act, kind):
    # Unlike most ops (which run a fused TANH as no activation), FULLY_CONNECTED refuses a
    # non-clipping activation outside its hybrid path, for float and integer inputs alike.
    if kind == "float32":
        content, x = fc_activation_model(act), normal(3, 6)
    else:
        dtype = np.dtype(kind)
        q = (0.05, 3) if kind == "int8" else (0.001, 0)
        w = dict(name="w", data=np.ones((4, 6), np.int8), quantization=(0.02, 0))
        content = single_op_model("FULLY_CONNECTED", [dict(name="x", shape=[3, 6], dtype=dtype, quantization=q), w],
                                  [dict(name="y", shape=[3, 4], dtype=dtype, quantization=q)],
                                  options=dict(fused_activation_function=act))
        x = np.ones((3, 6), dtype)
    with pytest.raises(RuntimeError, match="kTfLiteActRelu6 was not true"):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match=f"fused_activation_function is {act}.*refuses to load this file"):
        run_tinylite(content, [x])


def test_fully_connected_runtime_weights():
    x, w, b = normal(2, 3, 6), normal(4, 6), normal(4)
    content = single_op_model("FULLY_CONNECTED", [("x", x.shape), ("w", w.shape), ("b", b.shape)], [("y", [1])],
                              options=dict(keep_num_dims=True))
    assert_same_outputs(content, [x, w, b])


@pytest.mark.parametrize("keep_num_dims", [False, True])
def test_fully_connected_batch_resize(keep_num_dims):
    x = normal(7, 3, 6)
    content = single_op_model("FULLY_CONNECTED", [batch_input("x", x.shape), const("w", normal(4, 6)),
                                                  const("b", normal(4))], [("y", [1])],
                              options=dict(keep_num_dims=keep_num_dims))
    assert_same_outputs(content, [x])


# --- MAX_POOL_2D, AVERAGE_POOL_2D ---

def pool_model(op, x_shape, filt, stride, padding, act="NONE", batch=False):
    x = batch_input("x", x_shape) if batch else ("x", x_shape)
    return single_op_model(op, [x], [("y", [1])], options=dict(
        padding=padding, filter_height=filt[0], filter_width=filt[1], stride_h=stride[0], stride_w=stride[1],
        fused_activation_function=act))


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("filt,stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((3, 2), (1, 1)), ((2, 3), (3, 2)),
                                         ((1, 1), (2, 2)), ((5, 4), (1, 3)), ((7, 5), (1, 1))])
def test_pool(op, padding, filt, stride):
    # Odd 7x5 input; filters larger than strides overlap, (1, 1) / (2, 3) skip input pixels,
    # (7, 5) with SAME averages over windows that are mostly padding.
    x = normal(2, 7, 5, 3)
    assert_same_outputs(pool_model(op, x.shape, filt, stride, padding), [x])


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("act", ACTS)
def test_pool_activation(op, act):
    x = normal(1, 6, 6, 2) * 8 + 2   # averages spread over [-1, 6] and beyond
    assert_same_outputs(pool_model(op, x.shape, (3, 3), (2, 2), "SAME", act), [x])


def test_average_pool_same_counts_only_inside_elements():
    # Constant input: every average is exactly the constant only if padding is not counted.
    x = np.full((1, 5, 5, 1), 2.0, np.float32)
    got, _ = assert_same_outputs(pool_model("AVERAGE_POOL_2D", x.shape, (4, 4), (3, 3), "SAME"), [x])
    assert np.all(got[0] == 2.0)


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
def test_pool_filter_larger_than_input_valid_is_empty(op):
    x = normal(1, 3, 3, 2)
    got, _ = assert_same_outputs(pool_model(op, x.shape, (4, 4), (2, 2), "VALID"), [x])
    assert got[0].shape == (1, 0, 0, 2)


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
def test_pool_batch_resize(op):
    x = normal(4, 8, 7, 3)
    assert_same_outputs(pool_model(op, x.shape, (3, 3), (2, 2), "SAME", batch=True), [x])
