"""Operator nodes in functional Keras models: arithmetic on symbolic tensors with
Python constants of any shape on either side (`x + 3.0`, `2.0 - x`, `c / x`), negation,
slicing (`x[:, 1:]`) and keras.ops calls between layers.  Keras records each as a node
of the op's class (`Add`, `GetItem`, ...) which may share a layer's class name; every
case is converted from the .keras file, the .h5 file and the live model, and run in
LiteRT and in tinylite against Keras's own answer."""
import numpy as np
import pytest

from keras_check import check_both  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import run_litert, run_tinylite
from support import keras_oracle

keras = keras_oracle()

import tinylite  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore:__array__ implementation:DeprecationWarning")

C5 = np.array([0.5, -1.0, 2.0, 0.25, 3.0], np.float32)          # broadcasts along the last axis
C45 = np.linspace(-2, 2, 20, dtype=np.float32).reshape(1, 4, 5)  # a full non-batch constant
C41 = np.array([[1.0], [2.0], [-1.0], [0.5]], np.float32)        # broadcasts along the last axis
C2145 = np.linspace(0.5, 1.5, 40, dtype=np.float32).reshape(2, 1, 4, 5)   # raises the rank


def _ops():
    o, L = keras.ops, keras.layers
    return {
        # x + c, c + x, x - c, c - x, x * c, x / c, c / x with scalars and arrays (a numpy
        # array on the left takes over `+`, so those go through keras.ops, as Keras records them)
        "add_scalar": lambda x: x + 3.0,
        "add_scalar_left": lambda x: 3.0 + x,
        "add_vector": lambda x: x + C5,
        "add_vector_left": lambda x: o.add(C5, x),
        "add_full": lambda x: x + C45,
        "add_column": lambda x: o.add(C41, x),
        "add_higher_rank": lambda x: x + C2145,
        "sub_scalar": lambda x: x - 1.5,
        "sub_scalar_left": lambda x: 2.0 - x,
        "sub_vector_left": lambda x: o.subtract(C5, x),
        "sub_full": lambda x: x - C45,
        "mul_scalar": lambda x: x * (1.0 / 6.0),
        "mul_scalar_left": lambda x: 0.5 * x,
        "mul_vector": lambda x: x * C5,
        "mul_column_left": lambda x: o.multiply(C41, x),
        "div_scalar": lambda x: x / 4.0,
        "div_vector": lambda x: x / C5,
        "div_scalar_left": lambda x: 1.0 / (x * x + 1.0),
        "div_vector_left": lambda x: o.true_divide(C5, x * x + 0.5),
        "neg": lambda x: -x,
        "pow2": lambda x: x ** 2,
        "pow3": lambda x: x ** 3,
        "abs": lambda x: abs(x),
        "tensor_tensor": lambda x: x * x - x / (x * x + 1.0),
        # MobileNetV3's hard sigmoid, the silent wrong answer of issue 18
        "hard_sigmoid": lambda x: L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0),
        "hard_swish": lambda x: x * (L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)),
        # x[...]
        "slice_from": lambda x: x[:, 1:],
        "slice_step": lambda x: x[..., ::2],
        "slice_range": lambda x: x[:, 1:3, 1:-1],
        "slice_reverse": lambda x: x[:, ::-1],
        "index": lambda x: x[:, 0],
        "index_last": lambda x: x[:, -1],
        "index_both": lambda x: x[:, 2, 3],
        "new_axis": lambda x: x[:, None],
        "ellipsis_index": lambda x: x[..., 1],
        "new_axis_mid": lambda x: x[:, 1:, None, :2],
        # keras.ops calls
        "mean": lambda x: o.mean(x, axis=1),
        "sum_keepdims": lambda x: o.sum(x, axis=-1, keepdims=True),
        "max": lambda x: o.max(x, axis=(1, 2)),
        "min": lambda x: o.min(x, axis=1),
        "maximum_const": lambda x: o.maximum(x, 0.5),
        "minimum_const_left": lambda x: o.minimum(C5, x),
        "where": lambda x: o.where(x > 0, x, 0.1 * x),
        "where_const": lambda x: o.where(o.less(x, C5), 1.0, x),
        "greater_cast": lambda x: o.cast(o.greater_equal(x, 0.0), "float32") * x,
        "sqrt_abs": lambda x: o.sqrt(o.abs(x) + 0.1),
        "exp_log": lambda x: o.log(o.exp(x) + 1.0),
        "square": lambda x: o.square(x),
        "reciprocal": lambda x: o.reciprocal(x * x + 1.0),
        "clip": lambda x: o.clip(x, -0.5, 0.75),
        "clip_relu6": lambda x: o.clip(x * 4.0, 0.0, 6.0),
        "reshape": lambda x: o.reshape(x, (-1, 20)),
        "reshape_3d": lambda x: o.reshape(x, (-1, 2, 10)),
        "transpose": lambda x: o.transpose(x, (0, 2, 1)),
        "expand_squeeze": lambda x: o.squeeze(o.expand_dims(x, 2), axis=2) + o.expand_dims(x, -1)[..., 0],
        "concatenate_const": lambda x: o.concatenate([x, x * 2.0, x - C45], axis=1),
        "stack": lambda x: o.stack([x, -x], axis=1),
        "tile": lambda x: o.tile(x, (1, 2, 1)),
        "pad": lambda x: o.pad(x, ((0, 0), (1, 2), (0, 1))),
        "flip": lambda x: o.flip(x, axis=2),
        "split": lambda x: o.split(x, 2, axis=1)[1] * 2.0,
        "take": lambda x: o.take(x, np.array([3, 0, 3]), axis=2),
        "matmul_const": lambda x: o.matmul(x, np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)),
        "matmul_tensor": lambda x: o.matmul(x, o.transpose(x, (0, 2, 1))),
        "activations": lambda x: o.relu(x) + o.sigmoid(x) + o.tanh(x) + o.relu6(x * 3.0) + o.silu(x),
        "softmax": lambda x: o.softmax(x * 2.0, axis=-1),
        "dense_then_op": lambda x: L.Dense(3)(x) * C5[:3] + 1.0,
        # keras.ops found unconverted by the Keras sweep (scripts/sweeps/keras)
        "argmax": lambda x: o.argmax(x, axis=-1),
        "argmin_keepdims": lambda x: o.argmin(x, axis=1, keepdims=True),
        "argmax_all": lambda x: o.argmax(x),
        "cumsum": lambda x: o.cumsum(x, axis=1),
        "cumsum_all": lambda x: o.cumsum(x),
        "prod": lambda x: o.prod(x * 0.5 + 1.0, axis=-1),
        "floor_ceil": lambda x: o.floor(x * 3.0) + o.ceil(x),
        "sin_cos": lambda x: o.sin(x) * o.cos(x),
        "sign": lambda x: o.sign(x),
        "hard_tanh": lambda x: keras.activations.hard_tanh(x * 2.0),
        "floor_divide": lambda x: o.floor_divide(x * 4.0, 1.5),
        "round_mod": lambda x: o.round(x * 2.5) + o.mod(x * 4.0, 1.5),
        "repeat": lambda x: o.repeat(x, 3, axis=1),
        "repeat_last": lambda x: o.repeat(x, 2, axis=-1),
        "zeros_ones_like": lambda x: o.zeros_like(x) + 2.0 + o.ones_like(x) * x,
        "top_k_values": lambda x: o.top_k(x, 2)[0],
        "top_k_indices": lambda x: o.top_k(x, 3)[1],
        "einsum_bmm": lambda x: o.einsum("bij,bkj->bik", x, x * 0.5),
        "einsum_const": lambda x: o.einsum("bij,jk->bik", x, np.linspace(-1, 1, 10, dtype=np.float32).reshape(5, 2)),
        "einsum_reduce": lambda x: o.einsum("bij->bj", x),
        "einsum_outer": lambda x: o.einsum("bi,bj->bij", o.sum(x, axis=1), o.mean(x, axis=2)),
        "einsum_implicit_three": lambda x: o.einsum("bij,bjk,bk", x, o.transpose(x, (0, 2, 1)), o.max(x, axis=2)),
        "var_std": lambda x: o.var(x, axis=1) + o.std(x, axis=-2),
        "std_keepdims": lambda x: o.std(x, axis=(1, 2), keepdims=True) * x,
        "logsumexp": lambda x: o.logsumexp(x * 3.0, axis=-1),
        "logsumexp_keepdims": lambda x: o.logsumexp(x, axis=1, keepdims=True) - x,
        "log_sigmoid": lambda x: o.log_sigmoid(x * 4.0),
        "broadcast_to": lambda x: x + o.broadcast_to(C5, (4, 5)),
        "moveaxis": lambda x: o.moveaxis(x, 1, 2) * 2.0,
        "swapaxes": lambda x: o.swapaxes(x, 0, 2) + 1.0,
        "one_hot": lambda x: o.one_hot(o.cast(o.minimum(o.abs(x[:, :, 0]) * 4, 4.0), "int32"), 5),
        "sort": lambda x: o.sort(x),
        "sort_axis1": lambda x: o.sort(x * 3.0, axis=1),
        "argsort": lambda x: o.argsort(x),
        "argsort_axis1": lambda x: o.argsort(x, axis=1),
        "sort_int": lambda x: o.cast(o.sort(o.cast(x * 100.0, "int32"), axis=-1), "float32"),
    }


@pytest.fixture(scope="module")
def cases():
    return _ops()


def _model(fn):
    keras.utils.set_random_seed(0)
    x = keras.Input((4, 5), name="x")
    return keras.Model(x, fn(x))


CASE_NAMES = sorted([
    "add_scalar", "add_scalar_left", "add_vector", "add_vector_left", "add_full", "add_column", "add_higher_rank",
    "sub_scalar", "sub_scalar_left", "sub_vector_left", "sub_full", "mul_scalar", "mul_scalar_left", "mul_vector",
    "mul_column_left", "div_scalar", "div_vector", "div_scalar_left", "div_vector_left", "neg", "pow2", "pow3",
    "abs", "tensor_tensor", "hard_sigmoid", "hard_swish", "slice_from", "slice_step", "slice_range",
    "slice_reverse", "index", "index_last", "index_both", "new_axis", "ellipsis_index", "new_axis_mid", "mean",
    "sum_keepdims", "max", "min", "maximum_const", "minimum_const_left", "where", "where_const", "greater_cast",
    "sqrt_abs", "exp_log", "square", "reciprocal", "clip", "clip_relu6", "reshape", "reshape_3d", "transpose",
    "expand_squeeze", "concatenate_const", "stack", "tile", "pad", "flip", "split", "take", "matmul_const",
    "matmul_tensor", "activations", "softmax", "dense_then_op", "argmax", "argmin_keepdims", "argmax_all",
    "cumsum", "cumsum_all", "prod", "floor_ceil", "sin_cos", "sign", "hard_tanh", "floor_divide",
    "zeros_ones_like", "top_k_values", "top_k_indices", "round_mod", "repeat", "repeat_last", "sort", "sort_axis1", "argsort",
    "argsort_axis1", "sort_int", "einsum_bmm", "einsum_const", "einsum_reduce", "einsum_outer", "einsum_implicit_three",
    "var_std", "std_keepdims", "logsumexp", "logsumexp_keepdims", "log_sigmoid", "broadcast_to", "moveaxis", "swapaxes", "one_hot"])


def test_case_list_is_complete(cases):
    assert sorted(cases) == CASE_NAMES


@pytest.mark.parametrize("source", ["keras", "h5", "live"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_op_node(cases, case, source, tmp_path):
    model = _model(cases[case])
    x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    ref = keras.ops.convert_to_numpy(model(x))
    if source == "live":
        converter = tinylite.TFLiteConverter.from_keras_model(model)
    else:
        path = tmp_path / f"m.{source}"
        model.save(path)
        converter = tinylite.TFLiteConverter.from_keras_model_file(str(path))
    check_both(converter.convert(), [x], [ref])


@pytest.mark.parametrize("source", ["keras", "h5"])
def test_norm(source, tmp_path):
    """keras.ops.norm: Keras 3's numpy backend cannot call a model holding it (its Norm op keeps
    the axis as a list, which its own norm refuses), so numpy's norms are the reference."""
    o = keras.ops
    x = keras.Input((4, 5))
    model = keras.Model(x, [o.norm(x, axis=-1), o.norm(x, ord=1, axis=2, keepdims=True), o.norm(x, ord=np.inf, axis=1),
                            o.norm(x, ord=-np.inf, axis=-1), o.norm(x, axis=(1, 2))])
    model.save(tmp_path / f"m.{source}")
    content = tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / f"m.{source}")).convert()
    feed = np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32)
    refs = [np.linalg.norm(feed, axis=-1), np.linalg.norm(feed, ord=1, axis=2, keepdims=True),
            np.linalg.norm(feed, ord=np.inf, axis=1), np.linalg.norm(feed, ord=-np.inf, axis=-1),
            np.linalg.norm(feed, axis=(1, 2))]
    check_both(content, [feed], refs)


def test_argsort_of_ties_is_stable():
    """numpy's default argsort orders equal values as its vectorized sort happens to (not stably);
    the file's TOPK_V2 orders them by index, in LiteRT and tinylite: numpy's stable argsort."""
    x = keras.Input((4, 5))
    model = keras.Model(x, keras.ops.argsort(keras.ops.round(x), axis=1))
    feed = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    content = tinylite.TFLiteConverter.from_keras_model(model).convert()
    want = np.argsort(np.round(feed), axis=1, kind="stable")
    for got in (run_litert(content, [feed])[0], run_tinylite(content, [feed])[0]):
        np.testing.assert_array_equal(got, want)


def test_unsupported_op_names_the_node_and_a_fix(cases, tmp_path):
    x = keras.Input((4, 5))
    model = keras.Model(x, keras.ops.erf(x))
    model.save(tmp_path / "m.keras")
    with pytest.raises(tinylite.ConverterError, match=r"erf.*\(Erf\) is not supported: .*Activation\('gelu'\)"):
        tinylite.TFLiteConverter.from_keras_model_file(str(tmp_path / "m.keras")).convert()


def test_tensor_index_is_refused_clearly(cases):
    x = keras.Input((4, 5))
    idx = keras.Input((2,), dtype="int32")
    model = keras.Model([x, idx], keras.ops.take(x, idx, axis=1))
    # (take with a tensor of indices is GATHER, which is supported)
    feeds = [np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32),
             np.array([[0, 3], [1, 1], [2, 0]], np.int32)]
    ref = keras.ops.convert_to_numpy(model(feeds))
    check_both(tinylite.TFLiteConverter.from_keras_model(model).convert(), feeds, [ref])
