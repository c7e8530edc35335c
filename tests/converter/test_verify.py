"""`experimental_verify` / `tinylite convert --verify`: the converted file is run in
tinylite against the source model in Keras; a wrong conversion fails and names the
first layer whose output diverges."""
import builtins
import subprocess
import sys

import numpy as np
import pytest

from keras_check import check_both  # noqa: F401,I001  (sets KERAS_BACKEND before keras loads)
from support import keras_oracle

keras = keras_oracle()

import tinylite  # noqa: E402
from tinylite.converter.verify import VerificationError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def model():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    L = keras.layers
    x = keras.Input((6, 6, 3), name="image")
    h = L.Conv2D(4, 3, name="conv")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.ReLU(name="relu")(h)
    gate = L.ReLU(6.0, name="hard_relu")(h + 3.0) * (1.0 / 6.0)       # MobileNetV3's hard sigmoid
    h = L.Multiply(name="gated")([h, gate])
    y = L.Dense(3, name="head")(L.GlobalAveragePooling2D(name="pool")(h))
    m = keras.Model(x, y)
    bn = m.get_layer("bn")
    bn.set_weights([rng.uniform(0.5, 1.5, 4), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 4), rng.uniform(0.5, 2, 4)])
    return m


def test_verify_passes_a_correct_conversion_and_reports_errors(model, tmp_path):
    model.save(tmp_path / "m.keras")
    for conv in (tinylite.TFLiteConverter.from_keras_model(model),
                 tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras"))):
        conv.experimental_verify = True
        conv.convert()
        v = conv.verification
        assert v.ok and list(v.max_relative_error) == ["output_0"]
        assert 0 <= v.max_relative_error["output_0"] < 1e-5
        assert "output_0" in v.summary()


def test_verify_catches_a_wrong_conversion_and_names_the_first_diverging_layer(model, tmp_path, monkeypatch):
    """Issue 18's bug put back: op nodes read as the same-named layers (`x + 3.0` as a
    one-input Add layer, which drops the constant)."""
    from tinylite.frontends.keras import config

    model.save(tmp_path / "m.keras")
    monkeypatch.setattr(config, "is_op_node", lambda entry: False)
    plain = tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras"))
    plain.convert()                                   # without verification it converts "fine"
    conv = tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras"))
    conv.experimental_verify = True
    with pytest.raises(VerificationError, match=r"output_0 .*first layer whose output diverges is 'add(_\d+)?' \(Add\)"):
        conv.convert()


def test_verify_catches_a_broken_pass(model, monkeypatch):
    """A pass disabled: BatchNormalization's MUL/ADD dropped instead of folded into the conv."""
    from tinylite.converter import passes
    from tinylite.converter.passes import _graph, fold_batchnorm

    def drop_batchnorm(m):
        fold_batchnorm.run(m)
        for sg in m.subgraphs:
            for op in list(sg.operators):
                t = sg.tensors[op.outputs[0]].name
                if t.startswith("bn/") and _graph.op_name(m, op) in ("MUL", "ADD") and op in sg.operators:
                    _graph.replace_uses(sg, op.outputs[0], op.inputs[0])
                    sg.operators.remove(op)

    monkeypatch.setattr(passes, "PASSES", [drop_batchnorm if p is fold_batchnorm.run else p for p in passes.PASSES])
    monkeypatch.setattr(fold_batchnorm, "run", lambda m: None)
    conv = tinylite.TFLiteConverter.from_keras_model(model)
    conv.experimental_verify = True
    with pytest.raises(VerificationError) as e:
        conv.convert()
    # BatchNormalization's output has no tensor of its own once folded; the message names
    # the next layer, 'bn' before it, and that the file without passes matches Keras
    assert "first layer whose output diverges is 'relu' (ReLU)" in str(e.value)
    assert "'bn' (BatchNormalization) have no tensor of their own" in str(e.value)
    assert "without the graph passes (converter/passes), the model matches Keras" in str(e.value)


def test_verify_says_when_keras_is_missing(model, tmp_path, monkeypatch):
    model.save(tmp_path / "m.keras")
    real_import = builtins.__import__

    def no_keras(name, *args, **kwargs):
        if name == "keras" or name.startswith("keras."):
            raise ImportError("No module named 'keras'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_keras)
    conv = tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras"))
    conv.experimental_verify = True
    with pytest.raises(tinylite.ConverterError, match="runs the source model in Keras, which is not installed"):
        conv.convert()


def test_cli_verify(model, tmp_path):
    model.save(tmp_path / "m.keras")
    out = tmp_path / "m.tflite"
    r = subprocess.run([sys.executable, "-m", "tinylite.cli", "convert", str(tmp_path / "m.keras"), "-o", str(out),
                        "--verify"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "verified against Keras" in r.stderr and "output_0" in r.stderr
    assert out.exists()
