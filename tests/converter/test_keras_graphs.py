"""Graph structure from every source: the helper layers keras.applications defines,
nested models (also called twice, also holding op nodes), shared layers, and custom
layers of a live model.  Each model is converted from .keras, from .h5 and live, and
run in LiteRT and tinylite against Keras."""
import numpy as np
import pytest

from keras_check import check_both  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from support import need

try:
    import keras
except ImportError:  # pragma: no cover - depends on the machine
    keras = None

import tinylite  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore:__array__ implementation:DeprecationWarning")
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _keras():
    need(keras is not None, "keras is not installed (pip install '.[test]')")
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
