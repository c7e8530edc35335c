"""Graph structure from every source: the helper layers keras.applications defines,
nested models (also called twice, also holding op nodes), shared layers, and custom
layers of a live model.  Each model is converted from .keras, from .h5 and live, and
run in LiteRT and tinylite against Keras."""
import numpy as np
import pytest

from keras_check import check_both  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from support import keras_oracle

keras = keras_oracle()

import tinylite  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore:__array__ implementation:DeprecationWarning")
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _keras():
    keras.utils.set_random_seed(0)


def _x(*shape):
    return RNG.standard_normal((2,) + shape).astype(np.float32)


def _custom_scale():
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    x = keras.Input((5, 5, 3))
    r = keras.layers.Conv2D(3, 1)(x)
    y = CustomScaleLayer(0.17)([x, r])
    return keras.Model(x, keras.layers.Activation("relu")(y)), [_x(5, 5, 3)]


def _layer_scale():
    from keras.src.applications.convnext import LayerScale, StochasticDepth

    x = keras.Input((4, 4, 6))
    scale = LayerScale(1e-6, 6)
    h = keras.layers.Dense(6)(x)
    y = keras.layers.Add()([x, StochasticDepth(0.1)(scale(h))])
    model = keras.Model(x, y)
    scale.set_weights([RNG.uniform(0.5, 1.5, (6,)).astype(np.float32)])   # not 1e-6: the branch must count
    return model, [_x(4, 4, 6)]


def _nested():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)],
                             name="inner")
    x = keras.Input((4,))
    mid = keras.Model(x, keras.layers.Add()([inner(x), keras.layers.Dense(2)(x)]), name="mid")
    outer = keras.Sequential([keras.Input((4,)), mid, keras.layers.Activation("tanh")])
    return outer, [_x(4)]


def _nested_with_ops():
    x = keras.Input((4,))
    h = keras.layers.Dense(4)(x)
    inner = keras.Model(x, keras.layers.ReLU(6.0)(h + 3.0) * (1.0 / 6.0) - x[:, :1], name="inner_ops")
    a = keras.Input((4,))
    return keras.Model(a, inner(a) * 2.0), [_x(4)]


def _nested_called_twice():
    x = keras.Input((4,))
    inner = keras.Model(x, keras.layers.Dense(3, activation="relu")(x), name="shared_inner")
    a, b = keras.Input((4,)), keras.Input((4,))
    return keras.Model([a, b], keras.layers.Subtract()([inner(a), inner(b)])), [_x(4), _x(4)]


def _shared_layers():
    dense = keras.layers.Dense(3, activation="relu")
    conv = keras.layers.Conv2D(2, 3, padding="same")
    a, b = keras.Input((4,)), keras.Input((6, 6, 1))
    h = conv(conv(keras.layers.Conv2D(2, 1)(b)))      # one layer applied to its own output
    y = keras.layers.Concatenate()([dense(a), dense(a * 2.0), keras.layers.GlobalAveragePooling2D()(h)])
    return keras.Model([a, b], y), [_x(4), _x(6, 6, 1)]


CASES = {"custom_scale": _custom_scale, "layer_scale": _layer_scale, "nested": _nested,
         "nested_with_ops": _nested_with_ops, "nested_called_twice": _nested_called_twice,
         "shared_layers": _shared_layers}


@pytest.mark.parametrize("source", ["keras", "h5", "live"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_graph(case, source, tmp_path):
    model, feeds = CASES[case]()
    out = model(feeds if len(feeds) > 1 else feeds[0])
    refs = [keras.ops.convert_to_numpy(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
    if source == "live":
        converter = tinylite.TFLiteConverter.from_keras_model(model)
    else:
        path = tmp_path / f"m.{source}"
        model.save(path)
        converter = tinylite.TFLiteConverter.from_keras_model_file(str(path))
    check_both(converter.convert(), feeds, refs)


class _RNetOps(keras.Model):
    """MTCNN's RNet written with keras.ops on its own weights (seed 003's model in Keras 3)."""

    def __init__(self):
        super().__init__(name="rnet_ops")
        rng = np.random.default_rng(3)

        def w(shape, scale=0.3):
            return self.add_weight(shape=shape, initializer=keras.initializers.Constant(
                rng.normal(0, scale, shape).astype(np.float32)))
        self.k1, self.b1, self.a1 = w((3, 3, 3, 8)), w((8,)), w((8,), 0.1)
        self.k2, self.b2 = w((3, 3, 8, 12)), w((12,))
        self.dw = w((3, 3, 12, 1))
        self.fc, self.fb = w((2 * 2 * 12, 16)), w((16,))
        self.box, self.score = w((16, 4)), w((16, 2))

    def call(self, x):
        o = keras.ops
        h = o.conv(x, self.k1, padding="valid") + self.b1
        h = o.relu(h) - o.relu(-h) * self.a1                       # PReLU
        h = o.max_pool(h, 3, 2, padding="same")
        h = o.relu(o.conv(h, self.k2, strides=1, padding="valid") + self.b2)
        h = o.depthwise_conv(h, self.dw, padding="same")
        h = o.average_pool(h, 2, 2, padding="valid")
        h = o.reshape(h, (-1, 2 * 2 * 12))
        h = o.relu(o.matmul(h, self.fc) + self.fb)
        return o.matmul(h, self.box), o.softmax(o.matmul(h, self.score))


def test_rnet_written_with_keras_ops():
    model = _RNetOps()
    x = _x(15, 15, 3)
    refs = [keras.ops.convert_to_numpy(o) for o in model(x)]
    check_both(tinylite.TFLiteConverter.from_keras_model(model).convert(), [x], refs)


def test_same_live_model_converts_to_the_same_bytes():
    """Tracing creates new keras.ops objects each time (softmax, softmax_1, ...): the
    file must not depend on how often the model was converted."""
    model = _RNetOps()
    model(_x(15, 15, 3))
    files = [tinylite.TFLiteConverter.from_keras_model(model).convert() for _ in range(3)]
    assert files[0] == files[1] == files[2]
    sig = tinylite.read_model(files[0]).signature_defs[0]
    assert [t.name for t in sig.outputs] == ["output_0", "output_1"]


class _GatedScale(keras.layers.Layer):
    """A helper layer no converter knows (as KerasHub backbones define them): traced."""

    def build(self, shape):
        self.gate = self.add_weight(shape=(shape[-1],), initializer="random_normal")
        self.inner = keras.layers.Dense(shape[-1])

    def call(self, x, training=None):
        return x * keras.ops.sigmoid(self.inner(x) + self.gate) + x[..., :1] * 0.5


class _Block(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(6)
        self.gated = _GatedScale()

    def call(self, x):
        return self.gated(keras.ops.tanh(self.dense(x)))


def test_custom_layer_in_live_functional_model():
    x = keras.Input((5, 6))
    y = _GatedScale()(keras.layers.Dense(6)(x))
    model = keras.Model(x, keras.layers.GlobalAveragePooling1D()(_GatedScale()(y)))
    feeds = [_x(5, 6)]
    check_both(tinylite.TFLiteConverter.from_keras_model(model).convert(), feeds,
               [keras.ops.convert_to_numpy(model(feeds[0]))])


def test_custom_layer_and_nested_subclassed_model_in_subclassed_model():
    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = _Block()
            self.head = keras.layers.Dense(3)

        def call(self, x):
            return keras.ops.softmax(self.head(self.block(x) - 1.0))

    model = Outer()
    feeds = [_x(6)]
    ref = keras.ops.convert_to_numpy(model(feeds[0]))
    check_both(tinylite.TFLiteConverter.from_keras_model(model).convert(), feeds, [ref])


def test_custom_layer_in_a_file_names_the_layer_and_the_fix(tmp_path):
    x = keras.Input((5, 6))
    model = keras.Model(x, _GatedScale(name="gated")(x))
    model.save(tmp_path / "m.keras")
    with pytest.raises(tinylite.ConverterError, match=r"'gated' \(_GatedScale\).*from_keras_model"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert()


def test_augmentation_layers_pass_through_at_inference(tmp_path):
    L = keras.layers
    x = keras.Input((8, 8, 3))
    h = L.RandomFlip()(x)
    h = L.RandomRotation(0.2)(h)
    h = L.RandomZoom(0.1)(h)
    h = L.RandomTranslation(0.1, 0.1)(h)
    h = L.RandomContrast(0.2)(h)
    model = keras.Model(x, L.Conv2D(2, 3)(h))
    feeds = [_x(8, 8, 3)]
    ref = keras.ops.convert_to_numpy(model(feeds[0], training=False))
    model.save(tmp_path / "m.keras")
    check_both(tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert(), feeds, [ref])


def test_unsupported_layer_suggests_what_works(tmp_path):
    x = keras.Input((3, 4, 4, 4, 2))
    model = keras.Model(x, keras.layers.ConvLSTM3D(2, 3, name="clstm")(x))
    model.save(tmp_path / "m.keras")
    with pytest.raises(tinylite.ConverterError, match=r"'clstm' \(ConvLSTM3D\).*Use ConvLSTM2D"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert()


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("shape,make", [
    ((5, 6), lambda: keras.layers.GroupNormalization(groups=3)),
    ((4, 4, 8), lambda: keras.layers.GroupNormalization(groups=2, epsilon=1e-5)),
    ((4, 4, 8), lambda: keras.layers.GroupNormalization(groups=8, center=False)),
    ((4, 4, 6), lambda: keras.layers.GroupNormalization(groups=1, scale=False)),
    ((6, 4, 3), lambda: keras.layers.GroupNormalization(groups=2, axis=1)),
    ((5, 6), lambda: keras.layers.UnitNormalization()),
    ((4, 4, 6), lambda: keras.layers.UnitNormalization(axis=[1, 2])),
    ((6, 5), lambda: keras.layers.UnitNormalization(axis=1)),
], ids=["group-3", "group-2-2d", "group-8-nocenter", "group-1-noscale", "group-axis1",
        "unit", "unit-axes12", "unit-axis1"])
def test_group_and_unit_normalization_from_files(shape, make, fmt, tmp_path):
    model = keras.Sequential([keras.Input(shape), keras.layers.Dense(shape[-1]), make()])
    for w in model.layers[-1].weights:
        w.assign(RNG.uniform(0.5, 1.5, w.shape).astype(np.float32))
    feeds = [_x(*shape) * 3 + 1]
    path = tmp_path / f"m.{fmt}"
    model.save(path)
    check_both(tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert(), feeds,
               [keras.ops.convert_to_numpy(model(feeds[0]))])


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")     # Keras's own rsqrt(0)
def test_unit_normalization_of_a_zero_vector_is_zero(tmp_path):
    # keras.ops.normalize clamps 1/norm at 1e12: a zero vector stays zero (no NaN).
    model = keras.Sequential([keras.Input((4,)), keras.layers.UnitNormalization()])
    model.save(tmp_path / "m.keras")
    feeds = [np.array([[0, 0, 0, 0], [3, 4, 0, 0], [1e-20, 0, 0, 0]], np.float32)]
    want = keras.ops.convert_to_numpy(model(feeds[0]))
    assert np.array_equal(want[0], np.zeros(4)) and not np.isnan(want).any()
    check_both(tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert(), feeds, [want])


@pytest.mark.parametrize("make", [
    lambda: keras.layers.GroupNormalization(groups=3),
    lambda: keras.layers.UnitNormalization(),
    lambda: keras.layers.Lambda(lambda t: keras.ops.maximum(t * 2.0, t[..., :1]) - 1.0),
], ids=["GroupNormalization", "UnitNormalization", "Lambda"])
def test_layers_without_a_lowering_are_traced_in_live_models(make):
    model = keras.Sequential([keras.Input((5, 6)), keras.layers.Dense(6), make()])
    for w in model.layers[-1].weights:
        w.assign(RNG.uniform(0.5, 1.5, w.shape).astype(np.float32))
    feeds = [_x(5, 6)]
    check_both(tinylite.TFLiteConverter.from_keras_model(model).convert(), feeds,
               [keras.ops.convert_to_numpy(model(feeds[0]))])
