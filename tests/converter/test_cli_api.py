"""The `tflite_convert` command (a real subprocess), the TFLiteConverter API surface,
and the errors: unsupported layers and options, Lambda layers, bad input files."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from keras_check import close  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import run_litert
from support import keras_oracle

import tinylite
from tinylite.errors import ConverterError


def _cli(args, cwd, script=True):
    exe = shutil.which("tflite_convert") if script else None
    cmd = [exe] if exe else [sys.executable, "-m", "tinylite.tflite_convert"]
    return subprocess.run(cmd + args, cwd=cwd, capture_output=True, text=True, timeout=120)


def _check_mnist(path, corpus):
    io = np.load(corpus / "mnist_cnn" / "io.npz")
    x, ref = io["input0"][:16], io["keras_output0"][:16]
    close(run_litert(path.read_bytes(), [x])[0], ref, "LiteRT")
    ip = tinylite.Interpreter(model_path=str(path))
    ip.resize_tensor_input(0, x.shape)
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    close(ip.get_tensor(ip.get_output_details()[0]["index"]), ref, "tinylite")


def test_seed_command(tmp_path, corpus):
    """The issue's exact command, through the installed console script."""
    assert shutil.which("tflite_convert"), \
        "the tflite_convert console script is not installed: run `pip install -e .` (declared in pyproject.toml)"
    shutil.copy(corpus / "mnist_cnn" / "model.h5", tmp_path / "mnist_cnn.h5")
    r = _cli(["--keras_model_file=./mnist_cnn.h5", "--output_file=./mnist_cnn.tflite"], tmp_path)
    assert r.returncode == 0, r.stderr
    _check_mnist(tmp_path / "mnist_cnn.tflite", corpus)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-") or ".tinylite-tmp-" in p]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "mnist_cnn.tflite").stat().st_mode & 0o777 == 0o666 & ~mask


def test_module_command_keras_zip(tmp_path, corpus):
    r = _cli(["--keras_model_file", str(corpus / "mnist_cnn" / "model.keras"), "--output_file",
              str(tmp_path / "m.tflite"), "--enable_v1_converter", "--experimental_new_converter"], tmp_path,
             script=False)
    assert r.returncode == 0, r.stderr
    _check_mnist(tmp_path / "m.tflite", corpus)


@pytest.mark.parametrize("flags, message", [
    (["--inference_type=INT8", "--mean_values=0", "--std_dev_values=1"], "needs calibration data"),
    (["--inference_type=QUANTIZED_UINT8"], "QUANTIZED_UINT8"),
    (["--post_training_quantize", "--target_ops=TFLITE_BUILTINS_INT8"], "representative_dataset"),
    (["--default_ranges_min=0", "--default_ranges_max=6"], "--default_ranges_min/max"),
    (["--input_shapes=1,28,28,1"], "--input_shapes go with --graph_def_file"),
])
def test_cli_refuses_what_it_cannot_do(tmp_path, corpus, flags, message):
    out = tmp_path / "out.tflite"
    r = _cli(["--keras_model_file", str(corpus / "mlp5" / "model.h5"), "--output_file", str(out)] + flags,
             tmp_path, script=False)
    assert r.returncode == 1
    assert message in r.stderr
    assert not out.exists()


def test_cli_saved_model_and_missing_file(tmp_path):
    r = _cli(["--saved_model_dir", str(tmp_path), "--output_file", "x.tflite"], tmp_path, script=False)
    assert r.returncode == 1 and "has no saved_model.pb" in r.stderr
    r = _cli(["--keras_model_file", "nope.h5", "--output_file", "x.tflite"], tmp_path, script=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = _cli(["--keras_model_file", "nope.h5"], tmp_path, script=False)
    assert r.returncode == 2 and "--output_file" in r.stderr


def test_failed_conversion_keeps_existing_output(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    out = tmp_path / "out.tflite"
    out.write_bytes(b"previous")
    r = _cli(["--keras_model_file", str(bad), "--output_file", str(out)], tmp_path, script=False)
    assert r.returncode == 1 and "corrupt" in r.stderr
    assert out.read_bytes() == b"previous"


# -- API ---------------------------------------------------------------------------------------

def test_lite_aliases(corpus):
    import tinylite as tf_lite
    from tinylite import lite

    assert tf_lite.lite.TFLiteConverter is tinylite.TFLiteConverter is lite.TFLiteConverter
    assert lite.Interpreter is tinylite.Interpreter
    assert lite.Optimize.DEFAULT is tinylite.Optimize.DEFAULT and lite.OpsSet.TFLITE_BUILTINS
    converter = tinylite.compat.v1.lite.TFLiteConverter.from_keras_model_file(str(corpus / "mlp5" / "model.h5"))
    v1 = tinylite.compat.v1.TFLiteConverter.from_keras_model_file(str(corpus / "mlp5" / "model.keras"))
    assert converter.convert() == v1.convert()


@pytest.mark.parametrize("setting, message", [
    (lambda c: setattr(c, "inference_input_type", np.int8), "inference_input_type=int8 is not supported"),
    (lambda c: (setattr(c, "optimizations", [tinylite.Optimize.DEFAULT]),
                setattr(c, "inference_output_type", np.uint8)), "needs a representative_dataset|not supported"),
    (lambda c: setattr(c, "optimizations", [tinylite.Optimize.EXPERIMENTAL_SPARSITY]), "EXPERIMENTAL_SPARSITY"),
])
def test_quantization_options_tensorflow_refuses(corpus, setting, message):
    """Combinations TensorFlow refuses are errors (quantization itself: tests/converter/test_quantization.py)."""
    converter = tinylite.TFLiteConverter.from_keras_model_file(str(corpus / "mlp5" / "model.h5"))
    setting(converter)
    with pytest.raises(ConverterError, match=message):
        converter.convert()


def test_v1_post_training_quantize(corpus):
    converter = tinylite.compat.v1.lite.TFLiteConverter.from_keras_model_file(str(corpus / "mnist_cnn" / "model.h5"))
    converter.post_training_quantize = True
    model = tinylite.read_model(converter.convert())
    assert any(t.type == 9 for t in model.subgraphs[0].tensors)    # int8 weights


def test_float_settings_are_accepted(corpus):
    converter = tinylite.TFLiteConverter.from_keras_model_file(str(corpus / "mlp5" / "model.h5"))
    converter.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS, tinylite.OpsSet.SELECT_TF_OPS]
    converter.target_spec.supported_types = [np.float32]
    converter.inference_input_type = np.float32
    assert converter.convert()[4:8] == b"TFL3"


def test_saved_model_dir_without_a_saved_model(tmp_path):
    with pytest.raises(ConverterError, match="has no saved_model.pb"):
        tinylite.TFLiteConverter.from_saved_model(str(tmp_path)).convert()


# -- errors --------------------------------------------------------------------------------------

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(name="keras")
def keras_fixture():
    return keras_oracle()


def _convert(model):
    return tinylite.TFLiteConverter.from_keras_model(model).convert()


def test_unsupported_layer_names_layer_and_class(tmp_path, keras):
    # A live model's layer without a lowering is traced (a Lambda converts so,
    # see test_keras_graphs.py); one whose call() cannot be converted names the layer and
    # the layer that works instead.
    model = keras.Sequential([keras.Input((3, 4, 4, 4, 3)), keras.layers.ConvLSTM3D(2, 3, name="my_cl")])
    with pytest.raises(ConverterError, match=r"layer 'my_cl' \(ConvLSTM3D\).*Use ConvLSTM2D, or "
                                             r"TimeDistributed\(Conv3D\) followed by LSTM instead"):
        _convert(model)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ConverterError, match=r"layer 'my_cl' \(ConvLSTM3D\).*not supported. Use "
                                             r"ConvLSTM2D.*Supported layers: .*Dense"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert()


def test_unsupported_option_names_it(keras):
    model = keras.Sequential([keras.Input((4, 4, 3)),
                              keras.layers.Conv2DTranspose(2, 3, dilation_rate=2, name="up")])
    with pytest.raises(ConverterError, match=r"'up' \(Conv2DTranspose\): option dilation_rate=\(2, 2\) is not "
                                             r"supported"):
        _convert(model)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="mish", name="d")])
    with pytest.raises(ConverterError, match=r"'d' \(Dense\): option activation='mish'.*Supported activations"):
        _convert(model)


def test_lambda_layer_is_explained(tmp_path, keras):
    # A live model's Lambda is traced; a file's holds code that cannot be read.
    model = keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda t: t * 2, name="double")])
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    ip = tinylite.Interpreter(model_content=_convert(model))
    ip.resize_tensor_input(ip.get_input_details()[0]["index"], x.shape)
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    np.testing.assert_array_equal(ip.get_tensor(ip.get_output_details()[0]["index"]), x * 2)
    model.save(tmp_path / "m.keras", zipped=True)
    with pytest.raises(ConverterError, match=r"'double' \(Lambda\): a Lambda layer holds arbitrary Python code.*"
                                             r"keras\.ops"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert()


@pytest.mark.parametrize("content, message", [
    (b"", "neither an HDF5"),
    (b"not a model at all", "neither an HDF5"),
    (b"PK\x03\x04broken zip", "not a valid .keras archive"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "corrupt or truncated"),
])
def test_corrupt_files(tmp_path, content, message):
    path = tmp_path / "model.h5"
    path.write_bytes(content)
    with pytest.raises(ConverterError, match=message):
        tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()


def test_truncated_keras_file(tmp_path, corpus):
    data = (corpus / "mlp5" / "model.keras").read_bytes()
    path = tmp_path / "model.keras"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConverterError, match="model.keras"):
        tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()


def test_missing_file():
    with pytest.raises(ConverterError, match="does not exist"):
        tinylite.TFLiteConverter.from_keras_model_file("/nonexistent/model.h5").convert()


def test_weights_only_h5(tmp_path, keras):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ConverterError, match="weights-only"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "w.weights.h5")).convert()


def test_reading_files_needs_no_keras(corpus):
    code = ("import sys; sys.modules['keras'] = None; import tinylite; "
            f"c = tinylite.TFLiteConverter.from_keras_model_file({str(corpus / 'rnet' / 'model.keras')!r}).convert(); "
            "assert 'keras' not in [m for m in sys.modules if sys.modules[m] is not None]; print(len(c))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_tinylite_convert_command(tmp_path, corpus):
    """`tinylite convert MODEL -o OUT` and the same flags as tflite_convert."""
    out = tmp_path / "m.tflite"
    r = subprocess.run([sys.executable, "-m", "tinylite.cli", "convert", str(corpus / "mnist_cnn" / "model.h5"),
                        "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    _check_mnist(out, corpus)
    r = subprocess.run([sys.executable, "-m", "tinylite.cli", "convert", "--keras_model_file",
                        str(corpus / "mlp5" / "model.h5"), "--output_file", str(out), "--post_training_quantize"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
