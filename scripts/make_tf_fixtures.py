"""Make the small SavedModel fixtures in tests/data/saved_models/ (dev-time only).

Needs TensorFlow, which tinylite never depends on: run it in a separate venv, e.g.

    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow
    KERAS_BACKEND=tensorflow /tmp/tfvenv/bin/python scripts/make_tf_fixtures.py [name ...]

Each model is exported the way users do it (Keras 3 `model.export(dir)`, or
`tf.saved_model.save` for a tf.Module), and `io.npz` beside it holds the inputs
(`in_<signature input name>`) and what TensorFlow's own
`loaded.signatures["serving_default"]` returned (`out_<output key>`); Keras models
are also saved as `model.keras` (to compare with the Keras frontend).  Models are
kept tiny (a few KB of weights) so the fixtures stay small.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "saved_models"


def mobilenet_like():
    x = keras.Input((16, 16, 3), name="image")
    y = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    y = layers.Conv2D(12, 1, use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.GlobalAveragePooling2D()(y)
    y = layers.Dense(5, activation="softmax")(y)
    return keras.Model(x, y)


def attention():
    x = keras.Input((6, 8), name="tokens")
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    y = layers.LayerNormalization()(layers.Add()([x, a]))
    f = layers.Dense(16, activation="gelu")(y)
    f = layers.Dense(8)(f)
    y = layers.LayerNormalization()(layers.Add()([y, f]))
    y = layers.GlobalAveragePooling1D()(y)
    return keras.Model(x, layers.Dense(3)(y))


def two_inputs():
    a = keras.Input((10,), name="features")
    b = keras.Input((4, 4, 2), name="patch")
    pa = layers.Dense(8, activation="relu")(a)
    pb = layers.Flatten()(layers.Conv2D(4, 2, activation="tanh")(b))
    y = layers.Concatenate()([pa, pb])
    return keras.Model([a, b], [layers.Dense(3, name="score")(y), layers.Dense(1, activation="sigmoid", name="p")(y)])


def unet():
    x = keras.Input((16, 16, 1), name="image")
    c1 = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(8, 3, padding="same", activation="relu")(p1)
    p2 = layers.MaxPooling2D()(c2)
    m = layers.Conv2D(8, 3, padding="same", activation="relu")(p2)
    u2 = layers.Conv2DTranspose(8, 2, strides=2, padding="same")(m)
    c3 = layers.Conv2D(8, 3, padding="same", activation="relu")(layers.Concatenate()([u2, c2]))
    u1 = layers.UpSampling2D()(c3)
    c4 = layers.Conv2D(4, 3, padding="same", activation="relu")(layers.Concatenate()([u1, c1]))
    return keras.Model(x, layers.Conv2D(1, 1, activation="sigmoid")(c4))


def text_cnn():
    x = keras.Input((12,), dtype="int32", name="ids")
    e = layers.Embedding(50, 8)(x)
    c = layers.Conv1D(6, 3, activation="relu")(e)
    g = layers.GlobalMaxPooling1D()(c)
    return keras.Model(x, layers.Dense(2, activation="softmax")(g))


def lstm():
    x = keras.Input((5, 4), name="seq")
    y = layers.LSTM(6)(x)
    return keras.Model(x, layers.Dense(2)(y))


def lstm_seq():
    x = keras.Input((4, 3), name="seq")
    y = layers.LSTM(5, return_sequences=True)(x)
    return keras.Model(x, layers.Dense(2)(y))


def lstm_varlen():
    x = keras.Input((None, 3), name="seq")
    y = layers.LSTM(4)(x)
    return keras.Model(x, layers.Dense(2)(y))


def gru():
    x = keras.Input((5, 4), name="seq")
    y = layers.GRU(6, return_sequences=True)(x)
    return keras.Model(x, layers.Dense(2)(y))


def gru_varlen():
    """Recurrent layers over a run-time number of steps that the fused LSTM cannot express: While
    loops over TensorLists of run-time length (a WHILE each)."""
    x = keras.Input((None, 4), name="seq")
    y = layers.GRU(6, return_sequences=True)(x)
    y = layers.Bidirectional(layers.SimpleRNN(3))(y)
    return keras.Model(x, layers.Dense(2)(y))


def volume():
    """A 3-D model: Conv3D, 3-D poolings, Conv3DTranspose (the 3-D ops TFLite has or tinylite
    writes as 2-D ones)."""
    x = keras.Input((4, 6, 6, 2), name="volume")
    h = layers.Conv3D(4, 3, padding="same", activation="relu")(x)
    h = layers.MaxPooling3D(2)(h)
    h = layers.Conv3DTranspose(3, 3, strides=2, padding="same")(h)
    h = layers.AveragePooling3D((2, 3, 3), strides=(1, 2, 2), padding="same")(h)
    return keras.Model(x, layers.Dense(2)(layers.GlobalAveragePooling3D()(h)))


def mixed_float16():
    """A Keras mixed-precision model (float16 compute, float32 variables), float16 output too."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        x = keras.Input((8, 8, 3), name="image")
        h = layers.Conv2D(6, 3, activation="relu")(x)
        h = layers.BatchNormalization()(h)
        h = layers.GlobalAveragePooling2D()(h)
        return keras.Model(x, layers.Dense(4)(h))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def masked_lstm_varlen():
    x = keras.Input((None,), dtype="int32", name="tokens")
    h = layers.Embedding(50, 8, mask_zero=True)(x)
    h = layers.LSTM(6, return_sequences=True)(h)
    return keras.Model(x, layers.Dense(2)(layers.GRU(4)(h)))


class Module(tf.Module):
    """tf.nn code with einsum, depthwise conv, resize and pad (no Keras)."""

    def __init__(self):
        rng = np.random.default_rng(1)
        self.w = tf.Variable(rng.normal(size=(3, 3, 2, 2)).astype(np.float32))
        self.m = tf.Variable(rng.normal(size=(8, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 2], tf.float32, name="x")])
    def __call__(self, x):
        y = tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT"), self.w,
                                   [1, 1, 1, 1], "VALID")
        y = tf.image.resize(y, [4, 4], method="bilinear")
        y = tf.reshape(y, [-1, 8, 8])
        z = tf.einsum("bij,jk->bik", y, self.m)
        return {"z": tf.nn.leaky_relu(z, 0.1), "mean": tf.reduce_mean(z, axis=[1, 2])}


class OpZoo(tf.Module):
    """Many of the TensorFlow ops the frontend maps, in one small graph (tf.nn / tf.math code)."""

    def __init__(self):
        rng = np.random.default_rng(2)
        self.k = tf.Variable(rng.normal(size=(3, 3, 4, 6)).astype(np.float32) * 0.3)
        self.kt = tf.Variable(rng.normal(size=(2, 2, 6, 3)).astype(np.float32) * 0.3)
        self.d = tf.Variable(rng.normal(size=(3, 3, 3, 1)).astype(np.float32) * 0.3)
        self.m = tf.Variable(rng.normal(size=(6, 5)).astype(np.float32) * 0.3)
        self.scale = tf.Variable(np.linspace(0.5, 1.5, 6).astype(np.float32))
        self.offset = tf.Variable(np.linspace(-0.2, 0.2, 6).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 4], tf.float32, name="image"),
                                  tf.TensorSpec([None, 6], tf.float32, name="vec")])
    def __call__(self, image, vec):
        c = tf.nn.conv2d(image, self.k, 1, [[0, 0], [1, 1], [2, 0], [0, 0]])          # explicit padding
        c, _, _ = tf.compat.v1.nn.fused_batch_norm(c, self.scale, self.offset, mean=tf.zeros(6),
                                                    variance=tf.ones(6), is_training=False)
        c = tf.nn.relu6(c)
        up = tf.nn.conv2d_transpose(c[:, :, :, :3], self.kt, [tf.shape(c)[0], 16, 16, 6], 2)
        s2d = tf.nn.space_to_depth(image, 2)
        d2s = tf.nn.depth_to_space(s2d, 2)
        dw = tf.nn.depthwise_conv2d(tf.pad(d2s[:, :, :, :3], [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=0.5),
                                    self.d, [1, 1, 1, 1], "VALID")
        pooled = tf.nn.avg_pool2d(tf.nn.elu(dw), 2, 2, "SAME")
        rs = tf.image.resize(pooled, [6, 6], method="nearest")
        a, b = tf.split(c, 2, axis=3)
        sv = tf.split(c, [1, 5], axis=3)[1]
        feats = tf.concat([tf.reduce_mean(a, [1, 2]), tf.reduce_max(b, [1, 2]), tf.reduce_min(sv, [1, 2]),
                           tf.reduce_sum(rs, [1, 2]), tf.reduce_mean(up, [1, 2])], axis=1)
        v = tf.math.add_n([vec, tf.nn.selu(vec), tf.nn.softplus(vec)])
        v = tf.clip_by_value(v, -2.0, 3.0)
        w = tf.where(vec > 0.1, tf.sqrt(tf.abs(vec)) + tf.math.rsqrt(tf.abs(vec) + 1.0),
                     tf.exp(vec) * tf.math.log(tf.abs(vec) + 2.0))
        w = tf.math.squared_difference(w, tf.reverse(vec, [1])) + tf.math.cumsum(vec, axis=1)
        u = tf.unstack(tf.reshape(vec, [-1, 2, 3]), axis=1)
        stacked = tf.stack([u[1], u[0]], axis=2)
        g = tf.gather(tf.reshape(stacked, [-1, 6]), [5, 0, 3], axis=1)
        bm = tf.linalg.matmul(tf.expand_dims(v, 2), tf.expand_dims(w, 1))                 # runtime x runtime
        sl = tf.slice(bm, [0, 1, 1], [-1, 4, 3])
        out = tf.nn.log_softmax(tf.matmul(tf.nn.leaky_relu(v + w, 0.3), self.m))
        return {"feats": feats, "vec": tf.concat([out, g, tf.reshape(sl, [-1, 12])], axis=1),
                "prob": tf.nn.softmax(tf.squeeze(tf.reduce_prod(tf.reshape(tf.sigmoid(w), [-1, 3, 2]), axis=2,
                                                                 keepdims=True), axis=2))}


class IntDtypes(tf.Module):
    """int64 / float64 / scalar signature inputs and outputs, the casts between them, int64
    indices, broadcast_to and zeros_like on a run-time batch (the types TensorFlow keeps and
    tinylite computes narrowed)."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"),
                                  tf.TensorSpec([4], tf.int64, name="ids"),
                                  tf.TensorSpec([4], tf.int64, name="other"),
                                  tf.TensorSpec([2], tf.float64, name="wide"),
                                  tf.TensorSpec([], tf.float32, name="gain")])
    def __call__(self, x, ids, other, wide, gain):
        table = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2))
        small = tf.math.floormod(other, 6)
        # ids holds values past int32 (the casts wrap them as TensorFlow's do); the arithmetic runs on
        # values int32 holds, as tinylite computes int64 tensors narrowed (README, "int64").
        return {"sum": other + other * other, "scaled": other * 3 - 1, "narrow": tf.cast(ids, tf.int32),
                "widened": tf.cast(tf.cast(ids, tf.int32), tf.int64), "as_float": tf.cast(ids, tf.float32),
                "squared": tf.square(tf.cast(other, tf.int32)),
                "arg": tf.argmax(x, axis=1) + 1, "rows": tf.gather(table, small),
                "wide": wide * 2.0 + 1.0, "gained": x * gain,
                "tiled": tf.broadcast_to(x[:1], [3, 3]) + 1.0,
                "zeros": tf.zeros_like(x) + gain}


class OpZoo2(tf.Module):
    """TensorFlow ops that map onto index, 3-D and mask builtins, or onto short spellings of
    builtins: dilated convolutions (SpaceToBatchND / BatchToSpaceND), GatherNd, ScatterNd, TopKV2,
    OneHot, Where, segment sums, Conv3D, LRN, MatrixBandPart, one-operand einsum, log1p & co."""

    def __init__(self):
        rng = np.random.default_rng(3)
        self.k = tf.Variable(rng.normal(size=(3, 3, 4, 5)).astype(np.float32) * 0.3)
        self.d = tf.Variable(rng.normal(size=(3, 3, 4, 1)).astype(np.float32) * 0.3)
        self.k3 = tf.Variable(rng.normal(size=(2, 3, 3, 2, 3)).astype(np.float32) * 0.3)

    @tf.function(input_signature=[tf.TensorSpec([None, 9, 9, 4], tf.float32, name="image"),
                                  tf.TensorSpec([None, 4, 4], tf.float32, name="scores"),
                                  tf.TensorSpec([1, 4, 6, 6, 2], tf.float32, name="volume"),
                                  tf.TensorSpec([6], tf.int32, name="labels"),
                                  tf.TensorSpec([8], tf.float32, name="vec")])
    def __call__(self, image, scores, volume, labels, vec):
        atrous = tf.nn.atrous_conv2d(image, self.k, rate=2, padding="SAME")
        dw = tf.nn.depthwise_conv2d(image, self.d, [1, 1, 1, 1], "SAME", dilations=[2, 2])
        lrn = tf.nn.local_response_normalization(image, depth_radius=2, bias=1.5, alpha=0.3, beta=0.6)
        causal = tf.linalg.band_part(scores, -1, 0)
        band = tf.linalg.band_part(scores, 1, 1)
        table = tf.reshape(tf.range(24, dtype=tf.float32), [4, 6])
        picked = tf.gather_nd(table, tf.stack([tf.math.floormod(labels[:3], 4), tf.math.floormod(labels[3:], 6)], 1))
        scattered = tf.scatter_nd(tf.reshape(tf.math.floormod(labels[:3], 5), [3, 1]), vec[:3], [5])
        top_values, top_indices = tf.math.top_k(vec, 3)
        hot = tf.one_hot(tf.math.floormod(labels, 5), 5, on_value=2.0, off_value=-1.0)
        segs = tf.math.segment_sum(vec[:6], tf.constant([0, 0, 1, 2, 2, 2]))
        unsorted = tf.math.unsorted_segment_max(vec[:6], tf.math.floormod(labels, 3), 3)
        conv3 = tf.nn.conv3d(volume, self.k3, [1, 1, 2, 1, 1], "SAME")
        spread = tf.abs(vec) * 3.0
        math = tf.stack([tf.math.log1p(spread), tf.math.expm1(vec * 0.5), tf.math.atan(vec), tf.math.rint(vec * 4.0),
                         tf.math.divide_no_nan(vec, tf.math.floor(vec * 2.0)),
                         tf.cast(tf.math.is_finite(tf.math.log(spread - 0.5)), tf.float32),
                         tf.cast(tf.math.is_nan(tf.math.sqrt(vec)), tf.float32)])
        return {"atrous": atrous, "dw": dw, "lrn": lrn, "causal": causal, "band": band,
                "transposed": tf.einsum("bij->bji", scores), "summed": tf.einsum("bij->b", scores),
                "picked": picked, "scattered": scattered, "top_values": top_values, "top_indices": top_indices,
                "hot": hot, "segs": segs, "unsorted": unsorted, "conv3": conv3, "math": math,
                "where": tf.where(scores[0] > 0.5), "norm": tf.norm(image, axis=[1, 2]),
                "trunc": tf.stack([tf.truncatediv(labels - 6, 4), tf.truncatemod(labels - 6, 4)])}


class DynamicSequence(tf.Module):
    """A sequence model whose length is only known at run time: positions from tf.range over
    tf.shape, a slice from a run-time begin, tf.size."""

    def __init__(self):
        rng = np.random.default_rng(5)
        self.table = tf.Variable(rng.normal(size=(32, 8)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 8], tf.float32, name="tokens")])
    def __call__(self, tokens):
        length = tf.shape(tokens)[1]
        positions = tf.gather(self.table, tf.range(length))
        x = tokens + positions
        last = tf.slice(x, [0, length - 2, 0], [-1, 2, -1])
        scale = tf.cast(tf.size(tokens), tf.float32)
        # tf.cond on a run-time predicate (both branches computed, SELECT_V2 by the predicate).
        gated = tf.cond(tf.reduce_mean(tokens) > 0.0, lambda: tf.nn.relu(x), lambda: x * 0.5 - 1.0)
        return {"mixed": x / scale, "last": last, "steps": tf.range(1, length, 2), "gated": gated}


class RuntimeLoops(tf.Module):
    """tf.while_loop whose trip count is known only at run time (a WHILE with cond and body
    subgraphs): a counted loop reading a variable, a tensor growing under a shape invariant, a
    nested loop, and a loop until the data converges."""

    def __init__(self):
        rng = np.random.default_rng(7)
        self.w = tf.Variable(rng.normal(size=(4, 4)).astype(np.float32) * 0.5)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.int32, name="n")])
    def __call__(self, x, n):
        _, decayed = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * 0.9 + tf.tanh(a @ self.w)),
                                   [tf.constant(0), x])
        _, grown = tf.while_loop(lambda i, acc: i < n,
                                 lambda i, acc: (i + 1, tf.concat([acc, x[:1] * tf.cast(i, tf.float32)], 0)),
                                 # (not from an empty constant: LiteRT's WHILE fails on one, TensorFlow's file too)
                                 [tf.constant(0), x[:1]],
                                 shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, 4])])

        def outer(i, total):
            _, inner = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + j * j), [tf.constant(0), total])
            return i + 1, inner
        _, nested = tf.while_loop(lambda i, t: i < n, outer, [tf.constant(0), tf.constant(0)])
        steps, halved = tf.while_loop(lambda k, a: tf.reduce_max(tf.abs(a)) > 0.1, lambda k, a: (k + 1, a * 0.5),
                                      [tf.constant(0), x])
        return {"decayed": decayed, "grown": grown, "nested": nested, "steps": steps, "halved": halved}


class RuntimeShapes(tf.Module):
    """Sizes and slice bounds computed at run time: a fully convolutional net resizing to twice
    its input's size, and slices at a run-time index (x[i], x[:, i:i + 2], a negative one)."""

    def __init__(self):
        rng = np.random.default_rng(8)
        self.w = tf.Variable(rng.normal(size=(3, 3, 3, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
                                  tf.TensorSpec([4, 5], tf.float32, name="table"),
                                  tf.TensorSpec([], tf.int32, name="i")])
    def __call__(self, image, table, i):
        h = tf.nn.relu(tf.nn.conv2d(image, self.w, 1, "SAME"))
        size = tf.shape(image)[1:3] * 2
        return {"up": tf.image.resize(h, size), "nearest": tf.image.resize(h, size + 1, method="nearest"),
                "row": table[i], "cols": table[:, i:i + 2], "from_end": table[-i - 1, 1:],
                "strided": table[i::2]}


class SegmentsScatter(tf.Module):
    """Sorted-segment reductions (an empty segment among them; ids constant and computed at run
    time) and tensor_scatter_nd_update / add / sub."""

    @tf.function(input_signature=[tf.TensorSpec([6, 3], tf.float32, name="x"),
                                  tf.TensorSpec([6], tf.int32, name="ids"),
                                  tf.TensorSpec([None, 3], tf.float32, name="t"),
                                  tf.TensorSpec([2, 1], tf.int32, name="idx"),
                                  tf.TensorSpec([2, 3], tf.float32, name="upd")])
    def __call__(self, x, ids, t, idx, upd):
        fixed = tf.constant([0, 0, 2, 2, 2, 4])           # segments 1 and 3 empty
        counts = tf.cast(tf.round(t * 10.0), tf.int32)
        return {"smax": tf.math.segment_max(x, fixed), "smin": tf.math.segment_min(x, fixed),
                "sprod": tf.math.segment_prod(x, fixed), "smean": tf.math.segment_mean(x, fixed),
                "rmax": tf.math.segment_max(x, ids), "rmean": tf.math.segment_mean(x, ids),
                "rmin_int": tf.math.segment_min(tf.cast(x * 10.0, tf.int32), ids),
                "tsu": tf.tensor_scatter_nd_update(t, idx, upd), "tsa": tf.tensor_scatter_nd_add(t, idx, upd),
                "tss": tf.tensor_scatter_nd_sub(t, idx, upd),
                "tsu_int": tf.tensor_scatter_nd_update(counts, idx, tf.cast(upd, tf.int32))}


class Spectra(tf.Module):
    """An audio front end in the graph (STFT, magnitude, mel matrix, log) over clips of any
    length, and the real and imaginary parts of a 2-D real FFT."""

    def __init__(self):
        self.mel = tf.constant(tf.signal.linear_to_mel_weight_matrix(8, 33, 16000, 80.0, 7600.0).numpy())

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="audio"),
                                  tf.TensorSpec([2, 8, 16], tf.float32, name="image")])
    def __call__(self, audio, image):
        stft = tf.signal.stft(audio, frame_length=64, frame_step=32, fft_length=64)
        mel = tf.math.log(tf.tensordot(tf.abs(stft), self.mel, 1) + 1e-6)
        f2 = tf.signal.rfft2d(image)
        return {"mel": mel, "re": tf.math.real(f2), "im": tf.math.imag(f2),
                "padded": tf.abs(tf.signal.rfft(image, fft_length=[32]))}


class Resamplers(tf.Module):
    """tf.image.resize's methods TFLite has no builtin for: bicubic (TF2's half-pixel and TF1's
    legacy kernel, with and without align_corners), antialiased downscaling, Lanczos, Gaussian
    and Mitchell kernels, on float and uint8 images."""

    @tf.function(input_signature=[tf.TensorSpec([None, 9, 7, 2], tf.float32, name="image"),
                                  tf.TensorSpec([1, 6, 5, 3], tf.uint8, name="pixels")])
    def __call__(self, image, pixels):
        r = tf.image.resize
        legacy = tf.compat.v1.image.resize_bicubic
        return {"bicubic_up": r(image, [14, 11], "bicubic"), "bicubic_down": r(image, [4, 3], "bicubic"),
                "legacy": legacy(image, [12, 10]), "legacy_corners": legacy(image, [12, 10], align_corners=True),
                "aa_bilinear": r(image, [4, 5], antialias=True), "aa_bicubic": r(image, [3, 3], "bicubic", antialias=True),
                "lanczos3": r(image, [13, 6], "lanczos3"), "lanczos5": r(image, [5, 9], "lanczos5"),
                "gaussian": r(image, [6, 10], "gaussian"), "mitchell": r(image, [11, 4], "mitchellcubic"),
                "pixels": r(pixels, [9, 8], "bicubic")}


class ChannelsFirst(tf.Module):
    """A channels-first (NCHW) network, as GPU-trained TF1-era graphs hold: convolutions (strided,
    explicit padding, depthwise), bias, fused batch norm and poolings in NCHW."""

    def __init__(self):
        rng = np.random.default_rng(16)
        self.w = tf.Variable(rng.normal(size=(3, 3, 3, 4)).astype(np.float32))
        self.dw = tf.Variable(rng.normal(size=(3, 3, 4, 2)).astype(np.float32))
        self.b = tf.Variable(rng.normal(size=(4,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3, 12, 10], tf.float32, name="image")])
    def __call__(self, image):
        h = tf.nn.bias_add(tf.nn.conv2d(image, self.w, 1, "SAME", data_format="NCHW"), self.b, data_format="NCHW")
        h, _, _ = tf.compat.v1.nn.fused_batch_norm(h, [1.0, 2.0, 0.5, 1.5], [0.0, 0.5, -1.0, 0.2],
                                                   [0.1, -0.2, 0.3, 0.0], [1.0, 2.0, 3.0, 0.5],
                                                   is_training=False, data_format="NCHW")
        h = tf.nn.max_pool2d(tf.nn.relu(h), 2, 2, "VALID", data_format="NCHW")
        d = tf.nn.depthwise_conv2d(h, self.dw, [1, 1, 1, 1], "SAME", data_format="NCHW")
        return {"features": tf.nn.avg_pool2d(d, 3, 1, "SAME", data_format="NCHW"),
                "strided": tf.nn.conv2d(image, self.w, [1, 1, 2, 2], "VALID", data_format="NCHW"),
                "explicit": tf.nn.conv2d(image, self.w, 1, [[0, 0], [0, 0], [1, 2], [2, 1]], data_format="NCHW")}


RESAMPLERS_FEEDS = {"image": np.random.default_rng(14).normal(size=(2, 9, 7, 2)).astype(np.float32),
                    "pixels": np.random.default_rng(15).integers(0, 256, (1, 6, 5, 3)).astype(np.uint8)}
SPECTRA_FEEDS = {"audio": np.random.default_rng(12).normal(size=(2, 400)).astype(np.float32),
                 "image": np.random.default_rng(13).normal(size=(2, 8, 16)).astype(np.float32)}
SEGMENTS_SCATTER_FEEDS = {"x": np.random.default_rng(10).normal(size=(6, 3)).astype(np.float32),
                          "ids": np.array([0, 1, 1, 3, 3, 3], np.int32),
                          "t": np.random.default_rng(11).normal(size=(5, 3)).astype(np.float32),
                          "idx": np.array([[4], [1]], np.int32),
                          "upd": np.array([[1, 2, 3], [-4, 5, -6]], np.float32)}
RUNTIME_SHAPES_FEEDS = {"image": np.random.default_rng(9).normal(size=(1, 5, 7, 3)).astype(np.float32),
                        "table": np.arange(20, dtype=np.float32).reshape(4, 5), "i": np.int32(1)}
RUNTIME_LOOPS_FEEDS = {"x": np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4), "n": np.int32(5)}


def _op_zoo2_feeds():
    rng = np.random.default_rng(4)
    return {"image": rng.normal(size=(2, 9, 9, 4)).astype(np.float32),
            "scores": rng.uniform(size=(3, 4, 4)).astype(np.float32),
            "volume": rng.normal(size=(1, 4, 6, 6, 2)).astype(np.float32),
            "labels": np.array([7, 2, 11, 5, 0, 3], np.int32),
            "vec": np.array([0.3, -1.2, 2.5, 0.0, -0.4, 1.1, 0.5, -2.6], np.float32)}


INT_DTYPES_FEEDS = {"x": np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3),
                    "ids": np.array([3, -(2**33) + 5, 2**31 + 7, 11], np.int64),     # wrap as int32 casts do
                    "other": np.array([1, -4, 9, 2], np.int64),
                    "wide": np.array([0.5, -2.25], np.float64), "gain": np.float32(1.5)}


def sample(spec, rng, n=4):
    shape = [n] + [6 if d is None else int(d) for d in spec.shape[1:]]
    if spec.dtype.is_integer:
        return rng.integers(0, 50, size=shape).astype(spec.dtype.as_numpy_dtype)
    return rng.normal(size=shape).astype(np.float32)


def save(name, obj, is_keras=True, feeds=None):
    d = OUT / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    sm = d / "saved_model"
    if is_keras:
        obj.export(str(sm), verbose=False)
        obj.save(str(d / "model.keras"))      # the same model for the Keras frontend
    else:
        tf.saved_model.save(obj, str(sm), signatures={"serving_default": obj.__call__})
    (sm / "fingerprint.pb").unlink(missing_ok=True)
    loaded = tf.saved_model.load(str(sm))
    fn = loaded.signatures["serving_default"]
    rng = np.random.default_rng(0)
    specs = fn.structured_input_signature[1]
    feeds = feeds or {k: sample(s, rng) for k, s in sorted(specs.items())}
    outs = fn(**{k: tf.constant(v) for k, v in feeds.items()})
    arrays = {f"in_{k}": v for k, v in feeds.items()}
    arrays.update({f"out_{k}": np.asarray(v) for k, v in sorted(outs.items())})
    np.savez_compressed(d / "io.npz", **arrays)
    size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
    print(f"{name}: {size / 1024:.1f} KiB, inputs {list(feeds)}, outputs {sorted(outs)}")


def main(argv=None):
    """Make every fixture, or those named on the command line."""
    only = set(sys.argv[1:] if argv is None else argv)
    keras.utils.set_random_seed(0)
    for fn in (mobilenet_like, attention, two_inputs, unet, text_cnn, lstm, lstm_seq, lstm_varlen, gru, gru_varlen,
               masked_lstm_varlen, volume, mixed_float16):
        if only and fn.__name__ not in only:
            continue
        model = fn()
        # Non-trivial BatchNormalization statistics.
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                n = layer.moving_mean.shape[0]
                layer.moving_mean.assign(np.linspace(-0.5, 0.5, n).astype(np.float32))
                layer.moving_variance.assign(np.linspace(0.5, 2.0, n).astype(np.float32))
        save(fn.__name__, model)
    modules = {  # tf.Module fixtures: name -> (module, feeds or None for sampled ones)
        "tf_module": (Module, None), "op_zoo": (OpZoo, None), "op_zoo2": (OpZoo2, _op_zoo2_feeds),
        "dynamic_sequence": (DynamicSequence,
                             lambda: {"tokens": np.random.default_rng(6).normal(size=(2, 5, 8)).astype(np.float32)}),
        "runtime_loops": (RuntimeLoops, lambda: RUNTIME_LOOPS_FEEDS),
        "runtime_shapes": (RuntimeShapes, lambda: RUNTIME_SHAPES_FEEDS),
        "segments_scatter": (SegmentsScatter, lambda: SEGMENTS_SCATTER_FEEDS),
        "resamplers": (Resamplers, lambda: RESAMPLERS_FEEDS), "spectra": (Spectra, lambda: SPECTRA_FEEDS),
        "channels_first": (ChannelsFirst, None),
        "int_dtypes": (IntDtypes, lambda: INT_DTYPES_FEEDS),
    }
    for name, (module, feeds) in modules.items():
        if not only or name in only:
            save(name, module(), is_keras=False, feeds=None if feeds is None else feeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
