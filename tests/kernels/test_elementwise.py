"""Differential tests of the elementwise and activation kernels: ADD, SUB, MUL,
DIV, MAXIMUM, MINIMUM, POW, SQUARED_DIFFERENCE, RELU, RELU6, RELU_N1_TO_1,
LEAKY_RELU, PRELU, ELU, HARD_SWISH, GELU, TANH, LOGISTIC, EXP, LOG, SQRT, RSQRT,
SQUARE, NEG, ABS, SOFTMAX, LOG_SOFTMAX, L2_NORMALIZATION, CAST, DEQUANTIZE.

Tests marked to ignore RuntimeWarning feed overflow, infinities or NaN on
purpose: numpy warns about them where LiteRT is silent."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"]
F32 = np.float32
NAN, INF = np.nan, np.inf
# Values where elementwise kernels differ if they get an edge wrong: signed
# zeros, denormals, overflow, infinities and NaN.
SPECIAL = np.array([NAN, INF, -INF, 0.0, -0.0, 1e-45, -1e-45, 3e38, -3e38, 1e-30, 100, -100, 89, -89,
                    0.5, -0.5, 1, -1, 2.5, -3], F32)


def normal(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(F32)


def ints(shape, dtype, low=None, high=None):
    info = np.iinfo(dtype)
    low = info.min if low is None else low
    high = info.max if high is None else high
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


def batch_input(name, shape, dtype=F32):
    """An input whose batch dimension the feeds may resize."""
    return dict(name=name, shape=[1, *shape[1:]], shape_signature=[-1, *shape[1:]], dtype=dtype)


def unary(op, x, options=None, out_dtype=None):
    return single_op_model(op, [("x", x.shape, x.dtype)], [("y", [1], out_dtype or x.dtype)], options=options)


def binary(op, a, b, options=None, const_b=False):
    second = dict(name="b", data=b) if const_b else ("b", b.shape, b.dtype)
    return single_op_model(op, [("a", a.shape, a.dtype), second], [("y", [1], a.dtype)], options=options)


def assert_exact(content, feeds, resolver="builtin"):
    """Outputs identical to LiteRT's (NaN where LiteRT has NaN, same infinities)."""
    want = run_litert(content, feeds, resolver)
    got = run_tinylite(content, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def assert_close_special(content, feeds, rtol=1e-5, atol=1e-6):
    """Identical NaN/inf to LiteRT's, and finite values within assert_same_outputs'
    tolerance (taken relative to the largest finite reference magnitude: the
    oracle's own scale would be NaN here)."""
    want = run_litert(content, feeds)
    got = run_tinylite(content, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        finite = np.isfinite(w)
        np.testing.assert_array_equal(g[~finite], w[~finite])
        if finite.any():
            err = float(np.max(np.abs(g[finite] - w[finite])))
            assert err <= rtol * float(np.max(np.abs(w[finite]))) + atol, f"max abs error {err}"


# --- binary arithmetic ---

ARITH = ["ADD", "SUB", "MUL", "DIV"]
SHAPES = [((2, 3, 4, 5), (2, 3, 4, 5)), ((2, 3, 4, 5), (5,)), ((5,), (2, 3, 4, 5)), ((2, 1, 4, 1), (1, 3, 1, 5)),
          ((3, 4), ()), ((), (3, 4)), ((1,), (2, 3)), ((2, 1, 3, 1, 2), (1, 2, 1, 4, 1)),
          ((1, 2, 1, 3, 1, 2), (2, 1, 2, 1, 3, 1)), ((7,), (7,))]


def divisor(shape):
    # Away from zero, so that quotients stay moderate (DIV by ~0 is tested separately).
    x = normal(*shape)
    return np.where(np.abs(x) < 0.1, F32(0.5), x).astype(F32)


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("act", ACTS)
def test_arithmetic_activation(op, act):
    a, b = normal(2, 3, 4, 5, scale=4), divisor((4, 1))
    assert_same_outputs(binary(op, a, b, dict(fused_activation_function=act)), [a, b])


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("shapes", SHAPES)
def test_arithmetic_broadcasting(op, shapes):
    a, b = normal(*shapes[0], scale=3), divisor(shapes[1])
    assert_same_outputs(binary(op, a, b), [a, b])


@pytest.mark.parametrize("op", ARITH)
def test_arithmetic_constant_operand(op):
    a, b = normal(2, 6, 3), divisor((6, 1))
    assert_same_outputs(binary(op, a, b, const_b=True), [a])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("act", ACTS)
def test_arithmetic_special_values(op, act):
    # Every pair of special values; LiteRT clamps +-inf results to +-FLT_MAX, keeps NaN.
    a, b = SPECIAL.reshape(-1, 1), SPECIAL.reshape(1, -1)
    assert_exact(binary(op, a, b, dict(fused_activation_function=act)), [a, b])


@pytest.mark.parametrize("op", ARITH)
def test_arithmetic_batch_resize(op):
    a, b = normal(4, 3, 2), divisor((3, 2))
    content = single_op_model(op, [batch_input("a", a.shape), dict(name="b", data=b)], [("y", [1, 3, 2])],
                              options=dict(fused_activation_function="NONE"))
    assert_same_outputs(content, [a])


@pytest.mark.parametrize("op,dtype", [("ADD", np.int32), ("SUB", np.int32), ("MUL", np.int32), ("DIV", np.int32),
                                      ("ADD", np.int64), ("SUB", np.int64), ("MUL", np.int64),
                                      ("ADD", np.int16), ("MUL", np.int16), ("MUL", np.uint32)])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_arithmetic_integers(op, dtype, act):
    # Full-range values: results wrap around (int16 ADD/MUL are the unquantized kernels).
    a, b = ints((3, 4, 5), dtype), ints((4, 1), dtype)
    if op == "DIV":
        b[b == 0] = 7
        a[0, 0, 0], b[0, 0] = np.iinfo(dtype).min, -1      # INT_MIN / -1 saturates in LiteRT
    small_a, small_b = ints((3, 4, 5), dtype, 0, 9), ints((4, 1), dtype, 1, 9)
    for x, y in [(a, b), (small_a, small_b)]:
        assert_exact(binary(op, x, y, dict(fused_activation_function=act)), [x, y])


def test_div_int32_truncates_toward_zero():
    a = np.array([7, -7, 7, -7, 1, -1, 0, 2**31 - 1, -2**31], np.int32)
    b = np.array([2, 2, -2, -2, 3, 3, -5, -1, 2], np.int32)
    assert_exact(binary("DIV", a, b), [a, b])


def test_div_int32_by_zero_fails_at_invoke():
    a, b = np.array([1, 2, 3], np.int32), np.array([1, 0, 3], np.int32)
    content = binary("DIV", a, b)
    with pytest.raises(RuntimeError):
        run_litert(content, [a, b])
    with pytest.raises(RuntimeError, match="zero"):
        run_tinylite(content, [a, b])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op", ["ADD", "MUL"])
@pytest.mark.parametrize("act", ACTS)
def test_arithmetic_float16(op, act):
    a, b = normal(3, 4, scale=100).astype(np.float16), normal(4, scale=100).astype(np.float16)
    a[0, :2] = [60000, np.inf]
    b[:2] = [60000, -1]
    assert_exact(binary(op, a, b, dict(fused_activation_function=act)), [a, b])


# --- MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, POW ---

@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_other_binary_broadcasting(op, shapes):
    a, b = normal(*shapes[0], scale=3), normal(*shapes[1], scale=2)
    if op == "POW":
        a = np.abs(a) + F32(0.1)
    assert_same_outputs(binary(op, a, b), [a, b])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW"])
def test_other_binary_special_values(op):
    # MAXIMUM is `a > b ? a : b`: NaN in a loses, NaN in b wins.
    a, b = SPECIAL.reshape(-1, 1), SPECIAL.reshape(1, -1)
    assert_close_special(binary(op, a, b), [a, b])


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64])
def test_maximum_minimum_types(op, dtype):
    if dtype == np.float16:
        a, b = normal(3, 4, 5).astype(dtype), normal(4, 1).astype(dtype)
    else:
        a, b = ints((3, 4, 5), dtype), ints((4, 1), dtype)
    assert_exact(binary(op, a, b), [a, b])


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum_quantized_int8_compares_raw_values(op):
    a, b = ints((2, 6), np.int8), ints((2, 6), np.int8)
    q = dict(quantization=(0.5, 3))
    content = single_op_model(op, [dict(name="a", shape=a.shape, dtype=np.int8, **q),
                                   dict(name="b", shape=b.shape, dtype=np.int8, **q)],
                              [dict(name="y", shape=a.shape, dtype=np.int8, **q)])
    assert_exact(content, [a, b])


def test_squared_difference_int32_wraps():
    a, b = ints((4, 5), np.int32), ints((5,), np.int32, -1000, 1000)
    assert_exact(binary("SQUARED_DIFFERENCE", a, b), [a, b])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("exponent", [1.0, 2.0, 3.0, 3.000001, 2.999995, 5.0, 2.5, 0.0, -2.0, 0.5, 17.0, 1e10, NAN])
def test_pow_scalar_exponent(exponent):
    # A broadcast single exponent within 1e-5 of n >= 1 is repeated squaring in LiteRT:
    # negative bases stay finite and overflow clamps to FLT_MAX.
    a = np.concatenate([normal(30, scale=3), [0, -0.0, 1e20, -1e20, -2, INF, -INF, NAN]]).astype(F32).reshape(2, -1)
    b = np.array([exponent], F32)
    assert_close_special(binary("POW", a, b), [a, b])
    assert_close_special(binary("POW", a, b, const_b=True), [a])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_elementwise_float():
    a = np.abs(normal(3, 7, scale=3)) + F32(0.01)
    b = normal(3, 7, scale=2)
    a[0, :4], b[0, :4] = [-2, -2, 0, 0], [3, 2.5, 0, -1]
    assert_close_special(binary("POW", a, b), [a, b])


def test_pow_int32():
    # Out-of-range results come back as INT_MIN (double pow, then a truncating conversion).
    a = ints((4, 6), np.int32, -12, 12)
    b = ints((4, 6), np.int32, 0, 12)
    a[0, :3], b[0, :3] = [3, -3, 2], [20, 21, 31]
    assert_exact(binary("POW", a, b), [a, b])


@pytest.mark.parametrize("exponent", [0, 1, 2, 5, 20, 31])
def test_pow_int32_scalar_exponent(exponent):
    # The repeated-squaring path wraps around instead.
    a = ints((3, 5), np.int32, -12, 12)
    b = np.array([exponent], np.int32)
    assert_exact(binary("POW", a, b), [a, b])


def test_pow_int32_negative_exponent_fails():
    a, b = np.array([2, 3], np.int32), np.array([1, -1], np.int32)
    content = binary("POW", a, b)
    with pytest.raises(RuntimeError):
        run_litert(content, [a, b])
    with pytest.raises(RuntimeError, match="negative"):
        run_tinylite(content, [a, b])


# --- ADD, SOFTMAX, TANH, LOGISTIC, PRELU, DEQUANTIZE (existing kernels) ---

@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shapes", SHAPES[:5])
def test_add_integer_broadcasting(dtype, shapes):
    a, b = ints(shapes[0], dtype, -1000, 1000), ints(shapes[1], dtype, -1000, 1000)
    assert_exact(binary("ADD", a, b), [a, b])


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
@pytest.mark.parametrize("shape", [(3, 10), (2, 3, 4, 5), (7,)])
def test_softmax(beta, shape):
    x = normal(*shape, scale=4)
    assert_same_outputs(unary("SOFTMAX", x, dict(beta=beta)), [x])


def test_softmax_large_logits_and_batch_resize():
    x = normal(5, 6, scale=50)
    content = single_op_model("SOFTMAX", [batch_input("x", x.shape)], [("y", [1, 6])], options=dict(beta=1.0))
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("op", ["TANH", "LOGISTIC"])
@pytest.mark.parametrize("scale", [0.5, 5, 100])
def test_tanh_logistic(op, scale):
    x = normal(2, 3, 17, scale=scale)
    assert_same_outputs(unary(op, x), [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op", ["TANH", "LOGISTIC"])
def test_tanh_logistic_large_magnitudes(op):
    x = np.array([-1e30, -1000, -100, -89, -30, -17, -9.5, -8, 8, 9.5, 17, 30, 89, 100, 1000, 1e30,
                  NAN, INF, -INF, 0, -0.0], F32)
    assert_close_special(unary(op, x), [x])


@pytest.mark.parametrize("resolver,bound", [("ref", 2.5e-7), ("builtin", 1e-6)])
def test_logistic_per_value(resolver, bound):
    """Float LOGISTIC value by value, relative to each output (a dynamic-range model's swish feeds
    a hybrid op's quantization, where a relative error on small outputs can move a step; a bar
    relative to the largest output hides them).  LiteRT's reference kernel returns exp(x) below
    -9, 1.2e-4 away from 1 / (1 + exp(-x)) there, and glibc's expf; its default kernel is Eigen's
    rational approximation."""
    x = np.concatenate([rng.standard_normal(20000) * 6, np.linspace(-40, 40, 20001)]).astype(F32)
    content = unary("LOGISTIC", x)
    want = run_litert(content, [x], resolver)[0]
    got = run_tinylite(content, [x], resolver)[0]
    assert np.max(np.abs(got - want) / np.abs(want)) <= bound


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("alpha_shape", [(1, 1, 4), (4,), (5, 6, 4), (1, 6, 1), (2, 5, 6, 4), ()])
def test_prelu(alpha_shape):
    x = normal(2, 5, 6, 4, scale=2)
    x[0, 0, 0, :3] = [0, -0.0, NAN]
    alpha = normal(*alpha_shape)
    content = single_op_model("PRELU", [("x", x.shape), dict(name="alpha", data=alpha)], [("y", [1])])
    assert_close_special(content, [x])


def test_prelu_runtime_alpha_and_batch_resize():
    x, alpha = normal(3, 4, 5), normal(1, 5)
    content = single_op_model("PRELU", [batch_input("x", x.shape), ("alpha", alpha.shape)], [("y", [1, 4, 5])])
    assert_same_outputs(content, [x, alpha])


@pytest.mark.parametrize("constant", [True, False])
def test_dequantize_float16(constant):
    w = np.concatenate([normal(28, scale=100), [65504, -65504, 6e-8, INF, -INF, NAN, 0]]).astype(np.float16)
    w = w.reshape(5, 7)
    src = dict(name="w", data=w) if constant else ("w", w.shape, np.float16)
    content = single_op_model("DEQUANTIZE", [src], [("y", w.shape, F32)])
    assert_exact(content, [] if constant else [w])


# --- unary activations ---

UNARY_FLOAT = [("RELU", None), ("RELU6", None), ("RELU_N1_TO_1", None), ("LEAKY_RELU", dict(alpha=0.2)),
               ("LEAKY_RELU", dict(alpha=1.5)), ("LEAKY_RELU", dict(alpha=-0.3)), ("ELU", None),
               ("HARD_SWISH", None), ("GELU", dict(approximate=False)), ("GELU", dict(approximate=True)),
               ("EXP", None), ("LOG", None), ("SQRT", None), ("RSQRT", None), ("SQUARE", None), ("NEG", None),
               ("ABS", None), ("LOG_SOFTMAX", None)]


@pytest.mark.parametrize("op,options", UNARY_FLOAT)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (7,), (1, 33)])
def test_unary_float(op, options, shape):
    x = normal(*shape, scale=4)
    if op in ("LOG", "SQRT", "RSQRT"):
        x = np.abs(x) + F32(1e-3)
    assert_same_outputs(unary(op, x, options), [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op,options", UNARY_FLOAT)
def test_unary_special_values(op, options):
    x = SPECIAL.copy()
    assert_close_special(unary(op, x, options), [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("size", [3, 7, 18])
def test_hard_swish_vector_and_tail_rounding(size):
    # LiteRT scales by 1/6 first in blocks of 4 and last in the scalar tail: at
    # 3e38 one order overflows and the other does not.
    x = np.resize(np.array([3e38, 100, -1e-45, 2.5, -3e38, 1e-44], F32), size)
    assert_close_special(unary("HARD_SWISH", x), [x])


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_accuracy_over_range(approximate):
    # Dense sweep including the far negative tail, where 1 + erf(x) cancels.
    x = np.linspace(-12, 12, 4801, dtype=F32)
    assert_same_outputs(unary("GELU", x, dict(approximate=approximate)), [x])
    tail = np.linspace(-12, -3, 901, dtype=F32)
    assert_same_outputs(unary("GELU", tail, dict(approximate=approximate)), [tail])


@pytest.mark.parametrize("op", ["RELU", "HARD_SWISH", "GELU", "LOG_SOFTMAX"])
def test_unary_batch_resize(op):
    x = normal(3, 4, 6)
    content = single_op_model(op, [batch_input("x", x.shape)], [("y", [1, 4, 6])])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int16, np.int32, np.int64])
def test_neg_types(dtype):
    x = normal(4, 5, scale=100).astype(dtype) if dtype == np.float16 else ints((4, 5), dtype)
    assert_exact(unary("NEG", x), [x])


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
def test_abs_integers(dtype):
    x = ints((4, 5), dtype)
    x[0, 0] = np.iinfo(dtype).min          # wraps to itself
    assert_exact(unary("ABS", x), [x])


def test_log_softmax_rank4_and_large_logits():
    x = normal(2, 3, 4, 9, scale=60)
    assert_same_outputs(unary("LOG_SOFTMAX", x), [x])


# --- L2_NORMALIZATION ---

@pytest.mark.parametrize("shape", [(5,), (3, 8), (2, 3, 4, 6), (1, 1, 1, 1)])
def test_l2_normalization(shape):
    x = normal(*shape, scale=3)
    assert_same_outputs(unary("L2_NORMALIZATION", x, dict(fused_activation_function="NONE")), [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_l2_normalization_epsilon():
    # Rows whose norm is below 1e-6 are divided by 1e-6; an all-zero row gives zeros.
    x = np.array([[0, 0, 0, 0], [1e-7, 0, -2e-7, 0], [3e-7, 4e-7, 0, 0], [1e-20, 1e-20, 0, 0],
                  [3e-6, 4e-6, 0, 0], [1e20, 1e20, 1, 0]], F32)
    assert_same_outputs(unary("L2_NORMALIZATION", x, dict(fused_activation_function="NONE")), [x])


def test_l2_normalization_rejects_activation():
    x = normal(2, 4)
    content = unary("L2_NORMALIZATION", x, dict(fused_activation_function="RELU"))
    with pytest.raises(RuntimeError):
        run_litert(content, [x])
    with pytest.raises(RuntimeError, match="activation"):
        run_tinylite(content, [x])


# --- CAST ---

CAST_TYPES = [np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16, np.bool_, np.float16,
              np.uint16, np.uint32, np.float64]
FLOAT_SOURCE = np.array([0.5, -0.5, 0.99, -0.99, 1.7, -1.7, 2.5, -2.5, 127.9, 128, -128.5, -129, 255.9, 256.5,
                         32767.5, 32768, -32769, 65535.9, 65536, 70000, -70000, 2147483520, 2147483648,
                         -2147483904, 4294967040, 4294967296, 3e9, -3e9, 9.2e18, 9.3e18, -9.3e18, 1e30, -1e30,
                         1e-30, 0, -0.0, 65504, 65520, 1e-8, NAN, INF, -INF,
                         1 + 2**-11 + 2**-30], np.float64)   # float64 -> float16 rounds differently via float32


def cast_source(dtype):
    if dtype == np.bool_:
        return np.array([True, False, True, True, False])
    if np.dtype(dtype).kind == "f":
        with np.errstate(over="ignore"):
            return FLOAT_SOURCE.astype(np.float32).astype(dtype) if dtype != np.float64 else FLOAT_SOURCE
    info = np.iinfo(dtype)
    edges = [int(info.min), int(info.max), 0, 1, 2, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 2**31 - 1,
             2**31, 2**24 + 1, 2**53 + 1, 2**63 - 2**39]
    edges = [v for e in edges for v in (e, -e) if info.min <= v <= info.max]
    return np.concatenate([np.array(edges, dtype), ints((20,), dtype)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("src", CAST_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("dst", CAST_TYPES, ids=lambda t: np.dtype(t).name)
def test_cast(src, dst):
    x = cast_source(src)
    assert_exact(unary("CAST", x, out_dtype=dst), [x])


def test_cast_batch_resize():
    x = normal(3, 4, scale=100)
    content = single_op_model("CAST", [batch_input("x", x.shape)], [("y", [1, 4], np.int32)])
    assert_exact(content, [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("beta", [1.0, 0.5])
@pytest.mark.parametrize("case", ["small", "overflow", "underflow", "mixed"])
def test_softmax_one_row_with_and_without_the_max_shift(case, beta):
    # One row skips the max shift unless its exponentials overflow or all
    # underflow; each case must still match LiteRT (which always shifts).
    x = {"small": normal(1, 10, scale=4), "overflow": normal(1, 10, scale=4) + 150,
         "underflow": normal(1, 10, scale=4) - 150,
         "mixed": np.array([[-120.0, 0.5, -90.0, 3.0, -200.0]], np.float32)}[case]
    assert_same_outputs(unary("SOFTMAX", x, dict(beta=beta)), [x])
    y = run_tinylite(unary("SOFTMAX", x, dict(beta=beta)), [x])[0]
    assert np.isfinite(y).all() and abs(float(y.sum()) - 1) < 1e-5


def test_softmax_one_row_nan_propagates():
    x = np.array([[0.5, np.nan, 1.0]], np.float32)
    y = run_tinylite(unary("SOFTMAX", x), [x])[0]
    assert np.isnan(y).all()
