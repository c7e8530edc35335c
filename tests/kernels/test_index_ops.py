"""Single-op differential tests against LiteRT of the indexing, segment and
window builtins: GATHER_ND, SCATTER_ND, TOPK_V2, MATRIX_DIAG,
MATRIX_SET_DIAG, SEGMENT_SUM, UNSORTED_SEGMENT_{SUM,PROD,MAX,MIN},
REVERSE_SEQUENCE, BUCKETIZE, L2_POOL_2D, LOCAL_RESPONSE_NORMALIZATION."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def data(shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def t(name, x=None, shape=None, dtype=None):
    if x is not None and shape is None:
        return dict(name=name, shape=list(x.shape), dtype=x.dtype)
    return dict(name=name, shape=list(shape), dtype=dtype)


def out(dtype, name="y"):
    return dict(name=name, shape=[1], dtype=dtype)


def exact(content, feeds):
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("index_dtype", [np.int16, np.int32, np.int64])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_gather_nd(dtype, index_dtype, depth):
    p = data((4, 5, 6), dtype)
    idx = np.stack([rng.integers(0, d, (3, 2)) for d in p.shape[:depth]], axis=-1).astype(index_dtype)
    exact(single_op_model("GATHER_ND", [t("p", p), t("i", idx)], [out(dtype)]), [p, idx])


def test_gather_nd_out_of_bounds_fails():
    p = data((4, 5), np.float32)
    idx = np.array([[1, 5]], np.int32)
    content = single_op_model("GATHER_ND", [t("p", p), t("i", idx)], [out(np.float32)])
    with pytest.raises(RuntimeError):
        run_litert(content, [p, idx])
    with pytest.raises(Exception, match="out of bounds"):
        run_tinylite(content, [p, idx])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("index_dtype", [np.int32])
@pytest.mark.parametrize("depth", [1, 2])
def test_scatter_nd(dtype, index_dtype, depth):
    shape = (5, 4, 3)
    idx = np.stack([rng.integers(0, d, 6) for d in shape[:depth]], axis=-1).astype(index_dtype)   # duplicates
    upd = data((6,) + shape[depth:], dtype)
    if np.dtype(dtype).kind in "iu":
        upd = (upd % 20).astype(dtype)
    content = single_op_model("SCATTER_ND", [t("i", idx), t("u", upd), dict(name="s", data=np.array(shape, index_dtype))],
                              [out(dtype)])
    exact(content, [idx, upd])


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_topk_v2(dtype, k):
    x = rng.integers(0, 6, (3, 4, 8)).astype(dtype)           # many ties: lower index first
    content = single_op_model("TOPK_V2", [t("x", x), dict(name="k", data=np.array(k, np.int32))],
                              [out(dtype), out(np.int32, "i")])
    exact(content, [x])


def test_topk_v2_float_distinct():
    x = rng.standard_normal((2, 50)).astype(np.float32)
    content = single_op_model("TOPK_V2", [t("x", x), dict(name="k", data=np.array(7, np.int32))],
                              [out(np.float32), out(np.int32, "i")])
    exact(content, [x])


DIAG_TYPES = [np.float32, np.uint8, np.int8, np.int16, np.int32, np.int64]


@pytest.mark.parametrize("dtype", DIAG_TYPES)
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 2, 5)])
def test_matrix_diag(dtype, shape):
    x = data(shape, dtype)
    exact(single_op_model("MATRIX_DIAG", [t("x", x)], [out(dtype)]), [x])


@pytest.mark.parametrize("dtype", DIAG_TYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (2, 5, 3)])
def test_matrix_set_diag(dtype, shape):
    x = data(shape, dtype)
    d = data(shape[:-2] + (min(shape[-2:]),), dtype)
    exact(single_op_model("MATRIX_SET_DIAG", [t("x", x), t("d", d)], [out(dtype)]), [x, d])


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_segment_sum(dtype):
    x = data((7, 3), dtype)
    ids = np.array([0, 0, 1, 2, 2, 2, 3], np.int32)
    exact(single_op_model("SEGMENT_SUM", [t("x", x), t("s", ids)], [out(dtype)]), [x, ids])


@pytest.mark.parametrize("op", ["UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
                                "UNSORTED_SEGMENT_MIN"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("ids_shape", [(6,), (6, 2)])
def test_unsorted_segment(op, dtype, ids_shape):
    x = data((6, 2, 3), dtype)
    if op.endswith("PROD") and dtype == np.int32:
        x = (x % 5).astype(dtype)
    ids = rng.integers(-1, 4, ids_shape).astype(np.int32)
    content = single_op_model(op, [t("x", x), t("s", ids), dict(name="n", data=np.array([5], np.int32))],
                              [out(dtype)])
    assert_same_outputs(content, [x, ids], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("seq,batch", [(1, 0), (0, 1), (2, 0), (1, 2)])
@pytest.mark.parametrize("len_dtype", [np.int32, np.int64])
def test_reverse_sequence(dtype, seq, batch, len_dtype):
    x = data((3, 4, 5), dtype)
    lengths = rng.integers(0, x.shape[seq] + 1, x.shape[batch]).astype(len_dtype)
    content = single_op_model("REVERSE_SEQUENCE", [t("x", x), dict(name="l", data=lengths)], [out(dtype)],
                              options=dict(seq_dim=seq, batch_dim=batch))
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_bucketize(dtype):
    x = (rng.standard_normal((4, 9)) * 10).astype(dtype)
    x.flat[:3] = [0, 5, -3]
    content = single_op_model("BUCKETIZE", [t("x", x)], [out(np.int32)],
                              options=dict(boundaries=np.array([-3.0, 0.0, 2.5, 5.0, 11.0], np.float32)))
    exact(content, [x])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("f,s", [(2, 2), (3, 1), (3, 2)])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_l2_pool_2d(padding, f, s, act):
    x = data((2, 7, 6, 3), np.float32)
    content = single_op_model("L2_POOL_2D", [t("x", x)], [out(np.float32)],
                              options=dict(padding=padding, filter_height=f, filter_width=f, stride_h=s, stride_w=s,
                                           fused_activation_function=act))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("radius,bias,alpha,beta", [(2, 1.0, 1e-3, 0.75), (5, 2.0, 0.5, 0.5), (0, 1.0, 1.0, 1.0)])
def test_local_response_normalization(radius, bias, alpha, beta):
    x = data((2, 3, 4, 11), np.float32)
    content = single_op_model("LOCAL_RESPONSE_NORMALIZATION", [t("x", x)], [out(np.float32)],
                              options=dict(radius=radius, bias=bias, alpha=alpha, beta=beta))
    assert_same_outputs(content, [x])
