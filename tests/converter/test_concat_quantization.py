"""Full integer quantization of channel-concatenation graphs (DenseNet / Inception style):
the inputs of every CONCATENATION share its output's grid, so the file has no requantizing
QUANTIZE in front of one (as TensorFlow's quantizer writes it), and the int8 model stays
close to Keras in LiteRT.

Before the ranges of concatenation groups were unified, this model got 6 requantizing
QUANTIZE ops, a file 9% larger (12608 vs 11536 bytes) and a lower SQNR (see the test)."""
import numpy as np

import keras_check  # noqa: F401,I001 - sets KERAS_BACKEND before keras loads
import tinylite
from oracle import litert_interpreter
from support import keras_oracle
from tinylite.converter.quantize import sqnr
from tinylite.flatbuffer.reader import read_model
from tinylite.interpreter.tensor_values import dequantize
from tinylite.testing import run_on_arrays

SIZE = 16


def concat_model():
    keras = keras_oracle()
    layers = keras.layers
    keras.utils.set_random_seed(7)
    inp = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inp)
    # A dense block: each layer's output is concatenated onto everything before it.
    for n in range(3):
        y = layers.BatchNormalization(name=f"dense{n}_bn")(x)
        y = layers.ReLU(name=f"dense{n}_relu")(y)
        y = layers.Conv2D(4, 3, padding="same", name=f"dense{n}_conv")(y)
        x = layers.Concatenate(name=f"dense{n}_concat")([x, y])
    x = layers.Conv2D(8, 1, activation="relu", name="transition")(x)
    x = layers.AveragePooling2D(2, name="transition_pool")(x)
    # An Inception block: convolution branches and a max-pool branch, concatenated.
    a = layers.Conv2D(6, 1, activation="relu", name="branch1x1")(x)
    b = layers.Conv2D(6, 3, padding="same", activation="relu", name="branch3x3")(x)
    c = layers.MaxPooling2D(3, strides=1, padding="same", name="branch_pool")(x)
    c = layers.ZeroPadding2D(0, name="branch_pad")(c)
    x = layers.Concatenate(name="mixed")([a, b, c])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(5, name="logits")(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(7)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            g, b_, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2.0, g.shape), rng.normal(0, 0.5, b_.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.5, 2.0, var.shape)])
    return model


def test_concatenation_inputs_share_the_output_grid_and_no_requantize(tmp_path):
    model = concat_model()
    path = tmp_path / "concat.keras"
    model.save(path)
    rng = np.random.default_rng(0)
    cal = rng.standard_normal((16, SIZE, SIZE, 3)).astype(np.float32)
    ev = rng.standard_normal((8, SIZE, SIZE, 3)).astype(np.float32)
    c = tinylite.TFLiteConverter.from_keras_model_file(str(path))
    c.optimizations = [tinylite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([cal[i:i + 1]] for i in range(len(cal)))
    content = c.convert()

    m = read_model(content)
    sg = m.subgraphs[0]
    names = [m.op_name(op) for op in sg.operators]
    # One QUANTIZE: the float model input's.  None requantizes a concatenation input.
    quantizes = [op for op, n in zip(sg.operators, names) if n == "QUANTIZE"]
    assert len(quantizes) == 1 and quantizes[0].inputs[0] in sg.inputs, names
    concats = [op for op, n in zip(sg.operators, names) if n == "CONCATENATION"]
    assert len(concats) == 4
    for op in concats:
        out = sg.tensors[op.outputs[0]].quantization
        for i in op.inputs:
            q = sg.tensors[i].quantization
            assert (float(q.scale[0]), int(q.zero_point[0])) == (float(out.scale[0]), int(out.zero_point[0])), \
                sg.tensors[i].name

    ref = model.predict(ev, verbose=0)
    outs, details = run_on_arrays(litert_interpreter(content), [ev], True)
    got = dequantize(outs[0], details[0])
    # Measured: 39.56 dB with one grid per concatenation group, 38.73 dB with the requantizing
    # QUANTIZEs this replaces (LiteRT builtin kernels: integer arithmetic, the same on every CPU).
    assert sqnr(ref, got) >= 39.3
