"""Two places where LiteRT's arithmetic is not the op's textbook definition, and
tinylite follows LiteRT bit for bit (found by converting Keras models with
TensorFlow and running them in both, see the round 8 closing note):

- BUILTIN_REF's quantized SUM reads and writes 8-bit data as uint8 whatever its
  type (reduce.cc instantiates the reference kernel on uint8_t), so an int8
  SUM differs from the default kernel's;
- the 8-bit SUB with an output scale so much finer than the inputs' that its
  output multiplier passes 1 (keras.ops.logsumexp's x - x calibrates a zero
  range): LiteRT shifts by a negative amount, which its x86-64 build computes
  one way in its 4-wide loop and another in the scalar tail and broadcasts.
"""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
RESOLVERS = ["builtin", "ref"]


def same(content, feeds, resolver):
    want = run_litert(content, feeds, resolver)[0]
    got = run_tinylite(content, feeds, resolver)[0]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("scales", [(0.02988, 6, 0.08268, 36), (0.1, 0, 0.1, 0), (0.05, -10, 2.0, 3),
                                    (1.0, 100, 0.01, -5), (0.003, 0, 0.5, 120)])
@pytest.mark.parametrize("axes, keep", [([2], False), ([1], True), ([1, 2], True), ([0, 1, 2, 3], False)])
def test_quantized_sum(resolver, dtype, scales, axes, keep):
    in_scale, in_zp, out_scale, out_zp = scales
    if dtype == np.uint8:
        in_zp, out_zp = abs(in_zp), abs(out_zp)
    info = np.iinfo(dtype)
    shape = [1, 8, 8, 6]
    out_shape = [1 if i in axes else d for i, d in enumerate(shape)] if keep else \
        [d for i, d in enumerate(shape) if i not in axes]
    content = single_op_model(
        "SUM", [dict(name="x", shape=shape, dtype=dtype, quantization=(in_scale, in_zp)),
                dict(name="axes", data=np.array(axes, np.int32))],
        [dict(name="y", shape=out_shape, dtype=dtype, quantization=(out_scale, out_zp))], options=dict(keep_dims=keep))
    same(content, [rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)], resolver)


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("in_scale, out_scale", [(0.00810917, 7.84e-9), (0.5, 1e-9), (0.02, 2.5e-12), (3.0, 1e-10)])
@pytest.mark.parametrize("shapes", [([256], [256]), ([7], [7]), ([3], [3]), ([13], [13]), ([1, 8, 1], [1, 8, 1]),
                                    ([7], [1]), ([2, 5], [2, 1]), ([3, 4], [4])])
def test_sub_output_multiplier_above_one(resolver, dtype, in_scale, out_scale, shapes):
    info = np.iinfo(dtype)
    a_shape, b_shape = shapes
    content = single_op_model(
        "SUB", [dict(name="a", shape=a_shape, dtype=dtype, quantization=(in_scale, int(info.min) + 5)),
                dict(name="b", shape=b_shape, dtype=dtype, quantization=(in_scale * 0.7, 3))],
        [dict(name="o", shape=a_shape, dtype=dtype, quantization=(out_scale, int(info.min) + 100))])
    feeds = [rng.integers(info.min, info.max, s, endpoint=True).astype(dtype) for s in (a_shape, b_shape)]
    same(content, feeds, resolver)


def test_add_output_multiplier_above_one_is_refused():
    # LiteRT's ADD aborts on such a multiplier (QuantizeMultiplierSmallerThanOneExp's check).
    import tinylite
    from tinylite.errors import UnsupportedOpError
    content = single_op_model(
        "ADD", [dict(name="a", shape=[4], dtype=np.int8, quantization=(0.5, 0)),
                dict(name="b", shape=[4], dtype=np.int8, quantization=(0.5, 0))],
        [dict(name="o", shape=[4], dtype=np.int8, quantization=(1e-9, 0))])
    with pytest.raises(UnsupportedOpError, match="output scale this much finer"):
        tinylite.Interpreter(model_content=content).allocate_tensors()
