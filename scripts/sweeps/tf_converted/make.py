"""Build small random-weight Keras models and convert them with TF's TFLiteConverter.

Run: a Python with TensorFlow (dev time only) make.py [name-substring ...]
Writes files/<model>_<mode>.tflite, files/<model>.json (input specs) and
conversion.json (status per model x mode).
"""
import json, os, sys, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import keras
from keras import layers, ops

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files")
os.makedirs(OUT, exist_ok=True)

MODELS = {}


def model(*specs):
    """specs: per input (shape, kind, extra) with kind 'f11', 'f01' or 'tok' (extra=vocab)."""
    def deco(fn):
        MODELS[fn.__name__] = (fn, specs)
        return fn
    return deco


DYN_BATCH = False


def I(shape, dtype="float32"):
    return keras.Input(shape, batch_size=None if DYN_BATCH else 1, dtype=dtype)


# ---------------------------------------------------------------- conv family
@model(((32, 32, 3), "f01"))
def conv2d(x):
    y = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu6")(x)
    y = layers.Conv2D(8, 3, dilation_rate=2, padding="valid", activation="relu")(y)
    y = layers.Conv2D(6, (1, 3), strides=(1, 2), padding="same", use_bias=False)(y)
    y = layers.GlobalAveragePooling2D()(y)
    return layers.Dense(10, activation="softmax")(y)


@model(((16, 4), "f11"))
def conv1d(x):
    y = layers.Conv1D(8, 3, padding="same", activation="relu")(x)
    y = layers.Conv1D(8, 3, strides=2, padding="valid")(y)
    y = layers.Conv1D(6, 2, dilation_rate=2, padding="causal", activation="tanh")(y)
    return y


@model(((24, 24, 4), "f11"))
def sepconv(x):
    y = layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2, activation="relu")(x)
    y = layers.DepthwiseConv2D(3, strides=2, padding="valid")(y)
    y = layers.DepthwiseConv2D(3, dilation_rate=2, padding="same", depth_multiplier=2)(y)
    y = layers.SeparableConv2D(4, 3, strides=2, padding="same")(y)
    return y


@model(((8, 8, 4), "f11"))
def conv2dtranspose(x):
    y = layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu")(x)
    y = layers.Conv2DTranspose(4, 3, strides=2, padding="valid")(y)
    y = layers.Conv2DTranspose(3, 2, strides=1, padding="same", use_bias=False)(y)
    return y


@model(((8, 16), "f11"))
def dense3d(x):
    y = layers.Dense(12, activation="relu")(x)
    y = layers.Dense(4)(y)
    return y


@model(((16, 16, 3), "f11"))
def batchnorm(x):
    y = layers.Conv2D(8, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Flatten()(y)
    y = layers.BatchNormalization()(layers.Dense(8)(y))
    return y


@model(((8, 16), "f11"))
def layernorm(x):
    y = layers.LayerNormalization()(x)
    y = layers.Dense(8)(y)
    y = layers.LayerNormalization(axis=-1, epsilon=1e-3)(y)
    return y


@model(((8, 16), "f11"))
def mha(x):
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    y = layers.LayerNormalization()(layers.Add()([x, a]))
    return layers.Dense(4)(y)


@model(((10,), "tok", 50))
def embedding_gap(x):
    y = layers.Embedding(50, 8)(x)
    y = layers.GlobalAveragePooling1D()(y)
    return layers.Dense(3, activation="softmax")(y)


# ---------------------------------------------------------------- recurrent
@model(((8, 4), "f11"))
def lstm(x):
    y = layers.LSTM(8, return_sequences=True)(x)
    return layers.LSTM(6)(y)


@model(((8, 4), "f11"))
def lstm_unroll(x):
    y = layers.LSTM(8, return_sequences=True, unroll=True)(x)
    return layers.LSTM(6, unroll=True)(y)


@model(((8, 4), "f11"))
def gru(x):
    y = layers.GRU(8, return_sequences=True)(x)
    return layers.GRU(6)(y)


@model(((8, 4), "f11"))
def gru_unroll(x):
    y = layers.GRU(8, return_sequences=True, unroll=True)(x)
    return layers.GRU(6, unroll=True, reset_after=False)(y)


@model(((8, 4), "f11"))
def simplernn(x):
    y = layers.SimpleRNN(8, return_sequences=True)(x)
    return layers.SimpleRNN(4, unroll=True)(y)


@model(((8, 4), "f11"))
def bilstm(x):
    y = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    return layers.Bidirectional(layers.LSTM(4))(y)


@model(((8, 4), "f11"))
def bigru(x):
    return layers.Bidirectional(layers.GRU(4, unroll=True), merge_mode="sum")(x)


# ---------------------------------------------------------------- pooling / resize
@model(((16, 16, 4), "f11"))
def pool2d(x):
    a = layers.MaxPooling2D(2)(x)
    b = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    c = layers.Concatenate()([a, b])
    d = layers.GlobalMaxPooling2D()(c)
    e = layers.GlobalAveragePooling2D()(layers.MaxPooling2D(3, strides=1, padding="same")(c))
    return layers.Concatenate()([d, e])


@model(((16, 4), "f11"))
def pool1d(x):
    a = layers.MaxPooling1D(2)(x)
    b = layers.AveragePooling1D(3, strides=2, padding="same")(x)
    c = layers.Concatenate()([a, b])
    return layers.Concatenate()([layers.GlobalMaxPooling1D()(c), layers.GlobalAveragePooling1D()(c)])


@model(((8, 8, 3), "f01"))
def upsample(x):
    a = layers.UpSampling2D(2, interpolation="nearest")(x)
    b = layers.UpSampling2D(2, interpolation="bilinear")(x)
    return layers.Add()([a, b])


@model(((10, 10, 3), "f01"))
def resizing(x):
    a = layers.Resizing(16, 16, interpolation="bilinear")(x)
    b = layers.Resizing(16, 16, interpolation="nearest")(x)
    c = layers.Resizing(7, 7, interpolation="bilinear")(a)
    return layers.Concatenate()([a, b]), c


@model(((12, 12, 3), "f11"))
def pad_crop(x):
    y = layers.ZeroPadding2D(((1, 2), (0, 3)))(x)
    y = layers.Conv2D(4, 3)(y)
    y = layers.Cropping2D(((1, 0), (2, 1)))(y)
    z = layers.Reshape((-1, 4))(y)
    z = layers.ZeroPadding1D(2)(z)
    z = layers.Cropping1D((3, 1))(z)
    return z


@model(((6, 8), "f11"), ((6, 8), "f11"))
def merge(a, b):
    c = layers.Concatenate(axis=1)([a, b])
    d = layers.Add()([a, b])
    e = layers.Multiply()([a, b])
    f = layers.Subtract()([a, b])
    g = layers.Maximum()([a, b])
    h = layers.Minimum()([a, b])
    i = layers.Average()([a, b])
    return layers.Concatenate(axis=1)([c, d, e, f, g, h, i])


# ---------------------------------------------------------------- activations
def act_model(act):
    def fn(x):
        y = layers.Conv2D(8, 3, padding="same")(x)
        y = act(y)
        return layers.Conv2D(4, 1)(y)
    return fn


ACTS = {
    "relu6": layers.ReLU(6.0),
    "swish": layers.Activation("silu"),
    "gelu_tanh": lambda t: ops.gelu(t, approximate=True),
    "gelu_exact": lambda t: ops.gelu(t, approximate=False),
    "hard_sigmoid": layers.Activation("hard_sigmoid"),
    "hard_swish": layers.Activation("hard_silu"),
    "elu": layers.ELU(),
    "selu": layers.Activation("selu"),
    "softplus": layers.Activation("softplus"),
    "leaky_relu": layers.LeakyReLU(0.2),
    "prelu": layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.4)),
    "tanh": layers.Activation("tanh"),
    "sigmoid": layers.Activation("sigmoid"),
}
for _n, _a in ACTS.items():
    _f = act_model(_a)
    _f.__name__ = "act_" + _n
    MODELS[_f.__name__] = (_f, (((8, 8, 3), "f11"),))


@model(((4, 6, 8), "f11"))
def softmax_axes(x):
    y = layers.Dense(8)(x)
    a = layers.Softmax(axis=-1)(y)
    b = layers.Softmax(axis=1)(y)
    c = layers.Softmax(axis=2)(y)
    return a, b, c


@model(((6, 4, 3), "f11"))
def reshape_permute(x):
    y = layers.Permute((2, 1, 3))(x)
    y = layers.Reshape((4, 18))(y)
    y = layers.Dense(5)(y)
    y = layers.Permute((2, 1))(y)
    return layers.Dense(3)(layers.Flatten()(y))


# ---------------------------------------------------------------- keras.ops
@model(((8, 8, 4), "f11"))
def ops_reduce(x):
    y = layers.Dense(6)(x)
    a = ops.mean(y, axis=(1, 2))
    b = ops.max(y, axis=1)
    c = ops.mean(ops.square(y), axis=-1, keepdims=True)
    d = ops.sum(y, axis=2)
    e = ops.min(y, axis=-1)
    return a, b, c, d, e


@model(((8, 8), "f11"))
def ops_math(x):
    y = layers.Dense(8)(x)
    a = ops.sqrt(ops.abs(y) + 0.01)
    b = ops.rsqrt(ops.square(y) + 0.1)
    c = ops.exp(y)
    d = ops.log(ops.abs(y) + 0.5)
    return ops.concatenate([a, b, c, d], axis=-1)


@model(((8, 8), "f11"), ((8, 8), "f11"))
def ops_elem(x, z):
    y = layers.Dense(8)(x)
    a = ops.abs(y)
    b = ops.minimum(y, z)
    c = ops.clip(y, -0.3, 0.4)
    d = ops.where(y > 0, y, 0.1 * y)
    e = ops.where(z > y, z, y)
    return ops.concatenate([a, b, c, d, e], axis=-1)


@model(((8, 10), "f11"))
def ops_cumsum(x):
    y = layers.Dense(10)(x)
    return ops.cumsum(y, axis=1), ops.cumsum(y, axis=-1)


@model(((8, 10), "f11"))
def ops_argmax(x):
    y = layers.Dense(10)(x)
    return ops.argmax(y, axis=-1), ops.argmin(y, axis=1)


@model(((16,), "f11"))
def ops_topk(x):
    y = layers.Dense(16)(x)
    v, i = ops.top_k(y, k=4)
    return v, i


@model(((4, 6, 3), "f11"))
def ops_shape(x):
    y = layers.Dense(4)(x)
    t = ops.transpose(y, (0, 3, 1, 2))            # 1,4,4,6
    s1, s2 = ops.split(t, 2, axis=-1)             # 1,4,4,3 each
    st = ops.stack([s1, s2], axis=1)              # 1,2,4,4,3
    g = ops.take(y, np.array([0, 2, 3], np.int32), axis=1)   # 1,4,3,4
    p = ops.pad(y, ((0, 0), (1, 0), (0, 2), (0, 0)))
    tl = ops.tile(y, (1, 1, 2, 1))
    return st, g, p, tl


@model(((4, 8, 6), "f11"), ((4, 6, 5), "f11"))
def ops_matmul(a, b):
    y = ops.matmul(a, b)                       # 1,4,8,5
    z = ops.matmul(y, ops.transpose(y, (0, 1, 3, 2)))  # 1,4,8,8
    return layers.Softmax()(z)


# ---------------------------------------------------------------- small nets
@model(((16, 16, 3), "f01"))
def mobilenet_block(x):
    y = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    r = y
    y = layers.Conv2D(16, 1, use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("hard_silu")(y)
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    se = layers.GlobalAveragePooling2D(keepdims=True)(y)
    se = layers.Conv2D(4, 1, activation="relu")(se)
    se = layers.Conv2D(16, 1, activation="hard_sigmoid")(se)
    y = layers.Multiply()([y, se])
    y = layers.Conv2D(8, 1, use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Add()([r, y])
    y = layers.GlobalAveragePooling2D()(y)
    return layers.Dense(5)(y)


@model(((12,), "tok", 30))
def tiny_transformer(x):
    e = layers.Embedding(30, 16)(x)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(e, e)
    y = layers.LayerNormalization(epsilon=1e-6)(e + a)
    f = layers.Dense(32, activation="gelu")(y)
    f = layers.Dense(16)(f)
    y = layers.LayerNormalization(epsilon=1e-6)(y + f)
    y = layers.GlobalAveragePooling1D()(y)
    return layers.Dense(4)(y)


@model(((16, 3), "f11"))
def conv_lstm_head(x):
    y = layers.Conv1D(8, 3, padding="same", activation="relu")(x)
    y = layers.MaxPooling1D(2)(y)
    y = layers.LSTM(8)(y)
    return layers.Dense(2, activation="sigmoid")(y)


# ---------------------------------------------------------------- batch 2
@model(((12, 12, 4), "f11"))
def conv_misc(x):
    y = layers.Conv2D(8, 4, strides=3, padding="same")(x)          # even kernel, stride 3
    y = layers.Conv2D(8, 3, groups=2, padding="same", activation="relu")(y)  # grouped
    y = layers.Conv2D(4, (2, 1), padding="valid")(y)
    return y


@model(((10, 6), "f11"))
def conv1d_misc(x):
    y = layers.Conv1D(8, 4, strides=3, padding="same")(x)
    y = layers.Conv1D(8, 3, groups=4, padding="same")(y)
    y = layers.SeparableConv1D(6, 3, padding="same", depth_multiplier=2)(y)
    y = layers.Conv1DTranspose(4, 3, strides=2, padding="same")(y)
    return y


@model(((13, 11, 3), "f11"))
def pool_odd(x):
    a = layers.AveragePooling2D((3, 2), strides=(2, 3), padding="valid")(x)
    b = layers.MaxPooling2D((2, 3), strides=2, padding="same")(x)
    c = layers.AveragePooling2D(2, padding="same")(x)
    return a, b, c


@model(((8, 16), "f11"))
def mha_causal(x):
    a = layers.MultiHeadAttention(num_heads=4, key_dim=4, value_dim=6)(x, x, use_causal_mask=True)
    return layers.Dense(4)(a)


@model(((8, 16), "f11"))
def norms(x):
    a = layers.UnitNormalization()(layers.Dense(8)(x))
    b = layers.GroupNormalization(groups=4)(layers.Dense(8)(x))
    c = layers.LayerNormalization(center=False, scale=False)(x)
    return a, b, c


@model(((8, 12), "f11"))
def log_softmax(x):
    y = layers.Dense(12)(x)
    return ops.log_softmax(y, axis=-1), layers.Softmax()(3.0 * y)


@model(((8, 8), "f11"))
def ops_round(x):
    y = layers.Dense(8)(x) * 3.0
    return ops.concatenate([ops.floor(y), ops.ceil(y), ops.round(y), ops.sign(y)], axis=-1)


@model(((8, 8), "f11"))
def ops_math2(x):
    y = layers.Dense(8)(x)
    a = ops.sin(y)
    b = ops.cos(y)
    c = ops.power(ops.abs(y) + 0.1, 1.7)
    d = ops.reciprocal(ops.abs(y) + 0.5)
    e = ops.divide(y, ops.abs(x) + 0.5)
    f = ops.square(y - x)
    return ops.concatenate([a, b, c, d, e, f], axis=-1)


@model(((8, 8), "f11"))
def acts2(x):
    y = layers.Dense(16)(x)
    a = ops.hard_tanh(y)
    b = ops.log_sigmoid(y)
    c = ops.mish(y) if hasattr(ops, "mish") else y * ops.tanh(ops.softplus(y))
    d = ops.relu(y) - ops.relu(-y) * 0.3
    e = ops.softsign(y)
    return ops.concatenate([a, b, c, d, e], axis=-1)


@model(((6, 8), "f11"))
def reduce2(x):
    y = layers.Dense(8)(x)
    a = ops.prod(ops.abs(y) + 0.5, axis=-1)
    b = ops.mean(y, axis=1)
    c = ops.max(y, axis=(1, 2))
    d = ops.var(y, axis=-1)
    e = ops.sum(y, axis=(1, 2), keepdims=True)
    return a, b, c, d, e


@model(((6, 8), "f11"))
def slicing(x):
    y = layers.Dense(8)(x)
    a = y[:, ::2, 1:-1]
    b = ops.flip(y, axis=1)
    c = ops.expand_dims(y[:, 2, :], 1)
    d = ops.squeeze(c, axis=1)
    e = ops.repeat(y, 2, axis=1)
    f = ops.broadcast_to(ops.expand_dims(d, 1), (1, 3, 8))
    return a, b, d, e, f


@model(((6, 8), "f11"))
def ops_misc(x):
    y = layers.Dense(8)(x)
    s = ops.sort(y, axis=-1)
    e = ops.einsum("bij,bkj->bik", y, y)
    o = ops.one_hot(ops.argmax(y, axis=-1), 8) if False else ops.one_hot(ops.cast(ops.abs(y[:, :, 0]) * 4, "int32"), 5)
    return s, e, o


@model(((8, 4), "f11"))
def lstm_options(x):
    y = layers.LSTM(8, return_sequences=True, go_backwards=True, unroll=True)(x)
    y = layers.LSTM(6, activation="relu", recurrent_activation="hard_sigmoid", unroll=True)(y)
    return y


@model(((8, 4), "f11"))
def bilstm_unroll(x):
    y = layers.Bidirectional(layers.LSTM(6, return_sequences=True, unroll=True), merge_mode="concat")(x)
    return layers.Bidirectional(layers.GRU(4, unroll=True), merge_mode="mul")(y)


@model(((8, 4), "f11"))
def rnn_state(x):
    y, h, c = layers.LSTM(6, return_sequences=True, return_state=True, unroll=True)(x)
    z = layers.GRU(5, unroll=True)(y, initial_state=[layers.Dense(5)(h)])
    return z, c


@model(((12,), "tok", 40))
def emb_mask(x):
    e = layers.Embedding(40, 8, mask_zero=True)(x)
    y = layers.LSTM(6, unroll=True)(e)
    return layers.Dense(3)(y)


@model(((16, 16, 3), "f01"))
def resize_variants(x):
    a = layers.Resizing(8, 8, interpolation="bilinear", crop_to_aspect_ratio=True)(x)
    b = layers.Resizing(24, 20, interpolation="nearest")(x)
    c = layers.UpSampling2D((2, 3), interpolation="bilinear")(a)
    d = layers.Resizing(5, 7, interpolation="nearest", pad_to_aspect_ratio=True)(x)
    return a, b, c, d


@model(((16, 16, 3), "f11"))
def tiny_cnn_big(x):
    y = layers.Conv2D(16, 3, strides=2, padding="same", activation="swish")(x)
    y = layers.BatchNormalization()(y)
    y = layers.DepthwiseConv2D(5, padding="same", activation="relu6")(y)
    y = layers.Conv2D(24, 1, activation="gelu")(y)
    y = layers.MaxPooling2D(2)(y)
    y = layers.Conv2D(32, 3, padding="same", activation="elu")(y)
    y = layers.GlobalAveragePooling2D()(y)
    y = layers.Dropout(0.2)(y)
    y = layers.Dense(16, activation="tanh")(y)
    return layers.Dense(10, activation="softmax")(y)


@model(((4, 8, 6), "f11"), ((4, 5, 6), "f11"))
def attn_matmul(q, k):
    s = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))   # 1,4,8,5
    p = layers.Softmax()(s * 0.5)
    return ops.matmul(p, k)                              # 1,4,8,6


@model(((6, 6, 4), "f11"))
def big_weights(x):
    # wide dynamic range: stress requantization/saturation
    y = layers.Conv2D(8, 3, padding="same")(x * 20.0)
    y = layers.Dense(8)(y) * 0.01
    return ops.tanh(y), ops.sigmoid(y * 50.0)


@model(((8, 8, 3), "f11"))
def pad_modes(x):
    a = ops.pad(x, ((0, 0), (2, 1), (1, 2), (0, 0)), mode="reflect")
    b = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="symmetric")
    c = ops.pad(x, ((0, 0), (1, 0), (0, 1), (0, 0)), constant_values=0.5)
    return layers.Conv2D(4, 3)(a), layers.Conv2D(4, 3)(b), c


# ---------------------------------------------------------------- batch 3
@model(((8, 8, 3), "f11"))
def dead_channels(x):
    c1 = layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")
    y = c1(x)
    y = layers.Conv2D(6, 1, name="c2")(y)
    y = layers.ReLU()(y - 5.0)          # almost always 0 -> degenerate calibration range
    return layers.Dense(4, name="d1")(y)


@model(((8, 8, 3), "f11"))
def relu_params(x):
    y = layers.Conv2D(8, 3, padding="same")(x)
    a = layers.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2)(y)
    b = layers.ReLU(max_value=1.0)(y)
    c = ops.relu6(y * 4.0)
    return a, b, c


@model(((8, 8, 4), "f11"))
def conv3d(x):
    y = layers.Reshape((8, 8, 4, 1))(x)
    y = layers.Conv3D(4, 3, padding="same", activation="relu")(y)
    y = layers.Conv3D(2, (2, 3, 1), strides=(2, 1, 1), padding="valid")(y)
    return y


@model(((6, 6, 3), "f11"))
def conv_transpose_opts(x):
    y = layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1)(x)
    y = layers.Conv2DTranspose(4, 4, strides=3, padding="valid", dilation_rate=1)(y)
    return y


@model(((6, 8, 8, 2), "f11"))
def convlstm(x):
    return layers.ConvLSTM2D(4, 3, padding="same", return_sequences=False)(x)


@model(((8, 16), "f11"), ((6, 16), "f11"))
def attention_layers(q, v):
    a = layers.Attention(use_scale=True, score_mode="dot")([q, v])
    b = layers.AdditiveAttention()([q, v])
    return a, b


@model(((8, 6), "f11"))
def time_distributed(x):
    y = layers.TimeDistributed(layers.Dense(5, activation="relu"))(x)
    z = layers.RepeatVector(3)(layers.Flatten()(y))
    return z


@model(((8, 8, 3), "f01"))
def preprocessing(x):
    y = layers.Rescaling(2.0, offset=-1.0)(x)
    y = layers.Normalization(mean=[0.1, -0.2, 0.0], variance=[0.5, 2.0, 1.0])(y)
    y = layers.CenterCrop(6, 6)(y)
    return layers.Conv2D(4, 3)(y)


@model(((8, 6), "f11"), ((8, 6), "f11"))
def dot_layer(a, b):
    d1 = layers.Dot(axes=2)([a, b])
    d2 = layers.Dot(axes=2, normalize=True)([a, b])
    return d1, d2


@model(((8, 4), "f11"))
def masking(x):
    y = layers.Masking(mask_value=0.0)(x)
    return layers.LSTM(4, unroll=True)(y)


@model(((8, 8), "f11"))
def logical_ops(x):
    y = layers.Dense(8)(x)
    m = ops.logical_and(y > 0.1, x < 0.5)
    z = ops.where(m, y, ops.maximum(y, -0.2))
    q = ops.cast(ops.floor_divide(y * 10.0, 3.0), "float32")
    r = ops.mod(y * 10.0, 3.0)
    return z, q, r


@model(((8, 8), "f11"))
def ops_misc2(x):
    y = layers.Dense(8)(x)
    a = ops.logsumexp(y, axis=-1)
    b = ops.norm(y, axis=-1)
    c = ops.moveaxis(y, 1, 2)
    return a, b, c


@model(((None, 6), "f11"))
def dyn_seq(x):
    y = layers.Dense(8, activation="relu")(x)
    y = layers.GlobalAveragePooling1D()(y)
    return layers.Dense(3)(y)


@model(((8, 8, 3), "f11"))
def int16_arith(x):
    a = layers.Conv2D(4, 3, padding="same")(x)
    b = layers.Conv2D(4, 1)(x) * 3.0
    c = layers.Add()([a, b])
    d = layers.Multiply()([a, b])
    e = layers.Concatenate()([a, b, c, d])
    f = ops.mean(e, axis=(1, 2), keepdims=True)
    g = layers.Subtract()([e, f])
    return layers.Softmax()(g), ops.tanh(e), ops.sigmoid(e)


@model(((32,), "f11"))
def wide_dense(x):
    y = layers.Dense(256, activation="relu")(x)
    y = layers.Dense(128, activation="tanh")(y)
    return layers.Dense(10)(y)


@model(((8, 8, 3), "f11"))
def dynb_conv(x):
    y = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)
    y = layers.BatchNormalization()(y)
    y = layers.Flatten()(y)
    return layers.Dense(4, activation="softmax")(y)


@model(((8, 4), "f11"))
def dynb_lstm(x):
    return layers.LSTM(6, unroll=True)(x)


# ---------------------------------------------------------------- batch 4
@model(((8, 4), "f11"))
def dynb_gru(x):
    return layers.GRU(6, unroll=True)(x)


@model(((8, 4), "f11"))
def dynb_simplernn(x):
    return layers.SimpleRNN(6, unroll=True, return_sequences=True)(x)


@model(((8, 4), "f11"))
def dynb_bilstm(x):
    return layers.Bidirectional(layers.LSTM(4, unroll=True))(x)


@model(((8, 12), "f11"))
def logsumexp_only(x):
    y = layers.Dense(12)(x)
    return ops.logsumexp(y, axis=-1)


@model(((8, 8), "f11"))
def const_branch(x):
    y = layers.Dense(8)(x)
    z = y - y                       # always zero -> degenerate range
    w = ops.zeros_like(y) + 0.0 * y
    return layers.Dense(4)(ops.concatenate([y + z, w], axis=-1))


# ---------------------------------------------------------------- conversion
MODES = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]


def make_input(spec, rng):
    shape, kind = (1,) + tuple(5 if d is None else d for d in spec[0]), spec[1]
    if kind == "f11":
        return rng.uniform(-1, 1, shape).astype(np.float32)
    if kind == "f01":
        return rng.uniform(0, 1, shape).astype(np.float32)
    if kind == "tok":
        return rng.integers(0, spec[2], shape).astype(np.int32)
    raise ValueError(kind)


def randomize(m, seed):
    """Random weights, with BN stats not trivially 0/1."""
    rng = np.random.default_rng(seed)
    for layer in m.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w, v in zip(ws, layer.weights):
            nm = v.path if hasattr(v, "path") else v.name
            if "moving_variance" in nm or "gamma" in nm:
                new.append(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
            elif "moving_mean" in nm or "beta" in nm or "bias" in nm:
                new.append(rng.uniform(-0.3, 0.3, w.shape).astype(w.dtype))
            elif "embeddings" in nm:
                new.append(rng.uniform(-1, 1, w.shape).astype(w.dtype))
            elif "alpha" in nm:
                new.append(w)
            else:
                fan = max(1, int(np.prod(w.shape[:-1])))
                new.append((rng.standard_normal(w.shape) * (1.5 / np.sqrt(fan))).astype(w.dtype))
        layer.set_weights(new)


def build(name):
    fn, specs = MODELS[name]
    keras.utils.set_random_seed(abs(hash(name)) % 2**31 if False else sum(map(ord, name)))
    global DYN_BATCH
    DYN_BATCH = name.startswith("dynb_")
    ins = [I(s[0], "int32" if s[1] == "tok" else "float32") for s in specs]
    outs = fn(*ins)
    m = keras.Model(ins if len(ins) > 1 else ins[0], outs, name=name)
    randomize(m, sum(map(ord, name)))
    return m, specs


def convert(m, specs, mode, name):
    c = tf.lite.TFLiteConverter.from_keras_model(m)
    rng = np.random.default_rng(1234)
    rep = [[make_input(s, rng) for s in specs] for _ in range(8)]

    def repgen():
        for r in rep:
            yield r
    if mode == "dynamic":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    elif mode == "float16":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = repgen
    elif mode == "int8io":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = repgen
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    elif mode == "int16x8":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = repgen
        c.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return c.convert()


def child(name, modes, resfile):
    """Convert one model in the given modes; append json lines to resfile."""
    try:
        m, specs = build(name)
    except Exception as e:
        with open(resfile, "a") as f:
            for md in modes:
                f.write(json.dumps([md, "build failed: " + repr(e)[:300]]) + "\n")
        return
    json.dump({"inputs": [list(s) for s in specs]}, open(os.path.join(OUT, name + ".json"), "w"))
    for mode in modes:
        with open(resfile, "a") as f:
            f.write(json.dumps([mode, "started"]) + "\n")
        path = os.path.join(OUT, f"{name}_{mode}.tflite")
        try:
            b = convert(m, specs, mode, name)
            open(path, "wb").write(b)
            st = "ok"
        except Exception as e:
            if os.path.exists(path):
                os.remove(path)
            msg = str(e).strip().splitlines()
            msg = " | ".join(l.strip() for l in msg if "error" in l.lower() or "not" in l.lower())[:400] or repr(e)[:400]
            st = "conversion failed: " + msg
        with open(resfile, "a") as f:
            f.write(json.dumps([mode, st]) + "\n")


def main():
    import subprocess
    sel = sys.argv[1:]
    statpath = os.path.join(HERE, "conversion.json")
    status = json.load(open(statpath)) if os.path.exists(statpath) else {}
    for name in MODELS:
        if sel and not any(s in name for s in sel):
            continue
        status[name] = {}
        todo = list(MODES)
        while todo:
            resfile = os.path.join(HERE, ".res_" + name)
            if os.path.exists(resfile):
                os.remove(resfile)
            p = subprocess.run([sys.executable, __file__, "--child", name, ",".join(todo), resfile],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            lines = [json.loads(l) for l in open(resfile)] if os.path.exists(resfile) else []
            done = {}
            for md, st in lines:
                done[md] = st
            crashed = None
            for md in todo:
                if done.get(md) == "started":
                    crashed = md
            for md, st in done.items():
                if st != "started":
                    status[name][md] = st
            if crashed:
                status[name][crashed] = f"TF converter crashed (rc={p.returncode})"
            elif p.returncode != 0 and not done:
                for md in todo:
                    status[name][md] = f"TF child failed rc={p.returncode}: " + p.stderr[-300:]
            todo = [md for md in todo if md not in status[name]]
            if os.path.exists(resfile):
                os.remove(resfile)
        for md in MODES:
            print(name, md, status[name].get(md, "?")[:200], flush=True)
        json.dump(status, open(statpath, "w"), indent=1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3].split(","), sys.argv[4])
    else:
        main()
