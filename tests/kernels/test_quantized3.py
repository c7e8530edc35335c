"""Quantized RSQRT, SQRT, LOG_SOFTMAX and SQUARED_DIFFERENCE against LiteRT, with
random scales and zero points.  Integer outputs must match exactly (max_lsb=0);
the resolver is LiteRT's default one except for the fixed-point LOG_SOFTMAX
that only LiteRT's reference resolver runs (see tinylite/kernels/_quantization.py and each op module)."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(31)
INFO = {np.int8: np.iinfo(np.int8), np.uint8: np.iinfo(np.uint8), np.int16: np.iinfo(np.int16)}
LITERT_ERRORS = (RuntimeError, ValueError)


def qdesc(name, shape, dtype, scale, zero_point=0):
    return dict(name=name, shape=list(shape), dtype=dtype, quantization=(float(scale), int(zero_point)))


def log_uniform(lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def unary(op, x, in_q, out_q):
    return single_op_model(op, [qdesc("x", x.shape, x.dtype.type, *in_q)], [qdesc("y", x.shape, x.dtype.type, *out_q)])


def non_negative(dtype, zero_point, shape):
    """Every value at or above the zero point (8-bit, shuffled, padded to `shape`) or random
    non-negative int16 values with 0, 1 and the maximum included."""
    if dtype == np.int8:
        v = np.arange(zero_point, 128)
        v = np.concatenate([v, rng.integers(zero_point, 128, int(np.prod(shape)) - len(v))])
    else:
        v = rng.integers(0, 32768, int(np.prod(shape)))
        v[:3] = [0, 1, 32767]
    return rng.permutation(v).astype(dtype).reshape(shape)


# --- RSQRT / SQRT ---

def rsqrt_params(dtype):
    if dtype == np.int8:
        return ((log_uniform(1e-4, 5.0), int(rng.integers(-128, 60))),
                (log_uniform(2e-3, 3.0), int(rng.integers(-128, 128))))
    return (log_uniform(1e-6, 1e-2), 0), (log_uniform(1e-5, 0.2), 0)


@pytest.mark.parametrize("op", ["RSQRT", "SQRT"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("trial", range(8))
def test_rsqrt_sqrt(op, dtype, trial):
    in_q, out_q = rsqrt_params(dtype)
    if op == "SQRT" and dtype == np.int8:
        out_q = (log_uniform(1e-3, 0.5), out_q[1])
    shape = [(300,), (2, 160), (3, 4, 5, 6), (1, 7, 9, 11)][trial % 4]
    x = non_negative(dtype, in_q[1], shape)
    assert_same_outputs(unary(op, x, in_q, out_q), [x])


@pytest.mark.parametrize("op", ["RSQRT", "SQRT"])
def test_rsqrt_sqrt_int8_identity_grid(op):
    """Zero point at the bottom and equal scales: the common case of a calibrated
    variance + epsilon feeding a LayerNormalization's RSQRT."""
    x = non_negative(np.int8, -128, (4, 64))
    assert_same_outputs(unary(op, x, (0.01, -128), (0.01, -128)), [x])


@pytest.mark.parametrize("op", ["RSQRT", "SQRT"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_negative_input_is_an_error(op, dtype):
    zp = 5 if dtype == np.int8 else 0
    x = np.array([zp + 3, zp - 1, zp], dtype)
    content = unary(op, x, (0.05 if dtype == np.int8 else 1e-3, zp), (0.05 if dtype == np.int8 else 1e-3, zp))
    with pytest.raises(LITERT_ERRORS):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="only defined for non-negative inputs"):
        run_tinylite(content, [x])


def test_int16_rsqrt_needs_zero_points_of_0():
    x = np.array([4, 9], np.int16)
    content = unary("RSQRT", x, (1e-3, 2), (1e-3, 0))
    with pytest.raises(LITERT_ERRORS):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="zero points of 0"):
        run_tinylite(content, [x])


# --- LOG_SOFTMAX ---

def log_softmax_rows(dtype, shape):
    """Random rows, some concentrated near one value (small sums), some with a single outlier."""
    i = INFO[dtype]
    x = rng.integers(i.min, i.max + 1, shape)
    rows = x.reshape(-1, shape[-1])
    for r in range(0, len(rows), 3):
        rows[r] = np.clip(rng.integers(-4, 5, shape[-1]) + int(rng.integers(i.min + 10, i.max - 10)), i.min, i.max)
    if len(rows) > 1:
        rows[1] = i.min
        rows[1, rng.integers(shape[-1])] = i.max
    return x.astype(dtype)


LOG_SOFTMAX_SHAPES = [(5, 1), (3, 2), (7, 10), (4, 255), (2, 700), (2, 3, 33), (2, 2, 3, 17)]


def log_softmax_model(dtype, shape, in_scale, in_zp):
    out_zp = 127 if dtype == np.int8 else 255
    return single_op_model("LOG_SOFTMAX", [qdesc("x", shape, dtype, in_scale, in_zp)],
                           [qdesc("y", shape, dtype, 16.0 / 256, out_zp)])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("shape", LOG_SOFTMAX_SHAPES)
def test_log_softmax(dtype, shape):
    i = INFO[dtype]
    for in_scale in (log_uniform(1e-3, 0.02), log_uniform(0.02, 0.3), log_uniform(0.3, 8.0)):
        x = log_softmax_rows(dtype, shape)
        content = log_softmax_model(dtype, shape, in_scale, int(rng.integers(i.min, i.max + 1)))
        assert_same_outputs(content, [x])


@pytest.mark.parametrize("shape", LOG_SOFTMAX_SHAPES)
def test_log_softmax_int8_reference(shape):
    for in_scale in (log_uniform(1e-3, 0.02), log_uniform(0.02, 0.3), log_uniform(0.3, 8.0)):
        x = log_softmax_rows(np.int8, shape)
        content = log_softmax_model(np.int8, shape, in_scale, int(rng.integers(-128, 128)))
        assert_same_outputs(content, [x], resolver="ref")


def test_log_softmax_int8_kernels_differ():
    """A row on which LiteRT's two kernels disagree (the fixed-point one sends differences
    near its cut-off to -128, the float one to -127): tinylite follows each in its mode."""
    x = np.array([[-4, 47, -5, 57, -112, 16, 70, 61, 122, 28, -81, 56, -86, -33, 74, -1, 52, 92, -57]], np.int8)
    content = log_softmax_model(np.int8, x.shape, 0.12587623298168182, 0)
    assert not np.array_equal(run_litert(content, [x]), run_litert(content, [x], "ref"))
    assert_same_outputs(content, [x], resolver="builtin")
    assert_same_outputs(content, [x], resolver="ref")


def test_log_softmax_resizes_batch():
    content = log_softmax_model(np.int8, (1, 40), 0.07, -3)
    for batch in (1, 6):
        x = log_softmax_rows(np.int8, (batch, 40))
        assert_same_outputs(content, [x])


@pytest.mark.parametrize("out_q", [(1.0 / 256, 127), (16.0 / 256, 0)])
def test_log_softmax_needs_the_fixed_output_grid(out_q):
    x = log_softmax_rows(np.int8, (2, 8))
    content = single_op_model("LOG_SOFTMAX", [qdesc("x", x.shape, np.int8, 0.1, 0)],
                              [qdesc("y", x.shape, np.int8, *out_q)])
    with pytest.raises(LITERT_ERRORS):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="16/256 and zero point 127"):
        run_tinylite(content, [x])


# --- SQUARED_DIFFERENCE ---

BROADCASTS = [((3, 37), (3, 37)), ((2, 5, 7), (7,)), ((1, 6), (4, 1)), ((), (3, 19)), ((2, 1, 3, 17), (2, 4, 1, 1))]


@pytest.mark.parametrize("shapes", BROADCASTS)
@pytest.mark.parametrize("trial", range(3))
def test_squared_difference_int8(shapes, trial):
    a = rng.integers(-128, 128, shapes[0]).astype(np.int8)
    b = rng.integers(-128, 128, shapes[1]).astype(np.int8)
    s1, s2 = log_uniform(2e-3, 0.5), log_uniform(2e-3, 0.5)
    # Squares of centered values reach ~(255 * max scale)**2: keep the output grid around that.
    so = max(s1, s2) ** 2 * log_uniform(1.0, 2000.0)
    z = rng.integers(-128, 128, 3)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    content = single_op_model("SQUARED_DIFFERENCE", [qdesc("a", a.shape, np.int8, s1, z[0]),
                                                     qdesc("b", b.shape, np.int8, s2, z[1])],
                              [qdesc("y", out_shape, np.int8, so, z[2])])
    assert_same_outputs(content, [a, b])
