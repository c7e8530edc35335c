"""Post-training quantization: every shared-corpus model (from model.h5) in each of
TensorFlow's modes runs in LiteRT, agrees with tinylite, is no larger than
TensorFlow's file (+1%) and is at least as close to Keras as TensorFlow's own
conversion; plus the converter options, errors, CLI flags and the debugger."""
import json
from pathlib import Path
import subprocess
import sys
import warnings

import numpy as np
import pytest

import keras_check  # noqa: F401,I001 - sets KERAS_BACKEND before keras loads
import tinylite
from support import keras_oracle
from oracle import litert_interpreter
from tinylite.errors import ConverterError
from tinylite.interpreter.tensor_values import dequantize
from tinylite.testing import match_by_shape, run_on_arrays

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]
# variant (the corpus file name) -> converter settings
VARIANTS = ["dynamic", "float16", "int8", "int8io", "int16x8"]
CALIBRATION = 64
# Calibration runs the float model in tinylite with its products rounded once from
# float64 (the same file on every CPU: test_calibration_determinism.py), while
# TensorFlow's ran LiteRT's float32 kernels; a calibrated max 1-3 ulps away moves a
# scale by ~1e-7 relative and the SQNR by up to ~1e-3 dB either way.  That noise, not a
# method difference, is all this slack covers.
SQNR_NOISE_DB = 0.002


def inputs_of(folder):
    io = np.load(folder / "io.npz")
    return ([io[k] for k in sorted(io.files) if k.startswith("input")],
            [io[k] for k in sorted(io.files) if k.startswith("keras_output")])


def configure(converter, variant, xs):
    if variant == "dynamic":
        converter.optimizations = [tinylite.Optimize.DEFAULT]
    elif variant == "float16":
        converter.optimizations = [tinylite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [np.float16]
    else:
        converter.optimizations = [tinylite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x[i:i + 1] for x in xs] for i in range(CALIBRATION))
        if variant == "int8io":
            converter.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = np.int8
            converter.inference_output_type = np.int8
        elif variant == "int16x8":
            converter.target_spec.supported_ops = [
                tinylite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return converter


def worst_sqnr(outputs, details, keras_outputs):
    from tinylite.converter.quantize import sqnr

    refs = match_by_shape(keras_outputs, details)
    return min(sqnr(r, dequantize(o, d)) for o, d, r in zip(outputs, details, refs))


@pytest.fixture(scope="module")
def converted(corpus):
    """(model, variant) -> .tflite bytes, each converted once."""
    cache = {}

    def get(name, variant):
        if (name, variant) not in cache:
            folder = corpus / name
            xs, _ = inputs_of(folder)
            conv = configure(tinylite.TFLiteConverter.from_keras_model_file(str(folder / "model.h5")), variant, xs)
            cache[(name, variant)] = conv.convert()
        return cache[(name, variant)]
    return get


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", MODELS)
def test_corpus_quantized(corpus, converted, name, variant):
    folder = corpus / name
    content = converted(name, variant)
    xs, keras_outputs = inputs_of(folder)

    # LiteRT runs it; tinylite agrees (the same batch in both).
    got_l, details = run_on_arrays(litert_interpreter(content), [x[:64] for x in xs])
    got_t, _ = run_on_arrays(tinylite.Interpreter(model_content=content), [x[:64] for x in xs])
    for k, (lt, tl) in enumerate(zip(got_l, got_t)):
        assert lt.dtype == tl.dtype and lt.shape == tl.shape
        if lt.dtype == np.float32:
            err = float(np.abs(lt - tl).max())
            assert err <= 1e-3 * float(np.abs(lt).max()), f"output {k}: tinylite is {err} off LiteRT"
        else:
            lsb = np.abs(lt.astype(np.int64) - tl.astype(np.int64))
            # Bit-exact, as the README claims (integer kernels follow LiteRT's arithmetic).
            assert lsb.max() == 0, f"output {k}: {np.count_nonzero(lsb)} values up to {lsb.max()} LSB off"

    # Mode-specific structure.
    model = tinylite.read_model(content)
    ops = [model.op_name(op) for op in model.subgraphs[0].operators]
    types = {t.type for t in model.subgraphs[0].tensors}
    if variant in ("int8", "int16x8"):
        assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"
    if variant == "int8io":
        assert "QUANTIZE" not in ops and "DEQUANTIZE" not in ops
        assert all(d["dtype"] == np.int8 for d in details)
    if variant == "float16":
        assert "DEQUANTIZE" in ops and model.metadata_bytes("reduced_precision_support") == b"fp16accfp32"
    if variant == "int16x8":
        sg = model.subgraphs[0]
        assert 7 in types                 # INT16 activations, INT64 biases
        assert all(sg.tensors[op.inputs[2]].type == 4 for op in sg.operators
                   if model.op_name(op) in ("CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2 and op.inputs[2] >= 0)

    # No larger than TensorFlow's file (+1%), at least TensorFlow's fidelity to Keras.
    tf_path = folder / f"tf_{variant}.tflite"
    if not tf_path.exists():
        assert (name, variant) == ("rnet", "int16x8")   # TensorFlow refuses PRELU in 16x8
        ours, _ = run_on_arrays(litert_interpreter(content), xs, per_sample=True)
        assert worst_sqnr(ours, details, keras_outputs) > 30
        return
    assert len(content) <= 1.01 * tf_path.stat().st_size
    ref = np.load(folder / f"tf_{variant}.litert.npz")
    tf_details = litert_interpreter(tf_path.read_bytes()).get_output_details()
    tf_sqnr = worst_sqnr([ref[f"output{j}"] for j in range(len(tf_details))], tf_details, keras_outputs)
    # One sample per invoke, as the corpus's LiteRT outputs were made.
    ours, _ = run_on_arrays(litert_interpreter(content), xs, per_sample=True)
    our_sqnr = worst_sqnr(ours, details, keras_outputs)
    assert our_sqnr >= tf_sqnr - SQNR_NOISE_DB, f"SQNR {our_sqnr:.4f} dB < TensorFlow's {tf_sqnr:.4f} dB"


def test_weights_match_tensorflow(corpus, converted):
    """Per-channel int8 weights equal TensorFlow's, value for value (float32 rounding included)."""
    ours = tinylite.read_model(converted("rnet", "int8"))
    tf = tinylite.read_model(str(corpus / "rnet" / "tf_int8.tflite"))

    def weights(m):
        sg = m.subgraphs[0]
        return sorted((tuple(t.shape), m.buffer_array(t).tobytes(), t.quantization.scale.tobytes())
                      for t in sg.tensors if t.type == 9 and m.buffer_array(t) is not None)
    assert weights(ours) == weights(tf)


# -- converter options -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp5(corpus):
    xs, _ = inputs_of(corpus / "mlp5")
    return str(corpus / "mlp5" / "model.h5"), xs[0][:CALIBRATION]


def _int8(path, dataset, **attrs):
    c = tinylite.TFLiteConverter.from_keras_model_file(path)
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = dataset
    for k, v in attrs.items():
        setattr(c, k, v)
    return c


def test_representative_dataset_forms(mlp5):
    path, x = mlp5
    name = tinylite.read_model(tinylite.TFLiteConverter.from_keras_model_file(path).convert()) \
        .signature_defs[0].inputs[0].name
    forms = [
        lambda: ([x[i:i + 1]] for i in range(len(x))),                          # list in input order
        lambda: ({name: x[i:i + 1]} for i in range(len(x))),                    # dict by input name
        lambda: (("serving_default", {name: x[i:i + 1]}) for i in range(len(x))),  # (signature key, dict)
        tinylite.RepresentativeDataset(lambda: (x[i] for i in range(len(x)))),  # no batch dim, wrapped
    ]
    results = {_int8(path, f).convert() for f in forms}
    assert len(results) == 1
    with pytest.raises(ConverterError, match="missing"):
        _int8(path, lambda: ({"nope": x[i:i + 1]} for i in range(4))).convert()


def test_full_integer_needs_a_representative_dataset(mlp5):
    path, _ = mlp5
    c = tinylite.TFLiteConverter.from_keras_model_file(path)
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ConverterError, match="representative_dataset"):
        c.convert()
    c.inference_input_type = np.int8
    c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS]
    with pytest.raises(ConverterError, match="inference_input_type=int8"):
        c.convert()


def test_uint8_io_and_float_io(mlp5):
    path, x = mlp5
    rep = lambda: ([x[i:i + 1]] for i in range(len(x)))  # noqa: E731
    u8 = _int8(path, rep, inference_input_type=np.uint8, inference_output_type=np.uint8).convert()
    i8 = _int8(path, rep, inference_input_type=np.int8, inference_output_type=np.int8).convert()
    ip = litert_interpreter(u8)
    di, do = ip.get_input_details()[0], ip.get_output_details()[0]
    assert di["dtype"] == np.uint8 and do["dtype"] == np.uint8
    j8 = litert_interpreter(i8)
    assert di["quantization"][1] == j8.get_input_details()[0]["quantization"][1] + 128
    got_u, _ = run_on_arrays(ip, [x])
    got_i, _ = run_on_arrays(j8, [x])
    assert np.array_equal(got_u[0].astype(np.int64) - 128, got_i[0].astype(np.int64))
    got_t, _ = run_on_arrays(tinylite.Interpreter(model_content=u8), [x])
    assert np.abs(got_t[0].astype(int) - got_u[0].astype(int)).max() <= 1


def test_optimize_for_size_warns_and_acts_as_default(mlp5):
    path, x = mlp5
    rep = lambda: ([x[i:i + 1]] for i in range(len(x)))  # noqa: E731
    default = _int8(path, rep).convert()
    with pytest.warns(DeprecationWarning, match="OPTIMIZE_FOR_SIZE is deprecated"):
        size = _int8(path, rep, optimizations=[tinylite.Optimize.OPTIMIZE_FOR_SIZE]).convert()
    with pytest.warns(DeprecationWarning, match="OPTIMIZE_FOR_LATENCY is deprecated"):
        latency = _int8(path, rep, optimizations=[tinylite.Optimize.OPTIMIZE_FOR_LATENCY]).convert()
    assert default == size == latency


def test_representative_dataset_alone_is_not_quantization(mlp5):
    """As in TensorFlow: without optimizations the dataset is ignored (a float model)."""
    path, x = mlp5
    c = tinylite.TFLiteConverter.from_keras_model_file(path)
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(4))
    assert c.convert() == tinylite.TFLiteConverter.from_keras_model_file(path).convert()


@pytest.fixture(scope="module")
def elu_model():
    """Dense -> ELU -> Dense: ELU has no integer kernel in tinylite."""
    keras = keras_oracle()
    inp = keras.Input((8,), name="x")
    h = keras.layers.Dense(16, name="hidden")(inp)
    h = keras.layers.ELU(name="elu_layer")(h)
    out = keras.layers.Dense(4, name="head")(h)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    return model, x


@pytest.fixture(scope="module")
def sin_model():
    """Dense -> sin -> Dense: SIN has no integer kernel (in LiteRT or tinylite)."""
    keras = keras_oracle()
    inp = keras.Input((8,), name="x")
    h = keras.layers.Dense(16, name="hidden")(inp)
    h = keras.ops.sin(h)
    out = keras.layers.Dense(4, name="head")(h)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    return model, x


def test_strict_mode_names_the_op_and_layer(sin_model):
    model, x = sin_model
    c = tinylite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
    c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ConverterError, match=r"SIN \(layer 'sin(_\d+)?'.*no int8 kernel for SIN"):
        c.convert()
    # Float fallback (the default): SIN runs in float between DEQUANTIZE and QUANTIZE.
    c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS]
    content = c.convert()
    m = tinylite.read_model(content)
    ops = [m.op_name(op) for op in m.subgraphs[0].operators]
    k = ops.index("SIN")
    assert ops[k - 1] == "DEQUANTIZE" and ops[k + 1] == "QUANTIZE"
    got_l, _ = run_on_arrays(litert_interpreter(content), [x])
    got_t, _ = run_on_arrays(tinylite.Interpreter(model_content=content), [x])
    assert np.abs(got_l[0] - got_t[0]).max() <= 1e-3 * np.abs(got_l[0]).max()
    want = model.predict(x, verbose=0)
    from tinylite.converter.quantize import sqnr

    assert sqnr(want, got_l[0]) > 25


def _collapsed_converter(units, tail, ops):
    """(full-integer converter with `ops` as its only op set, calibration rows) of Dense(16, relu)
    -> Dense 'faint' (`units`, weights scaled by 1e-12, no bias: its outputs, and the calibrated
    range after it, collapse to ~1e-10) -> tail(that tensor)."""
    keras = keras_oracle()
    inp = keras.Input((8,), name="x")
    h = keras.layers.Dense(16, activation="relu", name="first")(inp)
    h = keras.layers.Dense(units, name="faint")(h)
    model = keras.Model(inp, tail(h))
    w, b = model.get_layer("faint").get_weights()
    model.get_layer("faint").set_weights([w * 1e-12, b * 0])
    x = np.random.default_rng(units).normal(size=(32, 8)).astype(np.float32)
    c = tinylite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
    c.target_spec.supported_ops = [ops]
    return c, x


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_bias_past_its_integer_range_saturates(dtype):
    """A bias over a collapsed input scale (a random-weight MobileNetV3Small at 16x8 has one)
    lies past the bias type's range: it saturates at the type's ends.  int64's maximum is no
    float64 (it rounds up to 2**63), so a plain clip there overflowed the cast, to int64's
    minimum on x86: the sign flipped."""
    from tinylite.converter.quantize.weights import quantize_bias

    info = np.iinfo(dtype)
    b = np.array([1e3, -1e3, 0.5, 0.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no invalid cast
        q, scales = quantize_bias(b, 1e-30, np.full(4, 1e-5, np.float32), dtype)
    assert q.dtype == dtype
    # The top end: int32's maximum, or the largest float64 below 2**63.
    assert q[0] == q[2] > info.max - 2048 and q[1] == info.min and q[3] == 0


def test_16x8_collapsed_range_falls_back_to_float():
    """A layer whose calibrated range collapses (its weights ~1e-12: activations near 1e-10)
    gets an int16 scale so small that its fused RELU6's bound (6 / scale) leaves int32, where
    LiteRT refuses the model at allocate_tensors (TensorFlow writes such files: a random-weight
    MobileNetV2 at 16x8 is one).  With float fallback the layer stays float and LiteRT runs the
    file with tinylite's outputs; int16-only conversion fails naming the layer and the cause."""
    keras = keras_oracle()
    c, x = _collapsed_converter(
        16, lambda h: keras.layers.Dense(4, name="head")(keras.layers.ReLU(max_value=6.0, name="faint_relu6")(h)),
        tinylite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)
    with pytest.raises(ConverterError, match=r"layer 'faint_relu6'.*RELU6: its bound 6.0 over the scale .*outside int32"):
        c.convert()
    c.target_spec.supported_ops += [tinylite.OpsSet.TFLITE_BUILTINS]
    content = c.convert()
    m = tinylite.read_model(content)
    sg = m.subgraphs[0]
    kinds = {sg.tensors[op.outputs[0]].name: sg.tensors[op.outputs[0]].type for op in sg.operators
             if m.op_name(op) == "FULLY_CONNECTED"}
    assert sorted(kinds.values()) == [0, 7, 7], kinds          # the faint layer float, the others int16
    got_l, _ = run_on_arrays(litert_interpreter(content), [x])
    got_t, _ = run_on_arrays(tinylite.Interpreter(model_content=content), [x])
    # The float layer's sums (BLAS's order, and its threads', against LiteRT's) can differ in a last
    # bit, which the QUANTIZE after it may carry across a step: one step of the int16 head's output.
    head = [op for op in sg.operators if m.op_name(op) == "DEQUANTIZE"][-1]
    step = float(sg.tensors[head.inputs[0]].quantization.scale[0])
    assert np.abs(got_l[0] - got_t[0]).max() <= step * 1.01


def test_int8_softmax_over_collapsed_logits_stays_float(tmp_path):
    """Logits whose calibrated range collapsed (scale x beta <= 2**-26, as in a random-weight
    MobileNetV3's head): LiteRT's default kernel runs an int8 SOFTMAX on them, but its
    reference kernel, which TFLite Micro shares, aborts the process.  With float fallback the
    SOFTMAX stays float and the file runs under both resolvers, agreeing with tinylite;
    integer-only conversion fails naming the layer and the reference kernels."""
    keras = keras_oracle()
    c, x = _collapsed_converter(10, lambda h: keras.layers.Softmax(name="probs")(h), tinylite.OpsSet.TFLITE_BUILTINS_INT8)
    with pytest.raises(ConverterError, match=r"SOFTMAX \(layer 'probs'.*LiteRT's reference int8 kernel"):
        c.convert()
    c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS]
    content = c.convert()
    m = tinylite.read_model(content)
    sg = m.subgraphs[0]
    softmax = [op for op in sg.operators if m.op_name(op) == "SOFTMAX"]
    assert len(softmax) == 1 and sg.tensors[softmax[0].outputs[0]].type == 0      # float
    path = tmp_path / "model.tflite"
    path.write_bytes(content)
    np.save(tmp_path / "x.npy", x[:1])
    want = run_on_arrays(tinylite.Interpreter(model_content=content), [x[:1]])[0][0]
    # In a subprocess: a regression would abort LiteRT's process, not pytest's.
    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[3]); from oracle import litert_interpreter; "
              "from tinylite.testing import run_on_arrays; c = open(sys.argv[1], 'rb').read(); "
              "x = np.load(sys.argv[2]); "
              "[np.save(sys.argv[1] + r + '.npy', run_on_arrays(litert_interpreter(c, r), [x])[0][0]) "
              "for r in ('builtin', 'ref')]")
    tests = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "x.npy"), tests],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    for r in ("builtin", "ref"):
        got = np.load(str(path) + r + ".npy")
        assert np.abs(got - want).max() <= 1e-6, r


def test_16x8_quantizes_ops_tensorflow_refuses(elu_model, corpus, converted):
    """rnet's PRELU runs with int16 activations (TensorFlow 2.21 refuses it)."""
    m = tinylite.read_model(converted("rnet", "int16x8"))
    sg = m.subgraphs[0]
    prelus = [op for op in sg.operators if m.op_name(op) == "PRELU"]
    assert prelus and all(sg.tensors[op.inputs[0]].type == 7 for op in prelus)


def test_denylisted_layers_keep_a_layer_in_float(mlp5):
    path, x = mlp5
    rep = lambda: ([x[i:i + 1]] for i in range(len(x)))  # noqa: E731
    c = _int8(path, rep, denylisted_layers=["dense_5"])
    m = tinylite.read_model(c.convert())
    sg = m.subgraphs[0]
    fcs = [op for op in sg.operators if m.op_name(op) == "FULLY_CONNECTED"]
    kinds = [sg.tensors[op.outputs[0]].type for op in fcs]
    assert kinds == [9, 0, 9]          # dense_4 int8, dense_5 float, dense_6 int8
    with pytest.raises(ConverterError, match="no layer named"):
        _int8(path, rep, denylisted_layers=["nope"]).convert()


# -- debugger --------------------------------------------------------------------------------------

def test_debugger_csv_json_and_denylist(tmp_path, corpus):
    folder = corpus / "fashion_cnn"
    xs, _ = inputs_of(folder)
    rep = lambda: ([xs[0][i:i + 1]] for i in range(32))  # noqa: E731
    c = tinylite.TFLiteConverter.from_keras_model_file(str(folder / "model.h5"))
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = rep
    debugger = tinylite.QuantizationDebugger(converter=c, debug_dataset=rep)
    debugger.run()
    stats = debugger.layer_statistics
    layers = {s["layer"] for s in stats.values()}
    assert {"conv2d_2", "dense_2", "dense_3"} <= layers
    for s in stats.values():
        assert s["num_elements"] > 0 and s["max_abs_error"] >= abs(s["mean_error"])
        assert 0 < s["rmse/scale"] < 10 and s["sqnr"] > 15
    debugger.layer_statistics_dump(tmp_path / "stats.csv")
    lines = (tmp_path / "stats.csv").read_text().splitlines()
    assert lines[0].startswith("op_name,tensor_idx,tensor_name,layer") and "sqnr" in lines[0]
    assert len(lines) == len(stats) + 1
    debugger.layer_statistics_dump(tmp_path / "stats.json")
    data = json.loads((tmp_path / "stats.json").read_text())
    assert len(data["layers"]) == len(stats) and data["model"]

    options = tinylite.QuantizationDebugOptions(denylisted_layers=["dense_2"])
    kept = tinylite.QuantizationDebugger(converter=c, debug_dataset=rep, debug_options=options)
    m = tinylite.read_model(kept.get_nondebug_quantized_model())
    sg = m.subgraphs[0]
    dense = [op for op in sg.operators if m.op_name(op) == "FULLY_CONNECTED"]
    assert [sg.tensors[op.outputs[0]].type for op in dense] == [0, 9]


# -- command line ----------------------------------------------------------------------------------

def _cmd(args, tmp_path):
    return subprocess.run([sys.executable, "-m"] + args, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_tf1_cli_flags(tmp_path, corpus):
    model = str(corpus / "mlp5" / "model.h5")
    xs, _ = inputs_of(corpus / "mlp5")
    np.savez(tmp_path / "cal.npz", input0=xs[0][:CALIBRATION])
    cases = [
        (["--post_training_quantize"], None),
        (["--post_training_quantize", "--quantize_to_float16"], "FLOAT16"),
        (["--inference_type=INT8", "--mean_values=0", "--std_dev_values=30", "--calibration",
          str(tmp_path / "cal.npz")], "INT8"),
    ]
    import tinylite.tflite_convert  # noqa: F401 - the module the subprocess runs
    for flags, expect in cases:
        out = tmp_path / "out.tflite"
        r = _cmd(["tinylite.tflite_convert", "--enable_v1_converter", "--keras_model_file", model,
                  "--output_file", str(out)] + flags, tmp_path)
        assert r.returncode == 0, r.stderr
        ip = tinylite.Interpreter(model_path=str(out))
        types = {d["dtype"].__name__ for d in ip.get_tensor_details()}
        if expect == "FLOAT16":
            assert "float16" in types
        if expect == "INT8":
            d = ip.get_input_details()[0]
            assert d["dtype"] == np.int8 and d["quantization"][1] == 0
            assert abs(d["quantization"][0] - 1 / 30) < 1e-7
        litert_interpreter(out.read_bytes()).allocate_tensors()
        out.unlink()
    r = _cmd(["tinylite.tflite_convert", "--keras_model_file", model, "--output_file", str(tmp_path / "o.tflite"),
              "--inference_type=INT8"], tmp_path)
    assert r.returncode == 1 and "--calibration" in r.stderr
    r = _cmd(["tinylite.tflite_convert", "--keras_model_file", model, "--output_file", str(tmp_path / "o.tflite"),
              "--inference_type=QUANTIZED_UINT8", "--mean_values=128", "--std_dev_values=127"], tmp_path)
    assert r.returncode == 1 and "QUANTIZED_UINT8" in r.stderr and not (tmp_path / "o.tflite").exists()


def test_tinylite_convert_quantize_flags(tmp_path, corpus):
    model = str(corpus / "mlp5" / "model.h5")
    xs, _ = inputs_of(corpus / "mlp5")
    np.savez(tmp_path / "cal.npz", input0=xs[0][:CALIBRATION])
    out = tmp_path / "q.tflite"
    r = _cmd(["tinylite.cli", "convert", model, "-o", str(out), "--quantize", "int8", "--calibration",
              str(tmp_path / "cal.npz"), "--io-type", "int8", "--keep-float", "dense_5"], tmp_path)
    assert r.returncode == 0, r.stderr
    m = tinylite.read_model(str(out))
    sg = m.subgraphs[0]
    assert sg.tensors[sg.inputs[0]].type == 9 and sg.tensors[sg.outputs[0]].type == 9
    assert [sg.tensors[op.outputs[0]].type for op in sg.operators if m.op_name(op) == "FULLY_CONNECTED"] == [9, 0, 9]
    folder = tmp_path / "samples"
    folder.mkdir()
    for i in range(8):
        np.save(folder / f"{i:03d}.npy", xs[0][i:i + 1])
    r = _cmd(["tinylite.cli", "convert", model, "-o", str(out), "--quantize", "int16x8", "--calibration",
              str(folder)], tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cmd(["tinylite.cli", "convert", model, "-o", str(out), "--quantize", "int8"], tmp_path)
    assert r.returncode == 1 and "--calibration" in r.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = _cmd(["tinylite.cli", "convert", model, "-o", str(out), "--quantize", "dynamic"], tmp_path)
    assert r.returncode == 0, r.stderr
