"""Full-integer quantization of ops LiteRT runs on int8 that the quantizer used to keep in float
(so integer-only conversion refused them): MAXIMUM/MINIMUM and SELECT_V2 (inputs moved onto the
output's grid), TOPK_V2 and a GATHER from a constant table (the values' own grid), ABS, LOG and
ELU (their own output grid), and ARG_MAX and the comparisons (quantized int8 inputs, integer or
bool outputs).  Each model converts in int8, integer-only int8 and 16x8; LiteRT and tinylite give
identical results, and both stay close to Keras.  A FILL with a constant (zeros_like) takes the
constant's grid; a constant compared with a tensor, the tensor's (LiteRT's quantized comparisons
abort on a grid step of 1 or more, which a constant 0 alone would get)."""
import numpy as np
import pytest

from keras_check import missing_kernels  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import run_litert, run_tinylite

from support import keras_oracle  # noqa: E402

keras = keras_oracle()
layers, o = keras.layers, keras.ops

import tinylite  # noqa: E402
from tinylite.converter.quantize import sqnr  # noqa: E402
from tinylite.testing import configure_quantization  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _model(fn, shape=(6, 8)):
    x = keras.Input(shape)
    return keras.Model(x, fn(x))


def _dense(n):
    return layers.Dense(n)


MODELS = {
    "max_min": lambda: _model(lambda x: layers.Maximum()([_dense(8)(x), _dense(8)(x)])
                              + layers.Minimum()([_dense(8)(x), x])),
    "abs_log": lambda: _model(lambda x: o.log(o.abs(_dense(8)(x)) + 1.0)),
    "elu": lambda: _model(lambda x: layers.ELU()(_dense(8)(x))),
    "compare_where": lambda: _model(lambda x: o.where(_dense(8)(x) > _dense(8)(x), x, 0.0)),
    "argmax": lambda: _model(lambda x: o.argmax(_dense(5)(x), axis=-1)),
    "top_k": lambda: _model(lambda x: o.top_k(_dense(8)(x), 3)[0]),
    "fill": lambda: _model(lambda x: o.where(_dense(8)(x) > 0, x, o.zeros_like(x))),
    "embedding": lambda: keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(40, 8),
                                           layers.GlobalAveragePooling1D(), _dense(3)]),
}
# Where LiteRT has no kernel (or compares raw int16 values), an op stays float in 16x8.
FLOAT_IN_16X8 = {"elu": {"ELU"}, "compare_where": {"GREATER"}, "argmax": {"ARG_MAX"}, "fill": {"GREATER"}}
FLOAT_IN_INT8: dict = {}


def _samples(model, rng, n):
    shape = tuple(model.inputs[0].shape[1:])
    if model.inputs[0].dtype == "int32":
        return [rng.integers(0, 40, (1,) + shape).astype(np.int32) for _ in range(n)]
    return [rng.normal(size=(1,) + shape).astype(np.float32) for _ in range(n)]


@pytest.mark.parametrize("mode", ["int8", "int8io", "int16x8"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_quantized_op(name, mode):
    keras.utils.set_random_seed(3)
    model = MODELS[name]()
    rng = np.random.default_rng(3)
    calib = _samples(model, rng, 64)
    conv = tinylite.TFLiteConverter.from_keras_model(model)
    configure_quantization(conv, mode, lambda: ([v] for v in calib))
    content = conv.convert()
    m = tinylite.read_model(content)
    sg = m.subgraphs[0]
    reading_float = {m.op_name(op) for op in sg.operators if m.op_name(op) not in ("QUANTIZE", "DEQUANTIZE", "SHAPE")
                     and any(sg.tensors[i].type == 0 for i in op.inputs if i >= 0)}
    assert reading_float == (FLOAT_IN_16X8 if mode == "int16x8" else FLOAT_IN_INT8).get(name, set()), reading_float
    x = np.concatenate(_samples(model, rng, 16))
    ref = keras.ops.convert_to_numpy(model(x))
    feed = x
    if mode == "int8io" and x.dtype == np.float32:
        d = tinylite.Interpreter(model_content=content).get_input_details()[0]
        scale, zp = d["quantization"]
        feed = np.clip(np.round(x / scale + zp), -128, 127).astype(np.int8)
    lite, = run_litert(content, [feed])
    assert not missing_kernels(content)
    mine, = run_tinylite(content, [feed])
    assert mine.dtype == lite.dtype
    if reading_float:
        # An op left in float sums in its own order: last-bit float differences.
        assert float(np.abs(mine - lite).max()) <= 1e-6 * float(np.abs(lite).max())
    else:
        np.testing.assert_array_equal(mine, lite)
    if name == "argmax":
        assert np.mean(lite == ref) >= 0.9, np.mean(lite == ref)
        return
    out = tinylite.Interpreter(model_content=content).get_output_details()[0]
    got = lite.astype(np.float64)
    if lite.dtype != np.float32:
        scale, zp = out["quantization"]
        got = (got - zp) * scale
    # A comparison of quantized values flips where they are within a step of each other, and the
    # where then picks the other branch (an error of a whole value, not of a step): a lower bar
    # for the models that select on a comparison.
    assert sqnr(ref, got) >= (15.0 if name in ("compare_where", "fill") else 25.0), sqnr(ref, got)


def test_wide_comparison_stays_float():
    """A comparison of a tensor whose grid step would be 1 or more (values past +-127) stays float
    (LiteRT's quantized comparison aborts on it); integer-only conversion says why."""
    keras.utils.set_random_seed(4)
    model = _model(lambda x: o.where(_dense(8)(x) * 300.0 > 20.0, x, 0.0))
    calib = _samples(model, np.random.default_rng(4), 32)
    conv = tinylite.TFLiteConverter.from_keras_model(model)
    configure_quantization(conv, "int8", lambda: ([v] for v in calib))
    content = conv.convert()
    m = tinylite.read_model(content)
    ops = [m.op_name(op) for op in m.subgraphs[0].operators]
    k = ops.index("GREATER")
    assert ops[k - 1] == "DEQUANTIZE" or m.subgraphs[0].tensors[m.subgraphs[0].operators[k].inputs[0]].type == 0
    x = np.concatenate(calib[:4])
    lite, = run_litert(content, [x])
    np.testing.assert_allclose(run_tinylite(content, [x])[0], lite, rtol=0, atol=1e-6 * float(np.abs(lite).max()))
    conv = tinylite.TFLiteConverter.from_keras_model(model)
    configure_quantization(conv, "int8io", lambda: ([v] for v in calib))
    with pytest.raises(tinylite.ConverterError, match="grid step below 1"):
        conv.convert()
