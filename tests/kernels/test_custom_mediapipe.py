"""MediaPipe's custom ops against LiteRT, which runs them only through XNNPACK
(its default resolver): Convolution2DTransposeBias, MaxPoolingWithArgmax2D,
MaxUnpooling2D.  Float32 results within float32 rounding of XNNPACK's sums."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def struct(*values):
    return np.array(values, "<i4").tobytes()


def transpose_conv_bias(x, w, b, padding, stride):
    k = w.shape[1]
    hw = x.shape[1:3]
    pad = [max(0, k - (d - 1) % stride - 1) if padding == 1 else 0 for d in hw]
    out = [x.shape[0]] + [stride * (d - 1) + k - p for d, p in zip(hw, pad)] + [w.shape[0]]
    return out, single_op_model("Convolution2DTransposeBias",
                                [("x", list(x.shape)), dict(name="w", data=w), dict(name="b", data=b)],
                                [("y", out)], custom_options=struct(padding, stride, stride))


@pytest.mark.parametrize("padding", [1, 2])
@pytest.mark.parametrize("stride,k", [(2, 2), (2, 3), (1, 3), (3, 2), (2, 4)])
@pytest.mark.parametrize("hw", [(5, 7), (4, 4)])
def test_convolution_2d_transpose_bias_as_builtin(padding, stride, k, hw):
    # Every case, XNNPACK's or not, equals LiteRT's builtin TRANSPOSE_CONV with a bias input.
    cin, cout = 6, 5
    x = rng.standard_normal((2, *hw, cin)).astype(np.float32)
    w = rng.standard_normal((cout, k, k, cin)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    out, content = transpose_conv_bias(x, w, b, padding, stride)
    builtin = single_op_model("TRANSPOSE_CONV", [dict(name="s", data=np.array(out, np.int32)), dict(name="w", data=w),
                                                 ("x", list(x.shape)), dict(name="b", data=b)], [("y", out)],
                              options=dict(padding="SAME" if padding == 1 else "VALID", stride_w=stride,
                                           stride_h=stride), version=3)
    want = run_litert(builtin, [x])[0]
    got = run_tinylite(content, [x])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", [1, 2])
@pytest.mark.parametrize("stride,k", [(2, 2), (2, 3), (1, 3), (2, 4)])
@pytest.mark.parametrize("hw", [(5, 7), (4, 4)])
def test_convolution_2d_transpose_bias(padding, stride, k, hw):
    cin, cout = 6, 5
    x = rng.standard_normal((2, *hw, cin)).astype(np.float32)
    w = rng.standard_normal((cout, k, k, cin)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    _, content = transpose_conv_bias(x, w, b, padding, stride)
    assert_same_outputs(content, [x], resolver="auto", rtol=1e-5)


def pool_model(x_shape, padding, stride, k, act=0):
    n, h, w, c = x_shape
    size = [(d + stride - 1) // stride if padding == 1 else (d - k + stride) // stride for d in (h, w)]
    out = [n, *size, c]
    return single_op_model("MaxPoolingWithArgmax2D", [("x", list(x_shape))], [("y", out), ("i", out)],
                           custom_options=struct(padding, stride, stride, k, k, act))


def same_pool(got, want):
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1].view(np.uint32), want[1].view(np.uint32))


@pytest.mark.parametrize("padding", [1, 2])
@pytest.mark.parametrize("stride,k", [(2, 2), (3, 3), (4, 4)])
def test_max_pooling_with_argmax_2d(padding, stride, k):
    x = rng.standard_normal((2, 7, 8, 3)).astype(np.float32)
    content = pool_model(x.shape, padding, stride, k)
    same_pool(run_tinylite(content, [x]), run_litert(content, [x], "auto"))


def test_max_pooling_with_argmax_2d_ties():
    x = np.round(rng.standard_normal((1, 9, 9, 4))).astype(np.float32)     # many equal maxima
    content = pool_model(x.shape, 1, 3, 3)
    same_pool(run_tinylite(content, [x]), run_litert(content, [x], "auto"))


def test_max_pooling_with_argmax_2d_mediapipe_encoding_and_activation(monkeypatch):
    from tinylite.kernels.custom import max_pooling_with_argmax_2d as pooling

    monkeypatch.setattr(pooling, "INDEX_ENCODING", "mediapipe")
    x = np.array([[1, 5, -3], [7, 2, 9], [0, -8, 4]], np.float32).reshape(1, 3, 3, 1)
    vals, idx = run_tinylite(pool_model(x.shape, 1, 2, 2, act=3), [x])      # RELU6, SAME
    np.testing.assert_array_equal(vals[0, :, :, 0], [[6, 6], [0, 4]])
    np.testing.assert_allclose(idx[0, :, :, 0], [[2.1, 2.1], [0.1, 0.1]], rtol=1e-6)


@pytest.mark.parametrize("stride,k", [(2, 2), (3, 3)])
def test_max_unpooling_2d(stride, k):
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    idx = rng.integers(0, k * k, x.shape).astype(np.uint32).view(np.float32)
    out = [2, 4 * k, 5 * k, 3]
    content = single_op_model("MaxUnpooling2D", [("x", list(x.shape)), ("i", list(x.shape))], [("y", out)],
                              custom_options=struct(2, stride, stride, k, k, 0))
    assert_same_outputs(content, [x, idx], resolver="auto", rtol=0, atol=0)


def test_pool_then_unpool_round_trip():
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    content = pool_model(x.shape, 1, 2, 2)
    vals, idx = run_tinylite(content, [x])
    unpool = single_op_model("MaxUnpooling2D", [("x", list(vals.shape)), ("i", list(idx.shape))], [("y", [1])],
                             custom_options=struct(2, 2, 2, 2, 2, 0))
    y = run_tinylite(unpool, [vals, idx])[0]
    # Each window's maximum is back in its place, everything else is 0.
    assert np.count_nonzero(y) == vals.size
    np.testing.assert_array_equal(np.sort(y[y != 0]), np.sort(vals.ravel()))


def test_bad_struct_options_are_reported():
    import tinylite

    content = single_op_model("MaxUnpooling2D", [("x", [1, 2, 2, 1]), ("i", [1, 2, 2, 1])], [("y", [1])],
                              custom_options=b"\x01\x00")
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(Exception, match="custom options hold 2 bytes"):
        ip.allocate_tensors()
