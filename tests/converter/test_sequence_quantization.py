"""Post-training quantization of sequence models (LSTM, GRU, Bidirectional LSTM,
stacked LSTMs, an Embedding + Conv1D text classifier, a transformer encoder
block, masked attention): in dynamic range, int8 and 16x8 each file runs in
LiteRT and in tinylite, both agree (float outputs within 1e-3 of the largest,
integer outputs equal), and both stay within 25 dB SQNR of
Keras on held-out random inputs.  Plus what the files hold: the hybrid LSTM,
TFLite's integer LSTM (int8, int16 cell state, 5 intermediates), the float LSTM
inside a 16x8 model, and the masked-softmax grid."""
import numpy as np
import pytest

from keras_check import missing_kernels  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import litert_interpreter

from support import keras_oracle  # noqa: E402

keras = keras_oracle()
layers = keras.layers

import tinylite  # noqa: E402
from tinylite.converter.quantize import sqnr  # noqa: E402
from tinylite.testing import configure_quantization  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

MIN_SQNR_DB = 25.0
CALIBRATION, HELD_OUT = 256, 128
T, F, U = 10, 32, 32          # 32x32 gate matrices: 1024 elements, at TensorFlow's dynamic-range threshold


def _lstm():
    return keras.Sequential([keras.Input((T, F)), layers.LSTM(U), layers.Dense(4)])


def _gru():
    return keras.Sequential([keras.Input((T, F)), layers.GRU(U), layers.Dense(4)])


def _bidi_lstm():
    return keras.Sequential([keras.Input((T, F)), layers.Bidirectional(layers.LSTM(U)), layers.Dense(4)])


def _stacked_lstm():
    return keras.Sequential([keras.Input((T, F)), layers.LSTM(U, return_sequences=True),
                             layers.LSTM(U, return_sequences=True), layers.Dense(4)])


def _text_cnn():
    return keras.Sequential([keras.Input((16,), dtype="int32"), layers.Embedding(100, 16),
                             layers.Conv1D(32, 3, activation="relu"), layers.GlobalMaxPooling1D(), layers.Dense(4)])


def _transformer_block():
    x = keras.Input((8, 32))
    a = layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    f = layers.Dense(64, activation="gelu")(h)
    f = layers.Dense(32)(f)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, f]))
    return keras.Model(x, layers.Dense(4)(layers.GlobalAveragePooling1D()(h)))


def _causal_attention():
    x = keras.Input((8, 32))
    a = layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x, use_causal_mask=True)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    return keras.Model(x, layers.Dense(4)(layers.GlobalAveragePooling1D()(h)))


MODELS = {"lstm": _lstm, "gru": _gru, "bidi_lstm": _bidi_lstm, "stacked_lstm": _stacked_lstm,
          "text_cnn": _text_cnn, "transformer_block": _transformer_block, "causal_attention": _causal_attention}
# Ops tinylite's interpreter has no int8/int16 kernel for yet (LiteRT has both), so the
# quantizer keeps them float between DEQUANTIZE and QUANTIZE.
PENDING_KERNELS: set = set()
# In a 16x8 model the LSTM (and the FILLs of its states) stays float too: LiteRT has no
# int16-activation LSTM.
FLOAT_IN_16X8 = PENDING_KERNELS | {"UNIDIRECTIONAL_SEQUENCE_LSTM", "FILL"}


def _inputs(model, rng, n):
    shape = tuple(T if d is None else d for d in model.inputs[0].shape[1:])      # a run-time length: T
    if model.inputs[0].dtype == "int32":
        return rng.integers(0, 100, (n,) + shape).astype(np.int32)
    return rng.standard_normal((n,) + shape).astype(np.float32)


_BUILT = {}


def built(name):
    """(keras model, calibration inputs, held-out inputs, Keras outputs), built once."""
    if name not in _BUILT:
        keras.utils.set_random_seed(7)
        rng = np.random.default_rng(7)
        model = MODELS[name]()
        for w in model.weights:                   # Keras starts biases at 0: give them values
            if "bias" in w.path:
                w.assign(rng.normal(0, 0.3, w.shape).astype(np.float32))
        calib, held_out = _inputs(model, rng, CALIBRATION), _inputs(model, rng, HELD_OUT)
        _BUILT[name] = model, calib, held_out, keras.ops.convert_to_numpy(model(held_out))
    return _BUILT[name]


def convert(model, mode, calib, **kw):
    c = tinylite.TFLiteConverter.from_keras_model(model)
    configure_quantization(c, mode, lambda: ([calib[i:i + 1]] for i in range(len(calib))))
    for k, v in kw.items():
        setattr(c, k, v)
    return c.convert()


def run(ip, x):
    d = ip.get_input_details()[0]
    ip.resize_tensor_input(d["index"], x.shape)
    ip.allocate_tensors()
    if d["dtype"] == np.int8:
        scale, zp = d["quantization"]
        x = np.clip(np.round(x / scale + zp), -128, 127)
    ip.set_tensor(d["index"], x.astype(d["dtype"]))
    ip.invoke()
    out = ip.get_output_details()[0]
    return ip.get_tensor(out["index"]), out["quantization"]


def dequantize(v, q):
    return v.astype(np.float64) if v.dtype == np.float32 else (v.astype(np.float64) - q[1]) * q[0]


def check_file(content, held_out, ref):
    """Both runtimes run the file, agree with each other, and reproduce Keras; returns their SQNRs."""
    lite, q = run(litert_interpreter(content), held_out)
    assert not missing_kernels(content)
    mine, _ = run(tinylite.Interpreter(model_content=content), held_out)
    assert mine.dtype == lite.dtype and mine.shape == lite.shape
    if lite.dtype == np.float32:
        err = float(np.abs(mine - lite).max())
        assert err <= 1e-3 * float(np.abs(lite).max()), f"tinylite is {err} off LiteRT"
    else:
        lsb = np.abs(mine.astype(np.int64) - lite.astype(np.int64))
        assert lsb.max() == 0, f"tinylite is up to {lsb.max()} LSB off LiteRT on {np.count_nonzero(lsb)} values"
    got = sqnr(ref, dequantize(lite, q)), sqnr(ref, dequantize(mine, q))
    assert min(got) >= MIN_SQNR_DB, f"SQNR vs Keras (LiteRT, tinylite) = {got} dB < {MIN_SQNR_DB}"
    return got


def ops(content):
    m = tinylite.read_model(content)
    return m, m.subgraphs[0], [m.op_name(op) for op in m.subgraphs[0].operators]


CASES = [(name, mode) for name in MODELS for mode in ("dynamic", "int8", "int16x8")]
# Integer inputs and outputs, no float fallback: the files a microcontroller runs.
CASES += [("lstm", "int8io"), ("gru", "int8io"), ("stacked_lstm", "int8io"), ("bidi_lstm", "int8io")]


@pytest.mark.parametrize("name,mode", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_quantized_sequence_model(name, mode):
    model, calib, held_out, ref = built(name)
    content = convert(model, mode, calib)
    check_file(content, held_out, ref)
    m, sg, names = ops(content)
    types = [sg.tensors[op.inputs[0]].type for op in sg.operators]
    float32 = 0
    if mode == "int16x8":
        # Everything but the ops listed has int16 activations.
        for op, n, t in zip(sg.operators, names, types):
            if n not in ("QUANTIZE", "DEQUANTIZE", "SHAPE", "STRIDED_SLICE", "PACK") and t == float32:
                assert n in FLOAT_IN_16X8, f"{n} stayed float in 16x8"
    if mode in ("int8", "int8io"):
        float_ops = [n for n, t, op in zip(names, types, sg.operators) if t == float32
                     and n not in ("QUANTIZE", "SHAPE") and sg.tensors[op.outputs[0]].type == float32]
        assert set(float_ops) <= PENDING_KERNELS | {"DEQUANTIZE"}, float_ops


# -- the LSTM in each mode ----------------------------------------------------------------------

def _lstm_op(content):
    m, sg, names = ops(content)
    return m, sg, sg.operators[names.index("UNIDIRECTIONAL_SEQUENCE_LSTM")]


def test_dynamic_range_lstm_is_hybrid():
    model, calib, _, _ = built("lstm")
    m, sg, op = _lstm_op(convert(model, "dynamic", calib))
    weights = [sg.tensors[op.inputs[j]] for j in range(1, 9)]
    assert all(t.type == 9 and len(t.quantization.scale) == 1 for t in weights)     # int8, per tensor
    assert sg.tensors[op.inputs[0]].type == 0 and sg.tensors[op.inputs[12]].type == 0
    assert op.builtin_options["asymmetric_quantize_inputs"]


def test_dynamic_range_small_lstm_stays_float():
    """As TensorFlow: an LSTM is quantized only if every weight matrix has >= 1024 elements."""
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((5, 8)), layers.LSTM(16)])      # input weights 16x8
    m, sg, op = _lstm_op(convert(model, "dynamic", None))
    assert all(sg.tensors[op.inputs[j]].type == 0 for j in range(1, 9))


def test_int8_lstm_is_the_integer_kernel():
    model, calib, _, _ = built("lstm")
    content = convert(model, "int8io", calib)
    m, sg, op = _lstm_op(content)
    t = sg.tensors
    assert t[op.inputs[0]].type == 9 and t[op.outputs[0]].type == 9
    assert all(t[op.inputs[j]].type == 9 for j in range(1, 9))
    assert all(t[op.inputs[j]].type == 2 for j in range(12, 16))                     # int32 biases
    h, c = t[op.inputs[18]], t[op.inputs[19]]
    assert (h.type, c.type, h.is_variable, c.is_variable) == (9, 7, True, True)       # int8 / int16 states
    assert list(h.quantization.scale) == list(t[op.outputs[0]].quantization.scale)
    assert np.log2(c.quantization.scale[0]) == round(np.log2(c.quantization.scale[0]))   # a power of two
    assert len(op.intermediates) == 5 and t[op.intermediates[4]].type == 9
    # The states restart from zero on every invoke (the stateless layer), in both runtimes.
    _, _, x, _ = built("lstm")
    for ip in (litert_interpreter(content), tinylite.Interpreter(model_content=content)):
        first, _ = run(ip, x[:4])
        ip.invoke()
        again = ip.get_tensor(ip.get_output_details()[0]["index"])
        assert np.array_equal(first, again)


def test_16x8_keeps_the_lstm_float():
    model, calib, _, _ = built("lstm")
    m, sg, op = _lstm_op(convert(model, "int16x8", calib))
    assert sg.tensors[op.inputs[0]].type == 0 and sg.tensors[op.inputs[2]].type == 0
    c = tinylite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([calib[i:i + 1]] for i in range(8))
    c.target_spec.supported_ops = [tinylite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    with pytest.raises(tinylite.ConverterError, match="no UNIDIRECTIONAL_SEQUENCE_LSTM with int16"):
        c.convert()


def test_masked_scores_keep_their_resolution():
    """The causal mask's -1e9 bias does not set the masked scores' grid: it is
    requantized onto the scores' own (masked positions saturate at the bottom)."""
    model, calib, _, _ = built("causal_attention")
    for mode in ("int8", "int16x8"):
        m, sg, names = ops(convert(model, mode, calib))
        softmax = sg.operators[names.index("SOFTMAX")]
        scale = float(sg.tensors[softmax.inputs[0]].quantization.scale[0])
        assert scale < 0.5, f"{mode}: masked scores quantized with scale {scale}"


# -- a recurrent layer over a run-time length: a WHILE whose body is one step --------------------

def _gru_any_length():
    return keras.Sequential([keras.Input((None, F)), layers.GRU(U), layers.Dense(4)])


MODELS["gru_any_length"] = _gru_any_length
LOOP_TYPES = {"dynamic": 9, "float16": 10, "int8": 0, "int16x8": 0}   # the body's weight type (int8, float16, float32)


@pytest.mark.parametrize("mode", sorted(LOOP_TYPES))
def test_quantized_loop(mode):
    """The loop's step runs in float in the integer modes (its inputs dequantized, its outputs
    quantized again), as LiteRT's quantizer leaves control flow; in dynamic range and float16 the
    body's weights are quantized like the main graph's.  Both runtimes run the file at two
    lengths and stay within the SQNR bar of Keras."""
    model, calib, held_out, ref = built("gru_any_length")
    content = convert(model, mode, calib)
    check_file(content, held_out, ref)
    short = held_out[:, :6]
    check_file(content, short, keras.ops.convert_to_numpy(model(short)))
    m = tinylite.read_model(content)
    assert "WHILE" in ops(content)[2]
    body = max(m.subgraphs[1:], key=lambda sg: len(sg.operators))
    fc = next(op for op in body.operators if m.op_name(op) == "FULLY_CONNECTED")
    assert body.tensors[fc.inputs[1]].type == LOOP_TYPES[mode] or (
        mode == "float16" and m.op_name(next(op for op in body.operators if fc.inputs[1] in op.outputs)) == "DEQUANTIZE")
    assert body.tensors[fc.inputs[0]].type == 0


def test_integer_only_loop_explains():
    model, calib, _, _ = built("gru_any_length")
    with pytest.raises(tinylite.ConverterError, match="cannot be quantized to int8 in strict mode"):
        convert(model, "int8io", calib)
