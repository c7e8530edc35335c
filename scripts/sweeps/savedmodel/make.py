"""Make small SavedModels + TF reference outputs (run with a Python with TensorFlow (dev time only)).

Usage: make.py [name-substring ...]   (default: all cases)
Writes models/<name>/ (SavedModel) and models/<name>.npz (in:<arg>, out:<key>),
and models/_make_status.json (TF-side failures = category (c)).
"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
os.makedirs(OUT, exist_ok=True)
CASES = []
F32, I32, I64, BOOL = tf.float32, tf.int32, tf.int64, tf.bool


def S(name, shape, dtype=F32):
    return tf.TensorSpec(shape, dtype, name=name)


def case(name, specs, inputs):
    """inputs: callable(rng) -> dict name->array (the arrays fed; may differ in batch from specs)."""
    def deco(fn):
        CASES.append(("tf", name, specs, inputs, fn))
        return fn
    return deco


def kcase(name, inputs):
    def deco(builder):
        CASES.append(("keras", name, None, inputs, builder))
        return builder
    return deco


def rn(*shape, lo=-2.0, hi=2.0):
    return lambda r: r.uniform(lo, hi, shape).astype(np.float32)


def W(r, *shape, s=0.5):
    return tf.Variable(r.normal(0, s, shape).astype(np.float32))


# ---------------------------------------------------------------- tf.math
@case("reduce_basic", [S("x", [2, 5, 4])], lambda r: {"x": rn(2, 5, 4)(r)})
def _(m, x):
    return {"sum": tf.reduce_sum(x, axis=1), "mean_k": tf.reduce_mean(x, axis=[1, 2], keepdims=True),
            "max": tf.reduce_max(x, axis=-1), "min": tf.reduce_min(x, axis=0),
            "prod": tf.reduce_prod(x, axis=2), "any": tf.reduce_any(x > 1.5, axis=1),
            "all": tf.reduce_all(x > -1.9, axis=2), "sum_all": tf.reduce_sum(x)}


@case("reduce_logsumexp", [S("x", [2, 6])], lambda r: {"x": rn(2, 6)(r)})
def _(m, x):
    return {"lse": tf.reduce_logsumexp(x, axis=1)}


@case("reduce_std_var", [S("x", [3, 7])], lambda r: {"x": rn(3, 7)(r)})
def _(m, x):
    return {"std": tf.math.reduce_std(x, axis=1), "var": tf.math.reduce_variance(x, axis=0),
            "norm": tf.norm(x, axis=1), "eucl": tf.math.reduce_euclidean_norm(x, axis=1)}


@case("cumsum", [S("x", [2, 6])], lambda r: {"x": rn(2, 6)(r)})
def _(m, x):
    return {"c": tf.cumsum(x, axis=1), "ex": tf.cumsum(x, axis=1, exclusive=True),
            "rev": tf.cumsum(x, axis=1, reverse=True), "c0": tf.cumsum(x, axis=0)}


@case("cumprod", [S("x", [2, 6])], lambda r: {"x": rn(2, 6, lo=0.5, hi=1.5)(r)})
def _(m, x):
    return {"c": tf.math.cumprod(x, axis=1)}


@case("top_k", [S("x", [3, 10])], lambda r: {"x": r.permutation(30).reshape(3, 10).astype(np.float32)})
def _(m, x):
    v, i = tf.math.top_k(x, k=3)
    return {"values": v, "indices": i}


@case("argmax_argmin", [S("x", [3, 7, 4])], lambda r: {"x": r.permutation(84).reshape(3, 7, 4).astype(np.float32)})
def _(m, x):
    return {"amax64": tf.argmax(x, axis=1), "amin32": tf.argmin(x, axis=-1, output_type=tf.int32),
            "amax0": tf.argmax(x, axis=0, output_type=tf.int32)}


@case("segment_sum", [S("x", [6, 3])], lambda r: {"x": rn(6, 3)(r)})
def _(m, x):
    return {"seg": tf.math.segment_sum(x, tf.constant([0, 0, 1, 2, 2, 2])),
            "useg": tf.math.unsorted_segment_sum(x, tf.constant([2, 0, 1, 0, 2, 1]), 3),
            "smax": tf.math.segment_max(x, tf.constant([0, 0, 1, 1, 1, 2]))}


@case("binary_float", [S("x", [4, 5]), S("y", [4, 5])],
      lambda r: {"x": rn(4, 5, lo=-3, hi=3)(r), "y": np.where(r.random((4, 5)) < .5, -1, 1).astype(np.float32) * rn(4, 5, lo=0.5, hi=2)(r)})
def _(m, x, y):
    return {"sqd": tf.math.squared_difference(x, y), "fmod": tf.math.floormod(x, y),
            "fdiv": tf.math.floordiv(x, y), "pow": tf.pow(tf.abs(x) + 0.1, y),
            "truediv": x / y, "max": tf.maximum(x, y), "min": tf.minimum(x, 0.5)}


@case("binary_int", [S("a", [12], I32), S("b", [12], I32)],
      lambda r: {"a": np.array([7, -7, 7, -7, 0, 13, -13, 5, -5, 9, -9, 1], np.int32),
                 "b": np.array([2, 2, -2, -2, 3, 4, 4, -3, -3, 5, 5, -1], np.int32)})
def _(m, a, b):
    return {"fdiv": tf.math.floordiv(a, b), "fmod": tf.math.floormod(a, b), "tdiv": tf.truncatediv(a, b),
            "tmod": tf.truncatemod(a, b), "mul": a * b, "sub": a - b, "neg": -a, "abs": tf.abs(a),
            "sq": tf.square(a), "max": tf.maximum(a, b)}


@case("unary_math", [S("x", [4, 6])], lambda r: {"x": rn(4, 6, lo=-3, hi=3)(r)})
def _(m, x):
    return {"erf": tf.math.erf(x), "rsqrt": tf.math.rsqrt(tf.abs(x) + 1), "logsm": tf.nn.log_softmax(x),
            "softplus": tf.nn.softplus(x), "sign": tf.sign(x), "ceil": tf.math.ceil(x), "floor": tf.floor(x),
            "exp": tf.exp(x), "log": tf.math.log(tf.abs(x) + 0.1), "recip": tf.math.reciprocal(x + 10.0),
            "sin": tf.sin(x), "tanh": tf.tanh(x), "softsign": tf.nn.softsign(x)}


@case("unary_more", [S("x", [4, 6])], lambda r: {"x": rn(4, 6, lo=-0.9, hi=3)(r)})
def _(m, x):
    return {"log1p": tf.math.log1p(x), "expm1": tf.math.expm1(x), "atan": tf.math.atan(x),
            "sigmoid": tf.sigmoid(x), "erfc": tf.math.erfc(x)}


@case("round_half", [S("x", [10])], lambda r: {"x": np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 3.7, -3.7, 1e6 + 0.5], np.float32)})
def _(m, x):
    return {"round": tf.round(x), "rint": tf.math.rint(x)}


@case("divide_no_nan_isnan", [S("x", [6]), S("y", [6])],
      lambda r: {"x": np.array([1, 2, 3, 0, -1, 5], np.float32), "y": np.array([2, 0, 1, 0, 4, 0], np.float32)})
def _(m, x, y):
    return {"dnn": tf.math.divide_no_nan(x, y), "isfin": tf.math.is_finite(x / y)}


# ---------------------------------------------------------------- tf.image
@case("resize_default", [S("img", [1, 5, 7, 3])], lambda r: {"img": rn(1, 5, 7, 3)(r)})
def _(m, img):
    return {"bil_up": tf.image.resize(img, [9, 13]), "bil_down": tf.image.resize(img, [3, 4]),
            "near_up": tf.image.resize(img, [10, 14], method="nearest"),
            "near_odd": tf.image.resize(img, [8, 11], method="nearest")}


@case("resize_v1_flags", [S("img", [1, 5, 7, 2])], lambda r: {"img": rn(1, 5, 7, 2)(r)})
def _(m, img):
    c = tf.compat.v1.image
    return {"bil_ac": c.resize_bilinear(img, [9, 13], align_corners=True),
            "bil_legacy": c.resize_bilinear(img, [9, 13]),
            "near_ac": c.resize_nearest_neighbor(img, [9, 13], align_corners=True),
            "near_legacy": c.resize_nearest_neighbor(img, [9, 13]),
            "near_hp": c.resize_nearest_neighbor(img, [9, 13], half_pixel_centers=True)}


@case("resize_bicubic", [S("img", [1, 5, 7, 2])], lambda r: {"img": rn(1, 5, 7, 2)(r)})
def _(m, img):
    return {"bic": tf.image.resize(img, [9, 13], method="bicubic")}


@case("resize_antialias", [S("img", [1, 8, 8, 2])], lambda r: {"img": rn(1, 8, 8, 2)(r)})
def _(m, img):
    return {"aa": tf.image.resize(img, [3, 3], antialias=True)}


@case("crop_and_resize", [S("img", [1, 8, 8, 2])], lambda r: {"img": rn(1, 8, 8, 2)(r)})
def _(m, img):
    return {"cr": tf.image.crop_and_resize(img, tf.constant([[0.1, 0.1, 0.8, 0.9], [0.0, 0.0, 1.0, 1.0]]),
                                           tf.constant([0, 0]), [4, 5])}


@case("image_misc", [S("img", [2, 6, 5, 3])], lambda r: {"img": rn(2, 6, 5, 3, lo=0, hi=1)(r)})
def _(m, img):
    return {"lr": tf.image.flip_left_right(img), "ud": tf.image.flip_up_down(img),
            "gray": tf.image.rgb_to_grayscale(img), "std": tf.image.per_image_standardization(img),
            "crop": tf.image.central_crop(img, 0.5)}


# ---------------------------------------------------------------- tf.nn
def _conv_vars(r):
    return {}


@case("conv1d", [S("x", [2, 16, 3])], lambda r: {"x": rn(2, 16, 3)(r)})
def _(m, x):
    return {"y": tf.nn.relu(tf.nn.conv1d(x, m.w, stride=2, padding="SAME") + m.b),
            "y_valid_dil": tf.nn.conv1d(x, m.w, stride=1, padding="VALID", dilations=2)}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 4)), setattr(m, "b", W(r, 4)))


@case("conv2d", [S("x", [1, 9, 9, 3])], lambda r: {"x": rn(1, 9, 9, 3)(r)})
def _(m, x):
    return {"same_s2": tf.nn.relu6(tf.nn.bias_add(tf.nn.conv2d(x, m.w, 2, "SAME"), m.b)),
            "valid": tf.nn.conv2d(x, m.w, [1, 1, 2, 1], "VALID"),
            "explicit_pad": tf.nn.conv2d(x, m.w, 1, [[0, 0], [1, 2], [0, 1], [0, 0]])}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 3, 5)), setattr(m, "b", W(r, 5)))


@case("conv3d", [S("x", [1, 5, 6, 6, 2])], lambda r: {"x": rn(1, 5, 6, 6, 2)(r)})
def _(m, x):
    return {"y": tf.nn.conv3d(x, m.w, [1, 1, 2, 2, 1], "SAME")}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 2, 4))


@case("depthwise", [S("x", [1, 8, 8, 3])], lambda r: {"x": rn(1, 8, 8, 3)(r)})
def _(m, x):
    return {"y": tf.nn.depthwise_conv2d(x, m.w, [1, 2, 2, 1], "SAME"),
            "dil": tf.nn.depthwise_conv2d(x, m.w, [1, 1, 1, 1], "VALID", dilations=[2, 2])}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 2))


@case("atrous_conv", [S("x", [1, 12, 12, 2])], lambda r: {"x": rn(1, 12, 12, 2)(r)})
def _(m, x):
    return {"atrous": tf.nn.atrous_conv2d(x, m.w, rate=2, padding="SAME"),
            "dil": tf.nn.conv2d(x, m.w, 1, "SAME", dilations=3)}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 2, 3))


@case("space_to_batch", [S("x", [1, 4, 6, 2])], lambda r: {"x": rn(1, 4, 6, 2)(r)})
def _(m, x):
    y = tf.space_to_batch_nd(x, [2, 2], [[0, 0], [1, 1]])
    return {"s2b": y, "b2s": tf.batch_to_space(y * 2.0, [2, 2], [[0, 0], [1, 1]]),
            "s2d": tf.nn.space_to_depth(x, 2), "d2s": tf.nn.depth_to_space(tf.nn.space_to_depth(x, 2) + 1.0, 2)}


@case("conv2d_transpose", [S("x", [1, 5, 5, 4])], lambda r: {"x": rn(1, 5, 5, 4)(r)})
def _(m, x):
    return {"same": tf.nn.conv2d_transpose(x, m.w, [1, 10, 10, 3], 2, "SAME"),
            "valid": tf.nn.conv2d_transpose(x, m.w, [1, 11, 11, 3], 2, "VALID")}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 4))


@case("conv2d_transpose_dynbatch", [S("x", [None, 5, 5, 4])], lambda r: {"x": rn(3, 5, 5, 4)(r)})
def _(m, x):
    b = tf.shape(x)[0]
    return {"y": tf.nn.conv2d_transpose(x, m.w, tf.stack([b, 10, 10, 3]), 2, "SAME")}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 4))


@case("pooling", [S("x", [1, 9, 9, 2])], lambda r: {"x": rn(1, 9, 9, 2)(r)})
def _(m, x):
    return {"avg_same": tf.nn.avg_pool2d(x, 3, 2, "SAME"), "max_same": tf.nn.max_pool2d(x, 3, 2, "SAME"),
            "avg_valid": tf.nn.avg_pool2d(x, 2, 2, "VALID"), "max_valid": tf.nn.max_pool2d(x, [2, 3], [1, 2], "VALID")}


@case("pool1d_3d", [S("x", [1, 6, 6, 6, 2])], lambda r: {"x": rn(1, 6, 6, 6, 2)(r)})
def _(m, x):
    return {"avg3d": tf.nn.avg_pool3d(x, 2, 2, "VALID"), "max3d": tf.nn.max_pool3d(x, 2, 2, "SAME"),
            "max1d": tf.nn.max_pool1d(tf.reshape(x, [1, 36, 12]), 3, 2, "SAME")}


@case("lrn", [S("x", [1, 4, 4, 8])], lambda r: {"x": rn(1, 4, 4, 8)(r)})
def _(m, x):
    return {"lrn": tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=0.5, beta=0.75)}


@case("l2norm_moments_bn", [S("x", [2, 4, 4, 3])], lambda r: {"x": rn(2, 4, 4, 3)(r)})
def _(m, x):
    mean, var = tf.nn.moments(x, axes=[0, 1, 2])
    return {"l2": tf.math.l2_normalize(x, axis=-1), "l2_ax1": tf.math.l2_normalize(x, axis=1),
            "mean": mean, "var": var,
            "bn": tf.nn.batch_normalization(x, mean, var, m.beta, m.gamma, 1e-3),
            "fbn": tf.compat.v1.nn.fused_batch_norm(x, m.gamma, m.beta, m.mu, m.sig, is_training=False)[0]}
_.init = lambda m, r: [setattr(m, k, tf.Variable(r.uniform(0.5, 1.5, 3).astype(np.float32))) for k in ("beta", "gamma", "mu", "sig")]


@case("activations", [S("x", [3, 8])], lambda r: {"x": rn(3, 8, lo=-8, hi=8)(r)})
def _(m, x):
    return {"relu6": tf.nn.relu6(x), "leaky": tf.nn.leaky_relu(x, 0.1), "gelu": tf.nn.gelu(x),
            "gelu_tanh": tf.nn.gelu(x, approximate=True), "silu": tf.nn.silu(x), "elu": tf.nn.elu(x),
            "selu": tf.nn.selu(x), "hard_sig": tf.keras.activations.hard_sigmoid(x) if hasattr(tf, "keras") else x,
            "relu": tf.nn.relu(x), "crelu": tf.nn.crelu(x), "sm_ax0": tf.nn.softmax(x, axis=0)}


@case("softmax_3d_axis1", [S("x", [2, 5, 4])], lambda r: {"x": rn(2, 5, 4)(r)})
def _(m, x):
    return {"sm": tf.nn.softmax(x, axis=1), "lsm": tf.nn.log_softmax(x, axis=1)}


# ---------------------------------------------------------------- tf.linalg
@case("matmul_flags", [S("a", [3, 4]), S("b", [5, 4]), S("c", [2, 4, 3]), S("d", [2, 5, 4])],
      lambda r: {"a": rn(3, 4)(r), "b": rn(5, 4)(r), "c": rn(2, 4, 3)(r), "d": rn(2, 5, 4)(r)})
def _(m, a, b, c, d):
    return {"tb": tf.matmul(a, b, transpose_b=True), "ta": tf.matmul(a, a, transpose_a=True),
            "batch_ta_tb": tf.matmul(c, d, transpose_a=True, transpose_b=True),
            "batch_bcast": tf.matmul(d, a, transpose_b=True), "w": tf.matmul(a, m.w)}
_.init = lambda m, r: setattr(m, "w", W(r, 4, 6))


@case("einsum", [S("x", [2, 3, 4]), S("y", [2, 4, 5]), S("q", [1, 2, 3, 4]), S("k", [1, 2, 5, 4])],
      lambda r: {"x": rn(2, 3, 4)(r), "y": rn(2, 4, 5)(r), "q": rn(1, 2, 3, 4)(r), "k": rn(1, 2, 5, 4)(r)})
def _(m, x, y, q, k):
    return {"bmm": tf.einsum("bij,bjk->bik", x, y), "attn": tf.einsum("bhqd,bhkd->bhqk", q, k),
            "tr": tf.einsum("ij->ji", x[0]), "dense": tf.einsum("bsd,df->bsf", x, m.w),
            "outer": tf.einsum("i,j->ij", x[0, 0], y[0, 0]), "sum": tf.einsum("bij->b", x),
            "bhqk_v": tf.einsum("bhqk,bhkd->bqhd", tf.einsum("bhqd,bhkd->bhqk", q, k), k)}
_.init = lambda m, r: setattr(m, "w", W(r, 4, 6))


@case("band_part_causal", [S("x", [1, 5, 5])], lambda r: {"x": rn(1, 5, 5)(r)})
def _(m, x):
    mask = tf.linalg.band_part(tf.ones([5, 5]), -1, 0)
    return {"masked": tf.where(mask > 0, x, -1e9), "bp": tf.linalg.band_part(x, 1, 1)}


@case("linalg_misc", [S("x", [2, 3, 3])], lambda r: {"x": rn(2, 3, 3)(r)})
def _(m, x):
    return {"trace": tf.linalg.trace(x), "diag": tf.linalg.diag_part(x), "mdiag": tf.linalg.diag(x[:, 0])}


# ---------------------------------------------------------------- shapes
@case("reshape_dynbatch", [S("x", [None, 4, 6])], lambda r: {"x": rn(3, 4, 6)(r)})
def _(m, x):
    b = tf.shape(x)[0]
    y = tf.reshape(x, [-1, 24])
    z = tf.reshape(x, [b, 2, 12])
    t = tf.reshape(x, tf.concat([tf.shape(x)[:1], [6, 4]], 0))
    return {"flat": tf.matmul(y, m.w), "z": z * 2.0, "t": t, "b": b, "n": tf.size(x)}
_.init = lambda m, r: setattr(m, "w", W(r, 24, 5))


@case("shape_ops", [S("x", [2, 1, 3, 1])], lambda r: {"x": rn(2, 1, 3, 1)(r)})
def _(m, x):
    return {"ed": tf.expand_dims(x, 0), "sq": tf.squeeze(x), "sq1": tf.squeeze(x, axis=[1]),
            "tr": tf.transpose(x, [3, 2, 0, 1]), "tile": tf.tile(x, [1, 2, 1, 3]),
            "bto": tf.broadcast_to(x, [2, 4, 3, 5]), "rank": tf.rank(x)}


@case("gather_variants", [S("p", [5, 4]), S("i", [3], I32)], lambda r: {"p": rn(5, 4)(r), "i": np.array([4, 0, 2], np.int32)})
def _(m, p, i):
    return {"g0": tf.gather(p, i), "g1": tf.gather(p, [3, 1], axis=1), "gneg_c": tf.gather(p, i, axis=0) * 2.0,
            "gbd": tf.gather(tf.reshape(p, [1, 5, 4]), tf.reshape(i, [1, 3]), batch_dims=1)}


@case("gather_nd", [S("p", [3, 4, 2]), S("i", [5, 2], I32)],
      lambda r: {"p": rn(3, 4, 2)(r), "i": np.array([[0, 1], [2, 3], [1, 0], [2, 2], [0, 0]], np.int32)})
def _(m, p, i):
    return {"gnd": tf.gather_nd(p, i), "gnd_c": tf.gather_nd(p, [[1], [0]])}


@case("scatter_nd", [S("u", [4, 3])], lambda r: {"u": rn(4, 3)(r)})
def _(m, u):
    return {"snd": tf.scatter_nd([[1], [3], [0], [1]], u, [5, 3]),
            "tsu": tf.tensor_scatter_nd_update(tf.zeros([5, 3]), [[2], [4]], u[:2])}


@case("where_3arg", [S("c", [3, 4], BOOL), S("x", [3, 4]), S("y", [4])],
      lambda r: {"c": r.random((3, 4)) < .5, "x": rn(3, 4)(r), "y": rn(4)(r)})
def _(m, c, x, y):
    return {"w": tf.where(c, x, y), "wc": tf.where(x > 0, x, 0.0)}


@case("where_1arg", [S("x", [3, 4])], lambda r: {"x": rn(3, 4)(r)})
def _(m, x):
    return {"idx": tf.where(x > 0)}


@case("boolean_mask", [S("x", [6, 2])], lambda r: {"x": rn(6, 2)(r)})
def _(m, x):
    return {"bm": tf.boolean_mask(x, x[:, 0] > 0)}


@case("one_hot", [S("i", [5], I32), S("j", [2, 3], I64)],
      lambda r: {"i": np.array([0, 3, 1, -1, 2], np.int32), "j": np.array([[1, 0, 4], [3, 3, 2]], np.int64)})
def _(m, i, j):
    return {"oh": tf.one_hot(i, 4), "oh2": tf.one_hot(j, 5, on_value=2.0, off_value=-1.0, axis=1)}


@case("pad_modes", [S("x", [1, 4, 5, 2])], lambda r: {"x": rn(1, 4, 5, 2)(r)})
def _(m, x):
    p = [[0, 0], [2, 1], [1, 3], [0, 0]]
    return {"reflect": tf.pad(x, p, "REFLECT"), "symmetric": tf.pad(x, p, "SYMMETRIC"),
            "const": tf.pad(x, p, constant_values=-3.0), "zero": tf.pad(x, p)}


@case("strided_slice_masks", [S("x", [2, 5, 6, 3])], lambda r: {"x": rn(2, 5, 6, 3)(r)})
def _(m, x):
    return {"ell": x[..., 1], "na": x[:, tf.newaxis, 1:4, ::2], "shr": x[1, :, -1],
            "neg": x[:, ::-1, 4:1:-2], "ell_na": x[..., tf.newaxis, 0:2], "mix": x[0, ..., ::-2],
            "last": x[-1:, -2:]}


@case("split_stack", [S("x", [4, 6])], lambda r: {"x": rn(4, 6)(r)})
def _(m, x):
    a, b, c = tf.split(x, 3, axis=1)
    d, e = tf.split(x, [2, 4], axis=1)
    u = tf.unstack(x, axis=0)
    return {"s": tf.stack([a, c], axis=0), "sv": tf.concat([e, d], axis=-1), "u": tf.stack(u[::-1], axis=1),
            "cat0": tf.concat([x, -x], 0), "b": b}


@case("reverse_range_fill", [S("x", [3, 5])], lambda r: {"x": rn(3, 5)(r)})
def _(m, x):
    n = tf.shape(x)[1]
    return {"rev": tf.reverse(x, [0, 1]), "range": tf.range(n), "range_f": tf.range(0.0, 2.0, 0.5),
            "fill": tf.fill([2, n], 7.0), "zl": tf.zeros_like(x), "ol": tf.ones_like(x) + x,
            "seq": tf.cast(tf.range(3, 3 + n * 2, 2), tf.float32) * x}


@case("range_dynamic", [S("x", [None, 4])], lambda r: {"x": rn(3, 4)(r)})
def _(m, x):
    b = tf.shape(x)[0]
    return {"pos": tf.cast(tf.range(b), tf.float32)[:, None] + x, "fill": tf.fill([b, 2], 1.5)}


@case("casts", [S("x", [8]), S("i", [4], I32), S("b", [3], BOOL), S("l", [3], I64)],
      lambda r: {"x": np.array([-2.7, -1.5, -0.5, 0.0, 0.4, 1.5, 2.9, 100.2], np.float32),
                 "i": np.array([-3, 0, 5, 70000], np.int32), "b": np.array([True, False, True]),
                 "l": np.array([-(2 ** 33), 5, 7], np.int64)})
def _(m, x, i, b, l):
    return {"f2i": tf.cast(x, tf.int32), "f2b": tf.cast(x, tf.bool), "i2f": tf.cast(i, tf.float32),
            "b2f": tf.cast(b, tf.float32), "b2i": tf.cast(b, tf.int32), "i2b": tf.cast(i, tf.bool),
            "l2i": tf.cast(l, tf.int32), "l2f": tf.cast(l, tf.float32), "i2l": tf.cast(i, tf.int64),
            "f2u8": tf.cast(tf.abs(x), tf.uint8), "f2i8": tf.cast(x, tf.int8)}


@case("compare_logical", [S("x", [6]), S("y", [6])],
      lambda r: {"x": np.array([1, 2, 3, 4, 5, 6], np.float32), "y": np.array([6, 2, 1, 4, 7, 0], np.float32)})
def _(m, x, y):
    a, b = x > y, x >= y
    return {"gt": a, "ge": b, "lt": x < y, "le": x <= y, "eq": tf.equal(x, y), "ne": tf.not_equal(x, y),
            "and": tf.logical_and(a, tf.logical_not(b)), "or": tf.logical_or(a, x < 2.5),
            "xor": tf.math.logical_xor(a, x > 3.5), "sel": tf.cast(a, tf.float32) * x}


@case("clip_addn", [S("x", [3, 4]), S("y", [3, 4])], lambda r: {"x": rn(3, 4)(r), "y": rn(3, 4)(r)})
def _(m, x, y):
    return {"clip": tf.clip_by_value(x, -0.5, 0.7), "addn": tf.add_n([x, y, x]),
            "clipn": tf.clip_by_norm(x, 1.0), "sn": tf.stop_gradient(x) + tf.identity(y)}


# ---------------------------------------------------------------- tf.signal
@case("rfft", [S("x", [2, 16])], lambda r: {"x": rn(2, 16)(r)})
def _(m, x):
    f = tf.signal.rfft(x)
    return {"mag": tf.abs(f), "re": tf.math.real(f)}


@case("stft", [S("x", [1, 64])], lambda r: {"x": rn(1, 64)(r)})
def _(m, x):
    s = tf.signal.stft(x, frame_length=16, frame_step=8, fft_length=16)
    return {"mag": tf.abs(s)}


@case("frame_window", [S("x", [1, 64])], lambda r: {"x": rn(1, 64)(r)})
def _(m, x):
    return {"fr": tf.signal.frame(x, 16, 8) * tf.signal.hann_window(16)}


# ---------------------------------------------------------------- control flow
@case("cond", [S("x", [3]), S("flag", [], BOOL)], lambda r: {"x": rn(3)(r), "flag": np.array(True)})
def _(m, x, flag):
    return {"y": tf.cond(flag, lambda: x * 2.0, lambda: x - 1.0),
            "z": tf.cond(tf.reduce_sum(x) > 0, lambda: tf.exp(x), lambda: -x)}


@case("while_fixed", [S("x", [2, 3])], lambda r: {"x": rn(2, 3)(r)})
def _(m, x):
    i0 = tf.constant(0)
    _, y = tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a * 0.5 + 1.0), [i0, x])
    return {"y": y}


@case("while_dynamic", [S("x", [2]), S("n", [], I32)], lambda r: {"x": rn(2)(r), "n": np.array(5, np.int32)})
def _(m, x, n):
    _, y = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * 0.9 + 0.1), [tf.constant(0), x])
    return {"y": y}


@case("map_fn", [S("x", [4, 3])], lambda r: {"x": rn(4, 3)(r)})
def _(m, x):
    return {"y": tf.map_fn(lambda v: tf.reduce_sum(v * v) + v, x)}


@case("python_loop_unrolled", [S("x", [2, 4])], lambda r: {"x": rn(2, 4)(r)})
def _(m, x):
    h = x
    for _k in range(3):
        h = tf.tanh(tf.matmul(h, m.w))
    return {"h": h}
_.init = lambda m, r: setattr(m, "w", W(r, 4, 4))


# ---------------------------------------------------------------- io
@case("dynbatch_mlp", [S("x", [None, 8])], lambda r: {"x": rn(5, 8)(r)})
def _(m, x):
    h = tf.nn.relu(tf.matmul(x, m.w1) + m.b1)
    return {"probs": tf.nn.softmax(tf.matmul(h, m.w2))}
_.init = lambda m, r: (setattr(m, "w1", W(r, 8, 16)), setattr(m, "b1", W(r, 16)), setattr(m, "w2", W(r, 16, 3)))


@case("multi_io", [S("image", [1, 4, 4, 1]), S("meta", [1, 3]), S("ids", [1, 2], I32)],
      lambda r: {"image": rn(1, 4, 4, 1)(r), "meta": rn(1, 3)(r), "ids": np.array([[1, 3]], np.int32)})
def _(m, image, meta, ids):
    emb = tf.reduce_sum(tf.gather(m.t, ids), 1)
    f = tf.concat([tf.reshape(image, [1, 16]), meta, emb], -1)
    return {"score": tf.reduce_sum(f, -1), "features": f, "ids_plus": ids + 1}
_.init = lambda m, r: setattr(m, "t", W(r, 5, 2))


@case("int64_embed", [S("ids", [None, 4], I64)], lambda r: {"ids": r.integers(0, 10, (2, 4)).astype(np.int64)})
def _(m, ids):
    e = tf.gather(m.t, ids)
    return {"pooled": tf.reduce_mean(e, 1), "ids2": ids * 2, "mask": tf.cast(ids > 3, tf.int64)}
_.init = lambda m, r: setattr(m, "t", W(r, 10, 3))


@case("int64_arith", [S("a", [4], I64), S("b", [4], I64)],
      lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64), "b": np.array([2, 3, 4, -1], np.int64)})
def _(m, a, b):
    return {"add": a + b, "mul": a * 3, "fdiv": a // b, "max": tf.reduce_max(a), "sum": tf.reduce_sum(b)}


# ---------------------------------------------------------------- keras 3 export
def _krand(r, *shape):
    return r.uniform(-1, 1, shape).astype(np.float32)


@kcase("keras_conv1d_gap", lambda r: {"inputs": _krand(r, 2, 20, 3)})
def _():
    import keras
    i = keras.Input((20, 3))
    h = keras.layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="gelu")(i)
    h = keras.layers.SeparableConv1D(6, 3)(h)
    h = keras.layers.GlobalMaxPooling1D()(h)
    return keras.Model(i, keras.layers.Dense(2)(h))


@kcase("keras_mha", lambda r: {"inputs": _krand(r, 2, 6, 8)})
def _():
    import keras
    i = keras.Input((6, 8))
    h = keras.layers.MultiHeadAttention(2, 4)(i, i, use_causal_mask=True)
    h = keras.layers.LayerNormalization()(h + i)
    return keras.Model(i, h)


@kcase("keras_conv3d", lambda r: {"inputs": _krand(r, 1, 4, 6, 6, 2)})
def _():
    import keras
    i = keras.Input((4, 6, 6, 2))
    h = keras.layers.Conv3D(4, 3, padding="same", activation="relu")(i)
    h = keras.layers.MaxPooling3D(2)(h)
    return keras.Model(i, keras.layers.Flatten()(h))


@kcase("keras_gru_bidir", lambda r: {"inputs": _krand(r, 2, 5, 3)})
def _():
    import keras
    i = keras.Input((5, 3))
    h = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))(i)
    return keras.Model(i, keras.layers.LSTM(3)(h))


@kcase("keras_embedding_int", lambda r: {"inputs": r.integers(0, 20, (2, 7)).astype(np.int32)})
def _():
    import keras
    i = keras.Input((7,), dtype="int32")
    h = keras.layers.Embedding(20, 4)(i)
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(i, keras.layers.Dense(3, activation="softmax")(h))


@kcase("keras_upsample_transpose", lambda r: {"inputs": _krand(r, 1, 6, 6, 3)})
def _():
    import keras
    i = keras.Input((6, 6, 3))
    h = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(i)
    h = keras.layers.UpSampling2D(interpolation="bilinear")(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ZeroPadding2D(1)(h)
    h = keras.layers.DepthwiseConv2D(3, activation="swish")(h)
    return keras.Model(i, keras.layers.AveragePooling2D(2)(h))



# ================================================================ batch 2: split-outs and reductions
@case("cast_i32_to_i64", [S("i", [4], I32)], lambda r: {"i": np.array([-3, 0, 5, 70000], np.int32)})
def _(m, i):
    return {"y": tf.cast(i, tf.int64)}


@case("cast_i64_to_i32", [S("l", [3], I64)], lambda r: {"l": np.array([-(2 ** 33) + 5, 5, 7], np.int64)})
def _(m, l):
    return {"y": tf.cast(l, tf.int32)}


@case("broadcast_to_only", [S("x", [1, 3])], lambda r: {"x": rn(1, 3)(r)})
def _(m, x):
    return {"y": tf.broadcast_to(x, [4, 3])}


@case("conv2d_dilated_native", [S("x", [1, 12, 12, 2])], lambda r: {"x": rn(1, 12, 12, 2)(r)})
def _(m, x):
    return {"dil": tf.nn.conv2d(x, m.w, 1, "SAME", dilations=3),
            "dil_valid": tf.nn.conv2d(x, m.w, 1, "VALID", dilations=[1, 2, 1, 1])}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 2, 3))


@case("depthwise_nodil", [S("x", [1, 8, 8, 3])], lambda r: {"x": rn(1, 8, 8, 3)(r)})
def _(m, x):
    return {"y": tf.nn.depthwise_conv2d(x, m.w, [1, 2, 2, 1], "SAME"),
            "v": tf.nn.depthwise_conv2d(x, m.w, [1, 1, 1, 1], "VALID")}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 2))


@case("einsum_two_operand", [S("x", [2, 3, 4]), S("y", [2, 4, 5]), S("q", [1, 2, 3, 4]), S("k", [1, 2, 5, 4])],
      lambda r: {"x": rn(2, 3, 4)(r), "y": rn(2, 4, 5)(r), "q": rn(1, 2, 3, 4)(r), "k": rn(1, 2, 5, 4)(r)})
def _(m, x, y, q, k):
    return {"bmm": tf.einsum("bij,bjk->bik", x, y), "attn": tf.einsum("bhqd,bhkd->bhqk", q, k),
            "dense": tf.einsum("bsd,df->bsf", x, m.w), "outer": tf.einsum("i,j->ij", x[0, 0], y[0, 0]),
            "bhqk_v": tf.einsum("bhqk,bhkd->bqhd", tf.einsum("bhqd,bhkd->bhqk", q, k), k),
            "proj": tf.einsum("bsd,dhe->bshe", x, tf.reshape(m.w, [4, 2, 3]))}
_.init = lambda m, r: setattr(m, "w", W(r, 4, 6))


@case("einsum_transpose_1op", [S("x", [3, 4])], lambda r: {"x": rn(3, 4)(r)})
def _(m, x):
    return {"tr": tf.einsum("ij->ji", x)}


@case("reshape_dynbatch2", [S("x", [None, 4, 6])], lambda r: {"x": rn(3, 4, 6)(r)})
def _(m, x):
    b = tf.shape(x)[0]
    y = tf.reshape(x, [-1, 24])
    z = tf.reshape(x, [b, 2, 12])
    t = tf.reshape(x, tf.concat([tf.shape(x)[:1], [6, 4]], 0))
    return {"flat": tf.matmul(y, m.w), "z": z * 2.0, "t": t, "b": b}
_.init = lambda m, r: setattr(m, "w", W(r, 24, 5))


@case("dynbatch_conv_flatten", [S("x", [None, 8, 8, 2])], lambda r: {"x": rn(3, 8, 8, 2)(r)})
def _(m, x):
    h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, m.w, 1, "SAME")), 2, 2, "VALID")
    h = tf.reshape(h, [tf.shape(h)[0], -1])
    return {"y": tf.nn.softmax(tf.matmul(h, m.v)), "mean": tf.reduce_mean(x, axis=[1, 2])}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 2, 4)), setattr(m, "v", W(r, 64, 3)))


@case("dynamic_hw_fcn", [S("x", [1, None, None, 3])], lambda r: {"x": rn(1, 6, 10, 3)(r)})
def _(m, x):
    h = tf.nn.relu(tf.nn.conv2d(x, m.w, 1, "SAME"))
    s = tf.shape(x)[1:3]
    return {"up": tf.image.resize(h, s * 2), "gap": tf.reduce_mean(h, axis=[1, 2])}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 4))


@case("unary_no_erf", [S("x", [4, 6])], lambda r: {"x": rn(4, 6, lo=-3, hi=3)(r)})
def _(m, x):
    return {"rsqrt": tf.math.rsqrt(tf.abs(x) + 1), "logsm": tf.nn.log_softmax(x),
            "softplus": tf.nn.softplus(x), "sign": tf.sign(x), "ceil": tf.math.ceil(x), "floor": tf.floor(x),
            "exp": tf.exp(x), "log": tf.math.log(tf.abs(x) + 0.1), "recip": tf.math.reciprocal(x + 10.0),
            "sin": tf.sin(x), "cos": tf.cos(x), "tanh": tf.tanh(x), "softsign": tf.nn.softsign(x),
            "sqrt": tf.sqrt(tf.abs(x)), "square": tf.square(x), "neg": -x, "abs": tf.abs(x)}


@case("round_only", [S("x", [10])], lambda r: {"x": np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 3.7, -3.7, 1e6 + 0.5], np.float32)})
def _(m, x):
    return {"round": tf.round(x)}


@case("erf_only", [S("x", [6])], lambda r: {"x": rn(6)(r)})
def _(m, x):
    return {"erf": tf.math.erf(x)}


@case("log1p_only", [S("x", [6])], lambda r: {"x": rn(6, lo=-0.5, hi=3)(r)})
def _(m, x):
    return {"y": tf.math.log1p(x)}


@case("expm1_only", [S("x", [6])], lambda r: {"x": rn(6)(r)})
def _(m, x):
    return {"y": tf.math.expm1(x)}


@case("is_finite_only", [S("x", [6])], lambda r: {"x": np.array([1, np.inf, -np.inf, np.nan, 0, -2], np.float32)})
def _(m, x):
    return {"y": tf.math.is_finite(x), "nan": tf.math.is_nan(x)}


@case("reduce_std_var2", [S("x", [3, 7])], lambda r: {"x": rn(3, 7)(r)})
def _(m, x):
    return {"std": tf.math.reduce_std(x, axis=1), "var": tf.math.reduce_variance(x, axis=0), "norm": tf.norm(x, axis=1)}


@case("rfft_real", [S("x", [2, 16])], lambda r: {"x": rn(2, 16)(r)})
def _(m, x):
    f = tf.signal.rfft(x)
    return {"re": tf.math.real(f), "im": tf.math.imag(f)}


@case("cond_computed_pred", [S("x", [3])], lambda r: {"x": rn(3)(r)})
def _(m, x):
    return {"z": tf.cond(tf.reduce_sum(x) > 0, lambda: tf.exp(x), lambda: -x)}


@case("scalar_input", [S("x", [3]), S("s", [])], lambda r: {"x": rn(3)(r), "s": np.array(2.5, np.float32)})
def _(m, x, s):
    return {"y": x * s}


@case("while_dyn_vec_n", [S("x", [2]), S("n", [1], I32)], lambda r: {"x": rn(2)(r), "n": np.array([5], np.int32)})
def _(m, x, n):
    _, y = tf.while_loop(lambda i, a: i < n[0], lambda i, a: (i + 1, a * 0.9 + 0.1), [tf.constant(0), x])
    return {"y": y}


@case("gather_var_read", [S("ids", [None, 4], I64)], lambda r: {"ids": r.integers(0, 10, (2, 4)).astype(np.int64)})
def _(m, ids):
    e = tf.gather(tf.convert_to_tensor(m.t), ids)
    return {"pooled": tf.reduce_mean(e, 1)}
_.init = lambda m, r: setattr(m, "t", W(r, 10, 3))


@case("resource_gather_only", [S("ids", [4], I32)], lambda r: {"ids": np.array([1, 0, 3, 3], np.int32)})
def _(m, ids):
    return {"e": tf.gather(m.t, ids)}
_.init = lambda m, r: setattr(m, "t", W(r, 5, 3))


@case("multi_io2", [S("image", [1, 4, 4, 1]), S("meta", [1, 3]), S("ids", [1, 2], I32)],
      lambda r: {"image": rn(1, 4, 4, 1)(r), "meta": rn(1, 3)(r), "ids": np.array([[1, 3]], np.int32)})
def _(m, image, meta, ids):
    emb = tf.reduce_sum(tf.gather(m.t.read_value(), ids), 1)
    f = tf.concat([tf.reshape(image, [1, 16]), meta, emb], -1)
    return {"score": tf.reduce_sum(f, -1), "features": f, "ids_plus": ids + 1}
_.init = lambda m, r: setattr(m, "t", W(r, 5, 2))


@case("int64_addmul", [S("a", [4], I64), S("b", [4], I64)],
      lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64), "b": np.array([2, 3, 4, -1], np.int64)})
def _(m, a, b):
    return {"add": a + b, "mul": a * 3, "sub": a - b}


@case("int64_floordiv", [S("a", [4], I64), S("b", [4], I64)],
      lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64), "b": np.array([2, 3, 4, -1], np.int64)})
def _(m, a, b):
    return {"fdiv": a // b}


@case("int64_reduce", [S("a", [4], I64)], lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64)})
def _(m, a):
    return {"max": tf.reduce_max(a), "sum": tf.reduce_sum(a)}


@case("int_floordiv_mod", [S("a", [12], I32), S("b", [12], I32)],
      lambda r: {"a": np.array([7, -7, 7, -7, 0, 13, -13, 5, -5, 9, -9, 1], np.int32),
                 "b": np.array([2, 2, -2, -2, 3, 4, 4, -3, -3, 5, 5, -1], np.int32)})
def _(m, a, b):
    return {"fdiv": tf.math.floordiv(a, b), "fmod": tf.math.floormod(a, b), "mul": a * b, "sub": a - b,
            "neg": -a, "abs": tf.abs(a), "sq": tf.square(a), "max": tf.maximum(a, b), "div": tf.math.divide(a, b)}


@case("maxpool1d_only", [S("x", [1, 36, 12])], lambda r: {"x": rn(1, 36, 12)(r)})
def _(m, x):
    return {"max1d": tf.nn.max_pool1d(x, 3, 2, "SAME"), "avg1d": tf.nn.avg_pool1d(x, 2, 2, "VALID")}


@case("softmax_mask_additive", [S("x", [2, 5]), S("mask", [2, 5], I32)],
      lambda r: {"x": rn(2, 5)(r), "mask": np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0]], np.int32)})
def _(m, x, mask):
    return {"p": tf.nn.softmax(x + (1.0 - tf.cast(mask, tf.float32)) * -1e9)}


# ---------------------------------------------------------------- bigger weights (dynamic-range actually quantizes)
@case("dr_dense_conv", [S("x", [2, 8, 8, 16])], lambda r: {"x": rn(2, 8, 8, 16)(r)})
def _(m, x):
    h = tf.nn.relu(tf.nn.conv2d(x, m.w, 1, "SAME") + m.b)
    h = tf.reshape(tf.nn.avg_pool2d(h, 2, 2, "VALID"), [2, -1])
    return {"y": tf.matmul(h, m.d)}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 16, 32, s=0.1)), setattr(m, "b", W(r, 32)),
                       setattr(m, "d", W(r, 512, 10, s=0.05)))


@case("dr_einsum_bmm_const", [S("x", [2, 6, 64])], lambda r: {"x": rn(2, 6, 64)(r)})
def _(m, x):
    return {"dense": tf.einsum("bsd,df->bsf", x, m.w), "bmm": tf.matmul(x, tf.broadcast_to(m.w, [2, 64, 32]))}
_.init = lambda m, r: setattr(m, "w", W(r, 64, 32, s=0.1))


@case("dr_conv_transpose_depthwise", [S("x", [1, 6, 6, 32])], lambda r: {"x": rn(1, 6, 6, 32)(r)})
def _(m, x):
    return {"tc": tf.nn.conv2d_transpose(x, m.w, [1, 12, 12, 32], 2, "SAME"),
            "dw": tf.nn.depthwise_conv2d(x, m.dw, [1, 1, 1, 1], "SAME")}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 32, 32, s=0.1)), setattr(m, "dw", W(r, 7, 7, 32, 1, s=0.1)))


@case("dr_gather_table", [S("ids", [2, 5], I32)], lambda r: {"ids": r.integers(0, 100, (2, 5)).astype(np.int32)})
def _(m, ids):
    return {"e": tf.reduce_sum(tf.gather(tf.convert_to_tensor(m.t), ids), 1)}
_.init = lambda m, r: setattr(m, "t", W(r, 100, 32))


@kcase("keras_lstm_big", lambda r: {"inputs": _krand(r, 2, 6, 16)})
def _():
    import keras
    i = keras.Input((6, 16))
    h = keras.layers.LSTM(32, return_sequences=True)(i)
    h = keras.layers.GRU(32)(h)
    return keras.Model(i, keras.layers.Dense(40)(h))


@kcase("keras_conv1d_causal_nodil", lambda r: {"inputs": _krand(r, 2, 20, 3)})
def _():
    import keras
    i = keras.Input((20, 3))
    h = keras.layers.Conv1D(8, 3, padding="causal", activation="gelu")(i)
    h = keras.layers.SeparableConv1D(6, 3)(h)
    h = keras.layers.GlobalMaxPooling1D()(h)
    return keras.Model(i, keras.layers.Dense(2)(h))


@kcase("keras_mha_nocausal", lambda r: {"inputs": _krand(r, 2, 6, 8)})
def _():
    import keras
    i = keras.Input((6, 8))
    h = keras.layers.MultiHeadAttention(2, 4)(i, i)
    h = keras.layers.LayerNormalization()(h + i)
    return keras.Model(i, h)


@kcase("keras_dynbatch_cnn", lambda r: {"inputs": _krand(r, 3, 10, 10, 3)})
def _():
    import keras
    i = keras.Input((10, 10, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(i)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.2)(h)
    return keras.Model(i, keras.layers.Dense(4, activation="softmax")(h))


@kcase("keras_multi_io", lambda r: {"inputs": None})
def _():
    import keras
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = keras.layers.Concatenate()([keras.layers.Dense(5)(a), b])
    return keras.Model([a, b], [keras.layers.Dense(2, name="o1")(h), keras.layers.Dense(1, name="o2")(h)])



# ================================================================ batch 3: reductions of batch-2 failures
@case("int64_mul_const", [S("a", [4], I64)], lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64)})
def _(m, a):
    return {"y": a * 3}


@case("int64_add_inputs", [S("a", [4], I64), S("b", [4], I64)],
      lambda r: {"a": np.array([5, -7, 2 ** 40, 3], np.int64), "b": np.array([2, 3, 4, -1], np.int64)})
def _(m, a, b):
    return {"add": a + b, "sub": a - b, "mul": a * b}


@case("int32_square", [S("a", [4], I32)], lambda r: {"a": np.array([5, -7, 300, 3], np.int32)})
def _(m, a):
    return {"y": tf.square(a)}


@case("int32_ops_nosquare", [S("a", [12], I32), S("b", [12], I32)],
      lambda r: {"a": np.array([7, -7, 7, -7, 0, 13, -13, 5, -5, 9, -9, 1], np.int32),
                 "b": np.array([2, 2, -2, -2, 3, 4, 4, -3, -3, 5, 5, -1], np.int32)})
def _(m, a, b):
    return {"fdiv": tf.math.floordiv(a, b), "fmod": tf.math.floormod(a, b), "mul": a * b, "sub": a - b,
            "neg": -a, "abs": tf.abs(a), "max": tf.maximum(a, b), "div": tf.math.divide(a, b),
            "sum": tf.reduce_sum(a), "cumsum": tf.cumsum(a)}


@case("int64_argmax_chain", [S("x", [3, 5])], lambda r: {"x": r.permutation(15).reshape(3, 5).astype(np.float32)})
def _(m, x):
    a = tf.argmax(x, axis=1)          # int64
    return {"a1": a + 1, "oh_idx": tf.gather(tf.range(10, 15, dtype=tf.int64), a)}


@case("int64_shape_arith", [S("x", [None, 4])], lambda r: {"x": rn(3, 4)(r)})
def _(m, x):
    n = tf.shape(x, out_type=tf.int64)[0]
    return {"y": x * tf.cast(n, tf.float32), "n": n}


@case("scalar_only_in", [S("s", [])], lambda r: {"s": np.array(2.5, np.float32)})
def _(m, s):
    return {"y": s * 2.0}



# ================================================================ batch 4: dynamic shapes, dtypes at the boundary
@case("dynbatch_misc", [S("x", [None, 4, 6])], lambda r: {"x": rn(3, 4, 6)(r)})
def _(m, x):
    a, b = tf.split(x, 2, axis=2)
    return {"cat": tf.concat([b, a], -1), "tr": tf.transpose(x, [0, 2, 1]), "sl": x[:, 1:3, ::2],
            "last": x[:, -1], "tile": tf.tile(x, [1, 2, 1]), "g": tf.gather(x, [2, 0], axis=1),
            "pad": tf.pad(x, [[0, 0], [1, 1], [0, 0]]), "mean": tf.reduce_mean(x, axis=1, keepdims=True),
            "ed": tf.expand_dims(x, 1), "sq": tf.squeeze(x[:, :1], 1), "stk": tf.stack([x, -x], axis=1),
            "bmm": tf.matmul(x, x, transpose_b=True), "sm": tf.nn.softmax(x), "ustk": tf.unstack(x, axis=1)[2]}


@case("dynbatch_conv_ops", [S("x", [None, 8, 8, 3])], lambda r: {"x": rn(3, 8, 8, 3)(r)})
def _(m, x):
    h = tf.nn.conv2d(x, m.w, 2, "SAME")
    return {"resize": tf.image.resize(x, [4, 4]), "tc": tf.nn.conv2d_transpose(h, m.w, tf.stack([tf.shape(x)[0], 8, 8, 3]), 2, "SAME"),
            "dw": tf.nn.depthwise_conv2d(x, m.d, [1, 1, 1, 1], "SAME"), "s2d": tf.nn.space_to_depth(x, 2),
            "flip": tf.image.flip_left_right(x), "mp": tf.nn.max_pool2d(x, 2, 2, "VALID")}
_.init = lambda m, r: (setattr(m, "w", W(r, 3, 3, 3, 5)), setattr(m, "d", W(r, 3, 3, 3, 1)))


@case("dynamic_hw_gap", [S("x", [1, None, None, 3])], lambda r: {"x": rn(1, 6, 10, 3)(r)})
def _(m, x):
    h = tf.nn.relu(tf.nn.conv2d(x, m.w, 1, "SAME"))
    h = tf.nn.max_pool2d(h, 2, 2, "VALID")
    return {"gap": tf.reduce_mean(h, axis=[1, 2]), "h": h}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 4))


@case("dynamic_slice_index", [S("x", [4, 5]), S("i", [], I32)], lambda r: {"x": rn(4, 5)(r), "i": np.array(2, np.int32)})
def _(m, x, i):
    return {"row": x[i], "cols": x[:, i:i + 2]}


@case("dynamic_slice_index_vec", [S("x", [4, 5]), S("i", [1], I32)], lambda r: {"x": rn(4, 5)(r), "i": np.array([2], np.int32)})
def _(m, x, i):
    return {"row": x[i[0]], "cols": tf.slice(x, tf.concat([[0], i], 0), [4, 2]), "g": tf.gather(x, i)}


@case("uint8_image_preproc", [S("img", [1, 6, 6, 3], tf.uint8)], lambda r: {"img": r.integers(0, 256, (1, 6, 6, 3)).astype(np.uint8)})
def _(m, img):
    x = tf.cast(img, tf.float32) / 255.0
    x = (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    return {"y": tf.nn.conv2d(x, m.w, 1, "SAME"), "u8": tf.cast(tf.clip_by_value(x * 50 + 100, 0, 255), tf.uint8)}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 2))


@case("float64_io", [S("x", [3, 4], tf.float64)], lambda r: {"x": r.uniform(-2, 2, (3, 4))})
def _(m, x):
    return {"y": tf.reduce_sum(x * 2.0, 1), "f32": tf.cast(x, tf.float32) + 1.0}


@case("float16_io", [S("x", [3, 4], tf.float16)], lambda r: {"x": r.uniform(-2, 2, (3, 4)).astype(np.float16)})
def _(m, x):
    return {"y": tf.cast(x, tf.float32) * 2.0}


@kcase("keras_mixed_float16", lambda r: {"inputs": _krand(r, 2, 8)})
def _():
    import keras
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        i = keras.Input((8,))
        h = keras.layers.Dense(16, activation="relu")(i)
        o = keras.layers.Dense(3, activation="softmax", dtype="float32")(h)
        return keras.Model(i, o)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@kcase("keras_dyn_seq", lambda r: {"inputs": _krand(r, 2, 9, 4)})
def _():
    import keras
    i = keras.Input((None, 4))
    h = keras.layers.Conv1D(6, 3, padding="same", activation="relu")(i)
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(i, keras.layers.Dense(2)(h))


@kcase("keras_text_lstm_dynseq", lambda r: {"inputs": r.integers(1, 30, (2, 7)).astype(np.int32)})
def _():
    import keras
    i = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(30, 8, mask_zero=True)(i)
    h = keras.layers.LSTM(6)(h)
    return keras.Model(i, keras.layers.Dense(2)(h))


@kcase("keras_text_lstm_masked", lambda r: {"inputs": np.array([[3, 5, 9, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]], np.int32)})
def _():
    import keras
    i = keras.Input((7,), dtype="int32")
    h = keras.layers.Embedding(30, 8, mask_zero=True)(i)
    h = keras.layers.LSTM(6)(h)
    return keras.Model(i, keras.layers.Dense(2)(h))



# ================================================================ batch 5
@case("zeros_like_dynbatch", [S("x", [None, 4])], lambda r: {"x": rn(3, 4)(r)})
def _(m, x):
    return {"z": tf.zeros_like(x) + x * 2.0, "o": tf.ones_like(x)}


@case("zeros_like_dynbatch_int", [S("x", [None, 4], I32)], lambda r: {"x": r.integers(0, 5, (3, 4)).astype(np.int32)})
def _(m, x):
    return {"z": tf.zeros_like(x) + x, "zf": tf.zeros_like(tf.cast(x, tf.float32))}


@case("float64_const_add", [S("x", [3], tf.float64)], lambda r: {"x": r.uniform(-2, 2, 3)})
def _(m, x):
    return {"y": x + 1.0}


@kcase("keras_mixed_float16_dense", lambda r: {"inputs": _krand(r, 2, 8)})
def _():
    import keras
    i = keras.Input((8,))
    h = keras.layers.Dense(4, dtype="mixed_float16")(i)
    return keras.Model(i, keras.layers.Activation("linear", dtype="float32")(h))



# ================================================================ batch 6: keras layers users embed, misc
@kcase("keras_preproc", lambda r: {"inputs": r.uniform(0, 255, (2, 12, 10, 3)).astype(np.float32)})
def _():
    import keras
    i = keras.Input((12, 10, 3))
    h = keras.layers.Rescaling(1 / 127.5, offset=-1)(i)
    h = keras.layers.Resizing(8, 8)(h)
    h = keras.layers.CenterCrop(6, 6)(h)
    n = keras.layers.Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 0.5])
    return keras.Model(i, n(h))


@kcase("keras_misc_layers", lambda r: {"inputs": _krand(r, 2, 6, 6, 4)})
def _():
    import keras
    i = keras.Input((6, 6, 4))
    h = keras.layers.Cropping2D(((1, 0), (0, 1)))(i)
    h = keras.layers.PReLU()(h)
    h = keras.layers.GroupNormalization(2)(h)
    h = keras.layers.UpSampling2D(2)(h)
    p = keras.layers.Permute((3, 1, 2))(h)
    g = keras.layers.GlobalAveragePooling2D(keepdims=True)(h)
    u = keras.layers.UnitNormalization()(keras.layers.Flatten()(g))
    r = keras.layers.RepeatVector(3)(u)
    s = keras.layers.Softmax(axis=1)(r)
    return keras.Model(i, [keras.layers.Flatten()(p), s])


@kcase("keras_ops_custom", lambda r: {"inputs": _krand(r, 2, 5, 8)})
def _():
    import keras
    from keras import ops
    class PosAttn(keras.layers.Layer):
        def call(self, x):
            n = ops.shape(x)[1]
            pos = ops.cast(ops.arange(n), "float32")[None, :, None]
            x = x + ops.sin(pos)
            a = ops.softmax(ops.matmul(x, ops.transpose(x, (0, 2, 1))) / ops.sqrt(8.0), axis=-1)
            return ops.matmul(a, x)
    i = keras.Input((5, 8))
    return keras.Model(i, PosAttn()(i))


@case("conv2d_nchw", [S("x", [1, 3, 8, 8])], lambda r: {"x": rn(1, 3, 8, 8)(r)})
def _(m, x):
    return {"y": tf.nn.conv2d(x, m.w, 1, "SAME", data_format="NCHW")}
_.init = lambda m, r: setattr(m, "w", W(r, 3, 3, 3, 4))


# ---------------------------------------------------------------- driver
def build(kind, name, specs, inputs, fn):
    r = np.random.default_rng(abs(hash(name)) % (2 ** 31) if False else sum(map(ord, name)))
    path = os.path.join(OUT, name)
    feed = inputs(np.random.default_rng(sum(map(ord, name)) + 1))
    if kind == "tf":
        m = tf.Module()
        if hasattr(fn, "init"):
            fn.init(m, r)
        import types
        m.f = tf.function(types.MethodType(fn, m), input_signature=specs)
        tf.saved_model.save(m, path, signatures=m.f.get_concrete_function())
    else:
        import keras
        keras.utils.set_random_seed(sum(map(ord, name)))
        model = fn()
        model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)
    sig = loaded.signatures["serving_default"]
    argnames = sorted(sig.structured_input_signature[1].keys())
    if kind == "keras":
        if len(argnames) == 1 and len(feed) == 1 and list(feed.values())[0] is not None:
            feed = {argnames[0]: list(feed.values())[0]}
        else:  # random feed from the signature (batch 2 for None)
            rr = np.random.default_rng(7)
            feed = {k: rr.uniform(-1, 1, [d if d is not None else 2 for d in s.shape]).astype(s.dtype.as_numpy_dtype)
                    for k, s in sig.structured_input_signature[1].items()}
    outs = sig(**{k: tf.constant(v) for k, v in feed.items()})
    z = {f"in:{k}": v for k, v in feed.items()}
    z.update({f"out:{k}": v.numpy() for k, v in outs.items()})
    np.savez(path + ".npz", **z)
    return {"inputs": {k: [list(s.shape), s.dtype.name] for k, s in sig.structured_input_signature[1].items()},
            "outputs": sorted(outs)}


def main():
    want = sys.argv[1:]
    status_path = os.path.join(OUT, "_make_status.json")
    status = json.load(open(status_path)) if os.path.exists(status_path) else {}
    for kind, name, specs, inputs, fn in CASES:
        if want and not any(w in name for w in want):
            continue
        try:
            info = build(kind, name, specs, inputs, fn)
            status[name] = {"ok": True, **info}
            print("OK  ", name, info["outputs"], flush=True)
        except Exception as e:  # TF itself cannot do it -> category (c)
            status[name] = {"ok": False, "error": f"{type(e).__name__}: {str(e)[:400]}"}
            print("FAIL", name, status[name]["error"][:300], flush=True)
    json.dump(status, open(status_path, "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
