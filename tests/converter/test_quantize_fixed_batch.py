"""Full-integer quantization of models the calibrator used to refuse (found by converting
~90 Keras models in every mode, scripts/sweeps): a model built for a fixed batch of 1
(its reshapes, transposed convolutions and RNN states carry that batch) with several
calibration samples, and an op left in float that reads a quantized tensor without
producing a float one (a comparison).  Each file runs in LiteRT with tinylite's answers
and stays near Keras's."""
import numpy as np
import pytest

import keras_check  # noqa: F401,I001 - sets KERAS_BACKEND before keras loads
import keras
from keras import layers, ops

import tinylite
from oracle import litert_interpreter
from tinylite import lite
from tinylite.errors import ConverterError
from tinylite.testing import configure_quantization

MODES = ["int8", "int16x8"]


def fixed_batch_models():
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 16), batch_size=1)
    flat = keras.Model(x, layers.Dense(3)(layers.Flatten()(x)))
    x = keras.Input((8, 8, 4), batch_size=1)
    up = keras.Model(x, layers.Conv2DTranspose(6, 3, strides=2, padding="same")(x))
    x = keras.Input((6, 5), batch_size=1)
    rnn = keras.Model(x, layers.Dense(2)(layers.LSTM(4)(x)))
    return {"flatten": flat, "conv_transpose": up, "lstm": rnn}


def comparison_model():
    keras.utils.set_random_seed(0)
    x, z = keras.Input((8, 8)), keras.Input((8, 8))
    y = layers.Dense(8)(x)
    return keras.Model([x, z], ops.where(z > y, z, y))


def samples(model, n, rng):
    return [[rng.uniform(-1, 1, (1,) + tuple(i.shape[1:])).astype(np.float32) for i in model.inputs]
            for _ in range(n)]


def check(model, mode, calibration, test):
    c = lite.TFLiteConverter.from_keras_model(model)
    configure_quantization(c, mode, lambda: iter(calibration))
    content = c.convert()
    got = [tinylite.Interpreter(model_content=content), litert_interpreter(content)]
    outs = []
    for ip in got:
        ip.allocate_tensors()
        for d, x in zip(ip.get_input_details(), test):
            ip.set_tensor(d["index"], x)
        ip.invoke()
        outs.append(ip.get_tensor(ip.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(outs[0], outs[1])
    want = np.asarray(model(test if len(test) > 1 else test[0]))
    err = np.abs(outs[0] - want).max() / np.abs(want).max()
    assert err < 0.1, f"{mode}: {err:.3f} relative to Keras"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["flatten", "conv_transpose", "lstm"])
def test_fixed_batch_model_calibrates_on_many_samples(mode, name):
    model = fixed_batch_models()[name]
    rng = np.random.default_rng(0)
    calibration = samples(model, 8, rng)
    check(model, mode, calibration, calibration[3])


@pytest.mark.parametrize("mode", MODES)
def test_float_comparison_reads_dequantized_values(mode):
    model = comparison_model()
    rng = np.random.default_rng(1)
    calibration = samples(model, 8, rng)
    check(model, mode, calibration, calibration[5])


def test_samples_that_do_not_fit_a_fixed_batch_say_so():
    model = fixed_batch_models()["flatten"]
    c = lite.TFLiteConverter.from_keras_model(model)
    configure_quantization(c, "int8", lambda: iter([[np.zeros((4, 8, 16), np.float32)]]))
    with pytest.raises(ConverterError, match=r"calibration could not run .*\[4, 8, 16\].*takes .*\[1, 8, 16\]"):
        c.convert()
