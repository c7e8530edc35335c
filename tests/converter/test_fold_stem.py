"""The stem folds (passes fold_pad and fold_input_scale): a ZeroPadding2D that adds
exactly SAME's border becomes the next convolution's SAME padding, and a constant
scale before a convolution (Rescaling(1/255), `x * c`) moves into its filter, as
TensorFlow's converter writes keras.applications stems.  Each folded model must still
load in LiteRT and match Keras (numpy backend); each pattern the folds must not touch
(a border SAME would not add, an offset, a scale read twice) keeps its op and matches."""
import numpy as np
import pytest

from keras_check import check_both  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from support import keras_oracle

keras = keras_oracle()

import tinylite  # noqa: E402
from tinylite.converter.passes.fold_pad import same_padding  # noqa: E402

L = keras.layers
RNG = np.random.default_rng(0)


def _ops(content):
    m = tinylite.read_model(content)
    return [(m.op_name(op), op) for op in m.subgraphs[0].operators]


def _convert(model):
    return tinylite.TFLiteConverter.from_keras_model(model).convert()


def _check(model, shape):
    x = RNG.uniform(0, 255, (2,) + shape).astype(np.float32)
    got = model(x)
    want = [keras.ops.convert_to_numpy(y) for y in (got if isinstance(got, (list, tuple)) else [got])]
    content = _convert(model)
    check_both(content, [x], want)
    return [name for name, _ in _ops(content)], content


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize("size,kernel,stride,dilation,want", [
    (224, 3, 2, 1, (0, 1)), (56, 5, 2, 1, (1, 2)), (7, 3, 1, 1, (1, 1)), (9, 3, 1, 2, (2, 2)), (5, 1, 2, 1, (0, 0)),
    (7, 3, 2, 1, (1, 1))])
def test_same_padding_is_tflites_rule(size, kernel, stride, dilation, want):
    assert same_padding(size, kernel, stride, dilation) == want


@pytest.mark.parametrize("size", [16, 15])
def test_efficientnet_stem_folds_to_one_same_conv(size):
    from keras.src.applications.imagenet_utils import correct_pad

    x = keras.Input((size, size, 3))
    h = L.Rescaling(1.0 / 255.0)(x)
    h = L.ZeroPadding2D(correct_pad(h, 3))(h)
    h = L.Conv2D(8, 3, strides=2, padding="valid", use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.Activation("swish")(h)
    h = L.ZeroPadding2D(correct_pad(h, 5))(h)
    h = L.DepthwiseConv2D(5, strides=2, padding="valid", depth_multiplier=2)(h)
    names, content = _check(keras.Model(x, h), (size, size, 3))
    assert "PAD" not in names and "MUL" not in names[:1], names
    convs = [op for name, op in _ops(content) if name in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert [op.builtin_options["padding"] for op in convs] == [0, 0]   # SAME


def test_per_channel_scale_folds_into_depthwise_and_conv():
    x = keras.Input((6, 6, 3))
    c = RNG.uniform(0.5, 2.0, (3,)).astype(np.float32)
    h = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x * c)
    d = RNG.uniform(0.5, 2.0, (6,)).astype(np.float32)
    h = L.Conv2D(4, 3, padding="same")(h * d)
    names, _ = _check(keras.Model(x, h), (6, 6, 3))
    assert names == ["DEPTHWISE_CONV_2D", "CONV_2D"], names


def test_a_border_same_would_not_add_stays_a_pad():
    x = keras.Input((8, 8, 3))
    h = L.ZeroPadding2D(((1, 1), (1, 1)))(x)          # SAME at stride 2 on 8 would add (0, 1)
    h = L.Conv2D(4, 3, strides=2, padding="valid")(h)
    names, _ = _check(keras.Model(x, h), (8, 8, 3))
    assert names == ["PAD", "CONV_2D"], names


def test_an_offset_is_not_folded_through_a_padded_conv():
    x = keras.Input((8, 8, 3))
    h = L.Rescaling(1.0 / 127.5, offset=-1.0)(x)
    h = L.Conv2D(4, 3, padding="same")(h)
    names, _ = _check(keras.Model(x, h), (8, 8, 3))
    assert "ADD" in names or "SUB" in names, names


def test_a_scale_read_twice_is_not_folded():
    x = keras.Input((8, 8, 3))
    h = L.Rescaling(0.5)(x)
    a = L.Conv2D(4, 3, padding="same")(h)
    names, _ = _check(keras.Model(x, [a, h]), (8, 8, 3))
    assert "MUL" in names, names
