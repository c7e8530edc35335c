"""`keras.ops` calls recorded by tracing a subclassed model, lowered to TFLite ops.

The op's parameters come from the op object (its attributes, e.g. Reshape.newshape);
its positional arguments are the tensors (and Python scalars) it was called with.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError
from . import layers as L
from .ops import binary, bshape, conv_out, einsum, expand_dims, f32, i32, reduce, reshape, squeeze, transpose, unary

OP_LOWERINGS: dict = {}


def op(*names):
    def register(fn):
        for n in names:
            OP_LOWERINGS[n] = fn
        return fn
    return register


def _is_tensor(v) -> bool:
    return hasattr(v, "index")


def _operand(ctx, v, name, like=None):
    """A tensor operand: Values pass through; Python numbers and arrays become constants
    of `like`'s dtype (Keras computes `float32_tensor + 3` in float32)."""
    if _is_tensor(v):
        return v
    if isinstance(v, (bool, int, float, np.number, np.ndarray, list, tuple)):
        arr = np.asarray(v)
        dtype = np.float32
        if like is not None and (like.dtype.kind == "f" or arr.dtype.kind in "iub"):
            dtype = like.dtype
        if arr.dtype.kind == "b" and (like is None or like.dtype.kind == "b"):
            dtype = np.bool_
        return ctx.b.const(arr.astype(dtype), name)
    raise ConverterError(f"{name}: unsupported operand {v!r} (a tensor, a number or an array)")


_TYPE_NAMES = {np.dtype(np.float32): "FLOAT32", np.dtype(np.int32): "INT32", np.dtype(np.int64): "INT64",
               np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "UINT8", np.dtype(np.int8): "INT8",
               np.dtype(np.int16): "INT16"}


def cast(ctx, x, dtype, name):
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.dtype not in _TYPE_NAMES or dtype not in _TYPE_NAMES:
        raise ConverterError(f"{name}: casting {x.dtype} to {dtype} is not supported")
    return ctx.b.op("CAST", [x], x.shape, name, {"in_data_type": _TYPE_NAMES[x.dtype],
                                                 "out_data_type": _TYPE_NAMES[dtype]}, out_dtypes=dtype)


def _kind(layer) -> str:
    """The keras.ops class: "op:<Class>" in a traced model, "<Class>" in a functional config."""
    return layer.class_name[3:] if layer.class_name.startswith("op:") else layer.class_name


def lower_op(ctx, layer, args, kwargs, kind=None):
    kind = kind or _kind(layer)
    if kind not in OP_LOWERINGS:
        L.load_lazy_lowerings()           # (sequence.py adds the mask ops)
    fn = OP_LOWERINGS.get(kind)
    if fn is None:
        hint = _HINTS.get(kind, "use the Keras layer that does the same (keras.layers.*), or rewrite it with "
                                "the supported ops")
        raise ConverterError(
            f"keras.ops call {layer.name!r} ({kind}) is not supported: {hint}. Supported keras.ops calls: "
            f"{', '.join(sorted(OP_LOWERINGS))}.")
    return fn(ctx, layer, list(args), dict(kwargs or {}))


# What to use instead of keras.ops calls that TFLite builtins cannot express (or that
# have no kernel here); lower_op names the hint in its error.
_HINTS = {
    "Erf": "use keras.layers.Activation('gelu') where erf is part of a GELU",
    "Conv1d": "use keras.layers.Conv1D",
    "ConvTranspose": "use keras.layers.Conv2DTranspose",
    "SeparableConv": "use keras.layers.SeparableConv2D",
    "BatchNormalization": "use keras.layers.BatchNormalization",
}


def _promote(ctx, a, b, name):
    """Make two tensor operands one dtype (int with float: the int becomes float32)."""
    if a.dtype == b.dtype:
        return a, b
    if a.dtype.kind == "f" and b.dtype.kind != "f":
        return a, cast(ctx, b, a.dtype, name + "/y/Cast")
    if b.dtype.kind == "f" and a.dtype.kind != "f":
        return cast(ctx, a, b.dtype, name + "/x/Cast"), b
    raise ConverterError(f"{name}: operands of dtypes {a.dtype} and {b.dtype} are not supported together")


def binary_operands(ctx, a, b, name, float_only=False):
    """Two operands of a keras.ops binary call (either may be a Python constant of any
    shape) as tensors of one dtype."""
    if not _is_tensor(a) and not _is_tensor(b):
        a = _operand(ctx, a, name + "/x")
    like = a if _is_tensor(a) else b
    if float_only and like.dtype.kind != "f":
        like = cast(ctx, like, np.float32, name + "/Cast")
        a, b = (like, b) if _is_tensor(a) else (a, like)
    const_is_float = lambda v: not _is_tensor(v) and np.asarray(v).dtype.kind == "f"  # noqa: E731
    if like.dtype.kind != "f" and (const_is_float(a) or const_is_float(b)):
        like = cast(ctx, like, np.float32, name + "/Cast")
        a, b = (like, b) if _is_tensor(a) else (a, like)
    a = _operand(ctx, a, name + "/x", like)
    b = _operand(ctx, b, name + "/y", like)
    return _promote(ctx, a, b, name)


_COMMUTATIVE = {"ADD", "MUL", "MAXIMUM", "MINIMUM", "EQUAL", "NOT_EQUAL"}
_COMPARISONS = {"Greater": "GREATER", "GreaterEqual": "GREATER_EQUAL", "Less": "LESS",
                "LessEqual": "LESS_EQUAL", "Equal": "EQUAL"}


def _binary(kind, float_only=False, out_dtype=None):
    def fn(ctx, layer, args, kwargs):
        if len(args) != 2:
            raise ConverterError(f"keras.ops call {layer.name!r} ({_kind(layer)}) takes two operands, got {len(args)}")
        n = layer.name
        a, b = binary_operands(ctx, args[0], args[1], n, float_only)
        if kind in _COMMUTATIVE and a.const is not None and b.const is None:
            a, b = b, a                  # tensor first, constant second (as TensorFlow emits them)
        return ctx.b.op(kind, [a, b], bshape(a.shape, b.shape), n,
                        out_dtypes=out_dtype or a.dtype)
    return fn


for _k, _v in {"Add": "ADD", "Subtract": "SUB", "Multiply": "MUL", "Maximum": "MAXIMUM",
               "Minimum": "MINIMUM"}.items():
    OP_LOWERINGS[_k] = _binary(_v)
for _k in ("Divide", "TrueDivide"):
    OP_LOWERINGS[_k] = _binary("DIV", float_only=True)
OP_LOWERINGS["FloorDivide"] = _binary("FLOOR_DIV")
OP_LOWERINGS["Mod"] = _binary("FLOOR_MOD")          # numpy's mod takes the divisor's sign, as FLOOR_MOD
for _k, _v in _COMPARISONS.items():
    OP_LOWERINGS[_k] = _binary(_v, out_dtype=np.bool_)


@op("Power")
def _power(ctx, layer, args, kwargs):
    x, e = args[0], args[1]
    n = layer.name
    if _is_tensor(x) and not _is_tensor(e) and np.asarray(e).size == 1:
        v = float(np.asarray(e).reshape(()))
        if v == 1.0:
            return x
        if v == 2.0:
            return unary(ctx, "SQUARE", x, n)
        if v == 0.5 and x.dtype.kind == "f":
            return unary(ctx, "SQRT", x, n)
        if v == -0.5 and x.dtype.kind == "f":
            return unary(ctx, "RSQRT", x, n)
    a, b = binary_operands(ctx, x, e, n, float_only=True)
    return ctx.b.op("POW", [a, b], bshape(a.shape, b.shape), n)


_UNARY = {"Relu": "RELU", "Relu6": "RELU6", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "Exp": "EXP", "Log": "LOG",
          "Sqrt": "SQRT", "Rsqrt": "RSQRT", "Negative": "NEG", "Abs": "ABS", "Absolute": "ABS",
          "Square": "SQUARE", "HardSilu": "HARD_SWISH", "HardSwish": "HARD_SWISH", "LogicalNot": "LOGICAL_NOT",
          "Floor": "FLOOR", "Ceil": "CEIL", "Round": "ROUND", "Sin": "SIN", "Cos": "COS", "Sign": "SIGN",
          "HardTanh": "RELU_N1_TO_1"}
_FLOAT_UNARY = {"LOGISTIC", "TANH", "EXP", "LOG", "SQRT", "RSQRT", "HARD_SWISH", "FLOOR", "CEIL", "ROUND", "SIN",
                "COS", "RELU_N1_TO_1"}


def _unary(kind):
    def fn(ctx, layer, args, kwargs):
        x = args[0]
        if not _is_tensor(x):
            x = _operand(ctx, x, layer.name + "/x")
        if kind in _FLOAT_UNARY and x.dtype.kind != "f":
            x = cast(ctx, x, np.float32, layer.name + "/Cast")
        out_dtype = np.bool_ if kind == "LOGICAL_NOT" else x.dtype
        return ctx.b.op(kind, [x], x.shape, layer.name, out_dtypes=out_dtype)
    return fn


for _k, _v in _UNARY.items():
    OP_LOWERINGS[_k] = _unary(_v)


@op("Elu")
def _elu(ctx, layer, args, kwargs):
    return L._elu(ctx, args[0], float(layer.config.get("alpha", 1.0)), layer.name)


@op("LeakyRelu")
def _leaky(ctx, layer, args, kwargs):
    return unary(ctx, "LEAKY_RELU", args[0], layer.name, {"alpha": float(layer.config.get("negative_slope", 0.2))})


@op("Gelu")
def _gelu(ctx, layer, args, kwargs):
    return unary(ctx, "GELU", args[0], layer.name, {"approximate": bool(layer.config.get("approximate", True))})


@op("Silu", "Swish", "HardSigmoid", "Softplus", "Softsign")
def _named_activation(ctx, layer, args, kwargs):
    name = {"Silu": "silu", "Swish": "silu", "HardSigmoid": "hard_sigmoid", "Softplus": "softplus",
            "Softsign": "softsign"}[_kind(layer)]
    return L.activation(ctx, args[0], name, layer.name)


@op("Softmax")
def _softmax(ctx, layer, args, kwargs):
    return L.softmax(ctx, args[0], layer.config.get("axis", -1), layer.name)


@op("LogSoftmax")
def _log_softmax(ctx, layer, args, kwargs):
    return L._on_last_axis(ctx, args[0], layer.config.get("axis", -1), layer.name,
                           lambda v: unary(ctx, "LOG_SOFTMAX", v, layer.name))


@op("Reciprocal")
def _reciprocal(ctx, layer, args, kwargs):
    return OP_LOWERINGS["TrueDivide"](ctx, layer, [1.0, args[0]], kwargs)


@op("Log1p")
def _log1p(ctx, layer, args, kwargs):
    x = args[0]
    return unary(ctx, "LOG", binary(ctx, "ADD", x, 1.0, layer.name + "/add"), layer.name)


@op("Expm1")
def _expm1(ctx, layer, args, kwargs):
    x = args[0]
    return binary(ctx, "SUB", unary(ctx, "EXP", x, layer.name + "/exp"), 1.0, layer.name)


@op("Cast")
def _cast(ctx, layer, args, kwargs):
    dtype = layer.config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    try:
        target = np.dtype(str(dtype))
    except TypeError:
        raise ConverterError(f"keras.ops.cast {layer.name!r}: dtype {dtype!r} is not supported") from None
    if target.kind == "f":
        target = np.dtype(np.float32)
    return cast(ctx, _operand(ctx, args[0], layer.name + "/x"), target, layer.name)


@op("Where")
def _where(ctx, layer, args, kwargs):
    args = list(args) + [kwargs.get("x1"), kwargs.get("x2")][len(args) - 1:]
    if len(args) < 3 or args[1] is None or args[2] is None:
        raise ConverterError(f"keras.ops.where {layer.name!r}: the one-argument form (indices of nonzero "
                             "elements) has a data-dependent shape; give where(condition, x1, x2)")
    cond, x1, x2 = args[:3]
    n = layer.name
    cond = _operand(ctx, cond, n + "/condition")
    if cond.dtype != np.bool_:
        cond = ctx.b.op("NOT_EQUAL", [cond, ctx.b.const(np.zeros((), cond.dtype), n + "/zero")], cond.shape,
                        n + "/NotEqual", out_dtypes=np.bool_)
    a, b = binary_operands(ctx, x1, x2, n)
    shape = bshape(cond.shape, bshape(a.shape, b.shape))
    return ctx.b.op("SELECT_V2", [cond, a, b], shape, n, out_dtypes=a.dtype)


@op("Reshape")
def _reshape(ctx, layer, args, kwargs):
    x = args[0]
    target = [int(d) if d is not None else -1 for d in layer.config["newshape"]]
    if target.count(-1) > 1:
        raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} has more than one -1")
    known = x.shape[1:] if x.shape[0] is None else x.shape
    if any(d is None for d in known):
        raise ConverterError(f"keras.ops.reshape {layer.name!r}: input shape {x.shape} has unknown dimensions "
                             "besides the batch; give the model static shapes")
    total = int(np.prod(known))
    if x.shape[0] is None:
        if not target or target[0] != -1:
            raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} must keep the batch "
                                 "first as -1 (the batch size is known only at run time)")
        rest = target[1:]
        if -1 in rest:
            raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} has -1 besides the batch")
        if int(np.prod(rest)) == 0 or total % int(np.prod(rest)):
            raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} does not fit {x.shape}")
        shape = (None,) + tuple(rest) if int(np.prod(rest)) == total else None
        if shape is None:
            raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} moves elements across "
                                 f"the batch of {x.shape}; keep the batch dimension")
        return reshape(ctx, x, shape, layer.name)
    if -1 in target:
        target[target.index(-1)] = total // max(1, int(np.prod([d for d in target if d != -1])))
    if int(np.prod(target)) != total:
        raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} does not fit {x.shape}")
    return reshape(ctx, x, tuple(target), layer.name)


@op("Transpose")
def _transpose(ctx, layer, args, kwargs):
    x = args[0]
    axes = layer.config.get("axes")
    perm = list(range(x.rank))[::-1] if axes is None else [int(a) % x.rank for a in axes]
    return transpose(ctx, x, perm, layer.name)


def _axes(x, axis):
    return list(range(x.rank)) if axis is None else ([int(axis)] if isinstance(axis, int) else [int(a) for a in axis])


@op("Mean", "Max", "Sum", "Min", "Prod", "All")
def _reduce(ctx, layer, args, kwargs):
    x = args[0]
    axes = _axes(x, layer.config.get("axis"))
    keep = bool(layer.config.get("keepdims", False))
    kind = _kind(layer)
    if kind == "Min":
        # min(x) = -max(-x): LiteRT has REDUCE_MIN, but a negated REDUCE_MAX is exact
        # and runs on every interpreter this converter targets.
        neg = unary(ctx, "NEG", x, layer.name + "/neg")
        return unary(ctx, "NEG", reduce(ctx, "REDUCE_MAX", neg, axes, keep, layer.name + "/max"), layer.name)
    if kind == "All":
        if x.dtype != np.bool_:
            x = ctx.b.op("NOT_EQUAL", [x, ctx.b.const(np.zeros((), x.dtype), layer.name + "/zero")], x.shape,
                         layer.name + "/NotEqual", out_dtypes=np.bool_)
        return reduce(ctx, "REDUCE_ALL", x, axes, keep, layer.name)
    op_kind = {"Mean": "MEAN", "Max": "REDUCE_MAX", "Sum": "SUM", "Prod": "REDUCE_PROD"}[kind]
    return reduce(ctx, op_kind, x, axes, keep, layer.name)


def _concat_shape(xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(v.shape[axis] for v in xs) if all(v.shape[axis] is not None for v in xs) else None
    for i in range(len(shape)):
        if i != axis and shape[i] is None:
            shape[i] = next((v.shape[i] for v in xs if v.shape[i] is not None), None)
    return tuple(shape)


def _tensors_of(ctx, items, name):
    like = next((v for v in items if _is_tensor(v)), None)
    return [_operand(ctx, v, f"{name}/values_{k}", like) for k, v in enumerate(items)]


@op("Concatenate")
def _concatenate(ctx, layer, args, kwargs):
    xs = _tensors_of(ctx, args[0], layer.name)
    axis = int(layer.config.get("axis", 0)) % xs[0].rank
    return ctx.b.op("CONCATENATION", xs, _concat_shape(xs, axis), layer.name, {"axis": axis})


@op("Stack")
def _stack(ctx, layer, args, kwargs):
    xs = _tensors_of(ctx, args[0], layer.name)
    axis = int(layer.config.get("axis", 0)) % (xs[0].rank + 1)
    shape = xs[0].shape[:axis] + (len(xs),) + xs[0].shape[axis:]
    return ctx.b.op("PACK", xs, shape, layer.name, {"values_count": len(xs), "axis": axis})


@op("Matmul")
def _matmul(ctx, layer, args, kwargs):
    x, y = args[0], args[1]
    if not hasattr(y, "index") or y.const is not None:
        w = np.asarray(y.const if hasattr(y, "const") else y, np.float32)
        if w.ndim == 2:
            return ctx.b.op("FULLY_CONNECTED", [x, f32(ctx, w.T, layer.name + "/weights"), None],
                            x.shape[:-1] + (w.shape[1],), layer.name, {"keep_num_dims": x.rank > 2})
        y = _operand(ctx, w, layer.name + "/y")
    if x.rank < 2 or y.rank < 2:
        raise ConverterError(f"keras.ops.matmul {layer.name!r}: rank-1 operands are not supported")
    batch = bshape(x.shape[:-2], y.shape[:-2])
    return ctx.b.op("BATCH_MATMUL", [x, y], tuple(batch) + (x.shape[-2], y.shape[-1]), layer.name,
                    {"adj_x": False, "adj_y": False})


@op("ExpandDims")
def _expand(ctx, layer, args, kwargs):
    x = args[0]
    axis = layer.config["axis"]
    axes = [axis] if isinstance(axis, int) else list(axis)
    for k, a in enumerate(sorted(int(a) % (x.rank + len(axes)) for a in axes)):
        x = expand_dims(ctx, x, a, layer.name if k == len(axes) - 1 else f"{layer.name}/{k}")
    return x


@op("Squeeze")
def _squeeze(ctx, layer, args, kwargs):
    x = args[0]
    axis = layer.config.get("axis")
    axes = [i for i, d in enumerate(x.shape) if d == 1] if axis is None else \
        [int(a) % x.rank for a in ([axis] if isinstance(axis, int) else axis)]
    for a in axes:
        if x.shape[a] != 1:
            raise ConverterError(f"keras.ops.squeeze {layer.name!r}: axis {a} of {x.shape} is not 1")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if sum(d is None for d in shape) <= 1:
        return reshape(ctx, x, shape, layer.name)
    return ctx.b.op("SQUEEZE", [x], shape, layer.name, {"squeeze_dims": np.array(axes, np.int32)})


@op("Clip")
def _clip(ctx, layer, args, kwargs):
    x = args[0]
    lo, hi = layer.config.get("x_min"), layer.config.get("x_max")
    if lo is not None and hi is not None and float(lo) == 0 and float(hi) == 6 and x.dtype.kind == "f":
        return unary(ctx, "RELU6", x, layer.name)
    if lo is not None and hi is not None and float(lo) == -1 and float(hi) == 1 and x.dtype.kind == "f":
        return unary(ctx, "RELU_N1_TO_1", x, layer.name)
    y = x
    if hi is not None:
        y = OP_LOWERINGS["Minimum"](ctx, _Named(layer.name + "/min" if lo is not None else layer.name), [y, hi], {})
    if lo is not None:
        y = OP_LOWERINGS["Maximum"](ctx, _Named(layer.name), [y, lo], {})
    return y


class _Named:
    """A stand-in layer for reusing an op lowering under another name."""

    def __init__(self, name, class_name="op", config=None):
        self.name, self.class_name, self.config = name, class_name, config or {}


@op("Tile")
def _tile(ctx, layer, args, kwargs):
    x = args[0]
    reps = layer.config["repeats"]
    reps = [int(reps)] if isinstance(reps, int) else [int(r) for r in reps]
    while len(reps) < x.rank:
        reps.insert(0, 1)
    if len(reps) > x.rank:
        raise ConverterError(f"keras.ops.tile {layer.name!r}: {len(reps)} repeats for a rank-{x.rank} input; "
                             "expand its dimensions first")
    shape = tuple(None if d is None else d * r for d, r in zip(x.shape, reps))
    return ctx.b.op("TILE", [x, i32(ctx, reps, layer.name + "/multiples")], shape, layer.name)


@op("Pad")
def _pad(ctx, layer, args, kwargs):
    x = args[0]
    mode = str(layer.config.get("mode", "constant")).lower()
    pads = [list(p) for p in layer.config["pad_width"]]
    if len(pads) == 1:
        pads = pads * x.rank
    if len(pads) != x.rank:
        raise ConverterError(f"keras.ops.pad {layer.name!r}: pad_width {pads} does not fit rank {x.rank}")
    table = np.array([(int(p[0]), int(p[-1])) for p in pads], np.int32)
    shape = tuple(None if d is None else d + int(a) + int(b) for d, (a, b) in zip(x.shape, table))
    n = layer.name
    if mode in ("reflect", "symmetric"):
        return ctx.b.op("MIRROR_PAD", [x, i32(ctx, table, n + "/paddings")], shape, n,
                        {"mode": mode.upper()})
    if mode != "constant":
        raise ConverterError(f"keras.ops.pad {layer.name!r}: mode {mode!r} is not supported (constant, reflect, "
                             "symmetric)")
    value = kwargs.get("constant_values", args[1] if len(args) > 1 else None)
    if value is None or (not _is_tensor(value) and float(np.asarray(value)) == 0):
        return ctx.b.op("PAD", [x, i32(ctx, table, n + "/paddings")], shape, n)
    value = _operand(ctx, np.asarray(value).reshape(()) if not _is_tensor(value) else value, n + "/constant", x)
    return ctx.b.op("PADV2", [x, i32(ctx, table, n + "/paddings"), value], shape, n)


@op("Flip")
def _flip(ctx, layer, args, kwargs):
    x = args[0]
    axes = [a % x.rank for a in _axes(x, layer.config.get("axis"))]
    return ctx.b.op("REVERSE_V2", [x, i32(ctx, axes, layer.name + "/axis")], x.shape, layer.name)


@op("Split")
def _split(ctx, layer, args, kwargs):
    x = args[0]
    axis = int(layer.config.get("axis", 0)) % x.rank
    size = x.shape[axis]
    sections = layer.config["indices_or_sections"]
    if size is None:
        raise ConverterError(f"keras.ops.split {layer.name!r}: axis {axis} of {x.shape} is known only at run time")
    if isinstance(sections, int):
        if size % sections:
            raise ConverterError(f"keras.ops.split {layer.name!r}: {size} does not split into {sections} equal parts")
        sizes = [size // sections] * sections
    else:
        bounds = [0] + [int(i) for i in sections] + [size]
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    shapes = [x.shape[:axis] + (s,) + x.shape[axis + 1:] for s in sizes]
    n = layer.name
    if len(set(sizes)) == 1:
        return ctx.b.op("SPLIT", [i32(ctx, axis, n + "/axis"), x], shapes, n, {"num_splits": len(sizes)},
                        out_dtypes=x.dtype)
    return ctx.b.op("SPLIT_V", [x, i32(ctx, sizes, n + "/size_splits"), i32(ctx, axis, n + "/axis")], shapes, n,
                    {"num_splits": len(sizes)}, out_dtypes=x.dtype)


# -- indexing: x[...] -------------------------------------------------------------------------

def _key_items(key):
    return list(key) if isinstance(key, (list, tuple)) else [key]


@op("GetItem")
def _get_item(ctx, layer, args, kwargs):
    """x[key] with ints, slices, None and Ellipsis: one STRIDED_SLICE (then a RESHAPE for
    new axes).  The ellipsis is expanded here, where the rank is known."""
    x, key = args[0], args[1]
    n = layer.name
    items = _key_items(key)
    for it in items:
        if _is_tensor(it) or isinstance(it, (list, np.ndarray)):
            raise ConverterError(f"{n}: indexing with a tensor or an index list (x[indices]) is not supported; "
                                 "use keras.ops.take(x, indices, axis) with constant indices")
        if not (it is None or it is Ellipsis or isinstance(it, (int, np.integer, slice))):
            raise ConverterError(f"{n}: index {it!r} is not supported (ints, slices, None, ...)")
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
    if consumed > x.rank:
        raise ConverterError(f"{n}: {consumed} indices for a rank-{x.rank} tensor")
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + [slice(None)] * (x.rank - consumed) + items[k + 1:]
    else:
        items = items + [slice(None)] * (x.rank - consumed)
    begin, end, strides = [], [], []
    begin_mask = end_mask = shrink = 0
    out_shape, new_axes = [], []
    dim = 0
    for it in items:
        if it is None:
            new_axes.append(len(out_shape))
            out_shape.append(1)
            continue
        size = x.shape[dim]
        if isinstance(it, slice):
            step = 1 if it.step is None else int(it.step)
            if step == 0:
                raise ConverterError(f"{n}: slice step 0")
            begin.append(0 if it.start is None else int(it.start))
            end.append(0 if it.stop is None else int(it.stop))
            strides.append(step)
            begin_mask |= (it.start is None) << dim
            end_mask |= (it.stop is None) << dim
            out_shape.append(None if size is None else len(range(*it.indices(size))))
        else:
            i = int(it)
            if size is not None and not -size <= i < size:
                raise ConverterError(f"{n}: index {i} is out of range for axis {dim} of size {size}")
            begin.append(i)
            end.append(i + 1 if i != -1 else 0)
            end_mask |= (i == -1) << dim
            strides.append(1)
            shrink |= 1 << dim
        dim += 1
    kept = [d for d in out_shape]
    sliced_shape = tuple(d for k, d in enumerate(kept) if k not in new_axes)
    y = ctx.b.op("STRIDED_SLICE", [x, i32(ctx, begin, n + "/begin"), i32(ctx, end, n + "/end"),
                                   i32(ctx, strides, n + "/strides")], sliced_shape,
                 n if not new_axes else n + "/strided_slice",
                 {"begin_mask": begin_mask, "end_mask": end_mask, "shrink_axis_mask": shrink})
    if not new_axes:
        return y
    for k, a in enumerate(new_axes):
        y = expand_dims(ctx, y, a, n if k == len(new_axes) - 1 else f"{n}/new_axis_{k}")
    return y


@op("Take")
def _take(ctx, layer, args, kwargs):
    x, indices = args[0], args[1]
    axis = layer.config.get("axis")
    if axis is None:
        raise ConverterError(f"keras.ops.take {layer.name!r}: give an axis (taking from the flattened tensor "
                             "is not supported)")
    axis = int(axis) % x.rank
    if not _is_tensor(indices):
        indices = ctx.b.const(np.asarray(indices, np.int32), layer.name + "/indices")
    elif indices.dtype not in (np.int32, np.int64):
        indices = cast(ctx, indices, np.int32, layer.name + "/indices/Cast")
    shape = x.shape[:axis] + indices.shape + x.shape[axis + 1:]
    return ctx.b.op("GATHER", [x, indices], shape, layer.name, {"axis": axis, "batch_dims": 0},
                    out_dtypes=x.dtype)


# -- keras.ops.nn: pooling and convolutions ----------------------------------------------------

def _spatial(v, k, name):
    if v is None:
        return None
    if isinstance(v, (int, np.integer)):
        return (int(v),) * k
    v = tuple(int(a) for a in v)
    if len(v) != k:
        raise ConverterError(f"{name}: {v} has {len(v)} entries for {k} spatial dimensions")
    return v


def _nn_checks(ctx, layer, x):
    fmt = layer.config.get("data_format")
    if fmt not in (None, "channels_last"):
        raise ConverterError(f"keras.ops call {layer.name!r} ({_kind(layer)}): data_format={fmt!r} is not "
                             "supported; TFLite is NHWC, use data_format='channels_last'")
    if x.rank not in (3, 4):
        raise ConverterError(f"keras.ops call {layer.name!r} ({_kind(layer)}): a rank-{x.rank} input is not "
                             "supported (1-D or 2-D, channels last); use keras.layers.Conv3D/MaxPooling3D")
    padding = str(layer.config.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        raise ConverterError(f"keras.ops call {layer.name!r}: padding={padding!r} is not supported (valid, same)")
    return padding


@op("MaxPool", "AveragePool")
def _pool(ctx, layer, args, kwargs):
    x = args[0]
    n = layer.name
    padding = _nn_checks(ctx, layer, x)
    k = x.rank - 2
    pool = _spatial(layer.config["pool_size"], k, n)
    strides = _spatial(layer.config.get("strides"), k, n) or pool
    if k == 1:
        x = expand_dims(ctx, x, 1, n + "/ExpandDims")
        pool, strides = (1,) + pool, (1,) + strides
    op_name = "MAX_POOL_2D" if _kind(layer) == "MaxPool" else "AVERAGE_POOL_2D"
    out_shape = (x.shape[0], conv_out(x.shape[1], pool[0], strides[0], 1, padding),
                 conv_out(x.shape[2], pool[1], strides[1], 1, padding), x.shape[3])
    y = ctx.b.op(op_name, [x], out_shape, n if k == 2 else n + "/pool",
                 {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1],
                  "filter_height": pool[0], "filter_width": pool[1]})
    return squeeze(ctx, y, 1, n) if k == 1 else y


def _const_kernel(layer, kernel):
    if _is_tensor(kernel):
        if kernel.const is None:
            raise ConverterError(f"keras.ops call {layer.name!r} ({_kind(layer)}): the kernel is computed by the "
                                 "model; TFLite convolutions need constant weights. Use keras.layers.Conv2D / "
                                 "DepthwiseConv2D, or a weight created with add_weight")
        kernel = kernel.const
    return np.asarray(kernel, np.float32)


@op("Conv", "DepthwiseConv")
def _conv(ctx, layer, args, kwargs):
    x = args[0]
    kernel = _const_kernel(layer, args[1] if len(args) > 1 else kwargs.get("kernel"))
    n = layer.name
    padding = _nn_checks(ctx, layer, x)
    k = x.rank - 2
    strides = _spatial(layer.config.get("strides", 1), k, n)
    dilation = _spatial(layer.config.get("dilation_rate", 1), k, n)
    if kernel.ndim != k + 2:
        raise ConverterError(f"{n}: kernel of shape {kernel.shape} for a rank-{x.rank} input")
    if k == 1:
        x = expand_dims(ctx, x, 1, n + "/ExpandDims")
        kernel = kernel[None]
        strides, dilation = (1,) + strides, (1,) + dilation
    kh, kw, cin, cout = kernel.shape
    out_hw = (conv_out(x.shape[1], kh, strides[0], dilation[0], padding),
              conv_out(x.shape[2], kw, strides[1], dilation[1], padding))
    options = {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1],
               "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]}
    name = n if k == 2 else n + "/conv"
    if _kind(layer) == "Conv":
        if x.shape[3] is not None and x.shape[3] != cin:
            raise ConverterError(f"{n}: grouped convolutions (input channels {x.shape[3]}, kernel {kernel.shape}) "
                                 "are not supported by keras.ops.conv here; use keras.layers.Conv2D(groups=...)")
        w = np.ascontiguousarray(kernel.transpose(3, 0, 1, 2))          # HWIO -> OHWI
        y = ctx.b.op("CONV_2D", [x, f32(ctx, w, n + "/filter"), f32(ctx, np.zeros(cout, np.float32), n + "/bias")],
                     (x.shape[0],) + out_hw + (cout,), name, options)
    else:
        w = np.ascontiguousarray(kernel.reshape(1, kh, kw, cin * cout))  # HW,C,M -> 1,HW,C*M
        y = ctx.b.op("DEPTHWISE_CONV_2D", [x, f32(ctx, w, n + "/filter"),
                                           f32(ctx, np.zeros(cin * cout, np.float32), n + "/bias")],
                     (x.shape[0],) + out_hw + (cin * cout,), name, dict(options, depth_multiplier=cout))
    return squeeze(ctx, y, 1, n) if k == 1 else y


def _variance(ctx, x, axes, keep, n, name):
    """(mean with the axes kept, mean of squared deviations) over `axes`, as Keras computes them."""
    mean = reduce(ctx, "MEAN", x, axes, True, n + "/mean")
    dev = binary(ctx, "SUB", x, mean, n + "/sub")
    return mean, reduce(ctx, "MEAN", unary(ctx, "SQUARE", dev, n + "/square"), axes, keep, name)


def _drop_axes(ctx, v, shape, axes, name):
    """v (reduced with its axes kept) with those axes dropped, to `shape`."""
    if sum(d is None for d in shape) <= 1:
        return reshape(ctx, v, shape, name)
    return ctx.b.op("SQUEEZE", [v], shape, name, {"squeeze_dims": np.array(axes, np.int32)})


def _reduction(layer, args, axis_key="axis"):
    """(x, layer name, the reduced axes (nonnegative), keepdims) of a keras.ops reduction."""
    x = args[0]
    return x, layer.name, [a % x.rank for a in _axes(x, layer.config.get(axis_key))], \
        bool(layer.config.get("keepdims", False))


@op("Moments")
def _moments(ctx, layer, args, kwargs):
    """(mean, variance) as Keras computes them: mean of squared deviations."""
    x, n, axes, keep = _reduction(layer, args, "axes")
    mean, var = _variance(ctx, x, axes, keep, n, n + "/variance")
    return [mean if keep else _drop_axes(ctx, mean, var.shape, axes, n + "/mean_squeezed"), var]


@op("Var", "Std")
def _var(ctx, layer, args, kwargs):
    """numpy's var / std: the mean of squared deviations (its square root)."""
    x, n, axes, keep = _reduction(layer, args)
    std = _kind(layer) == "Std"
    _, var = _variance(ctx, x, axes, keep, n, n + "/var" if std else n)
    return unary(ctx, "SQRT", var, n) if std else var


@op("Logsumexp")
def _logsumexp(ctx, layer, args, kwargs):
    """log(sum(exp(x))) as Keras computes it: m + log(sum(exp(x - m))), m the maximum."""
    x, n, axes, keep = _reduction(layer, args)
    m = reduce(ctx, "REDUCE_MAX", x, axes, True, n + "/max")
    total = reduce(ctx, "SUM", unary(ctx, "EXP", binary(ctx, "SUB", x, m, n + "/sub"), n + "/exp"), axes, keep,
                   n + "/sum")
    if not keep:
        m = _drop_axes(ctx, m, total.shape, axes, n + "/max_squeezed")
    return binary(ctx, "ADD", m, unary(ctx, "LOG", total, n + "/log"), n)


@op("Norm")
def _norm(ctx, layer, args, kwargs):
    """numpy's vector norms (ord None or 2, 1, inf, -inf) over one axis, and the Frobenius norm
    (ord None or 'fro') over two or all."""
    x, n, axes, keep = _reduction(layer, args)
    order = layer.config.get("ord")
    if order in (None, 2, "fro") and (order != 2 or len(axes) == 1) and (order != "fro" or len(axes) >= 2):
        return unary(ctx, "SQRT", reduce(ctx, "SUM", binary(ctx, "MUL", x, x, n + "/square"), axes, keep,
                                         n + "/sum"), n)
    if len(axes) == 1 and order == 1:
        return reduce(ctx, "SUM", unary(ctx, "ABS", x, n + "/abs"), axes, keep, n)
    if len(axes) == 1 and order in (float("inf"), "inf"):
        return reduce(ctx, "REDUCE_MAX", unary(ctx, "ABS", x, n + "/abs"), axes, keep, n)
    if len(axes) == 1 and order in (float("-inf"), "-inf"):
        neg = unary(ctx, "NEG", unary(ctx, "ABS", x, n + "/abs"), n + "/neg")
        return unary(ctx, "NEG", reduce(ctx, "REDUCE_MAX", neg, axes, keep, n + "/max"), n)
    raise ConverterError(f"keras.ops.norm {n!r}: ord={order!r} over {len(axes)} axes is not supported (vector norms "
                         "None/2, 1, inf, -inf; the Frobenius norm)")


@op("Moveaxis", "Swapaxes")
def _moveaxis(ctx, layer, args, kwargs):
    x = args[0]
    cfg = layer.config
    if _kind(layer) == "Swapaxes":
        a, b = (int(v) % x.rank for v in (cfg.get("axis1", args[1] if len(args) > 1 else 0),
                                          cfg.get("axis2", args[2] if len(args) > 2 else 1)))
        perm = list(range(x.rank))
        perm[a], perm[b] = perm[b], perm[a]
    else:
        src = cfg.get("source", args[1] if len(args) > 1 else 0)
        dst = cfg.get("destination", args[2] if len(args) > 2 else 0)
        src = [int(v) % x.rank for v in (src if isinstance(src, (list, tuple)) else [src])]
        dst = [int(v) % x.rank for v in (dst if isinstance(dst, (list, tuple)) else [dst])]
        rest = [a for a in range(x.rank) if a not in src]
        perm = [None] * x.rank
        for s_, d_ in zip(src, dst):
            perm[d_] = s_
        perm = [p if p is not None else rest.pop(0) for p in perm]
    return transpose(ctx, x, perm, layer.name)


@op("OneHot")
def _one_hot(ctx, layer, args, kwargs):
    """ONE_HOT of int32 indices (out-of-range ones give zeros, as in Keras), float32 1/0."""
    x = _operand(ctx, args[0], layer.name + "/x")
    cfg, n = layer.config, layer.name
    depth = int(cfg.get("num_classes", args[1] if len(args) > 1 else 0))
    axis = int(cfg.get("axis", -1))
    if x.dtype != np.int32:
        x = cast(ctx, x, np.dtype(np.int32), n + "/indices")
    axis = axis % (x.rank + 1)
    shape = x.shape[:axis] + (depth,) + x.shape[axis:]
    return ctx.b.op("ONE_HOT", [x, i32(ctx, depth, n + "/depth"), f32(ctx, 1.0, n + "/on"), f32(ctx, 0.0, n + "/off")],
                    shape, n, {"axis": axis}, out_dtypes=np.float32)


@op("LogSigmoid")
def _log_sigmoid(ctx, layer, args, kwargs):
    """log(sigmoid(x)) = -softplus(-x), as Keras defines it."""
    x = args[0]
    neg = unary(ctx, "NEG", x, layer.name + "/neg")
    return unary(ctx, "NEG", L.activation(ctx, neg, "softplus", layer.name + "/softplus"), layer.name)


@op("BroadcastTo")
def _broadcast_to(ctx, layer, args, kwargs):
    x = _operand(ctx, args[0], layer.name + "/x")
    shape = layer.config.get("shape", args[1] if len(args) > 1 else None)
    dims = [None if d is None else int(d) for d in shape]
    if None in dims:
        raise ConverterError(f"keras.ops.broadcast_to {layer.name!r}: shape {tuple(shape)} must be static")
    if tuple(dims) == tuple(x.shape):
        return x
    return ctx.b.op("BROADCAST_TO", [x, i32(ctx, dims, layer.name + "/shape")], tuple(dims), layer.name,
                    out_dtypes=x.dtype)


@op("Einsum")
def _einsum(ctx, layer, args, kwargs):
    eq = str(layer.config.get("subscripts", args[0] if args and isinstance(args[0], str) else ""))
    operands = [a for a in args if not isinstance(a, str)]
    operands = [_operand(ctx, v, f"{layer.name}/operand{k}") for k, v in enumerate(operands)]
    return einsum(ctx, eq, operands, layer.name)


@op("Normalize")
def _normalize(ctx, layer, args, kwargs):
    """L2 normalization as Keras computes it: x * min(rsqrt(sum(x^2)), 1 / epsilon)."""
    x = args[0]
    n = layer.name
    if int(layer.config.get("order", 2)) != 2:
        raise ConverterError(f"keras.ops.normalize {n!r}: order={layer.config.get('order')} is not supported "
                             "(order=2)")
    eps = layer.config.get("epsilon")
    eps = 1e-7 if eps is None else float(eps)
    axes = [a % x.rank for a in _axes(x, layer.config.get("axis", -1))]
    total = reduce(ctx, "SUM", unary(ctx, "SQUARE", x, n + "/square"), axes, True, n + "/sum")
    inv = binary(ctx, "MINIMUM", unary(ctx, "RSQRT", total, n + "/rsqrt"), 1.0 / eps, n + "/inv_norm")
    return binary(ctx, "MUL", x, inv, n)


def _flat(ctx, x, name):
    """x as one axis (keras.ops' axis=None)."""
    size = None if None in x.shape else int(np.prod(x.shape))
    return reshape(ctx, x, (size,), name + "/flatten")


@op("Argmax", "Argmin")
def _argmax(ctx, layer, args, kwargs):
    x = _operand(ctx, args[0], layer.name + "/x")
    axis = layer.config.get("axis")
    keep = bool(layer.config.get("keepdims", False))
    if axis is None:
        x, axis, keep = _flat(ctx, x, layer.name), 0, False
    axis = int(axis) % x.rank
    kind = "ARG_MAX" if _kind(layer) == "Argmax" else "ARG_MIN"
    shape = x.shape[:axis] + x.shape[axis + 1:]
    y = ctx.b.op(kind, [x, i32(ctx, [axis], layer.name + "/axis")], shape, layer.name + ("/arg" if keep else ""),
                 {"output_type": "INT32"}, out_dtypes=np.int32)
    return expand_dims(ctx, y, axis, layer.name) if keep else y


@op("Cumsum")
def _cumsum(ctx, layer, args, kwargs):
    x = _operand(ctx, args[0], layer.name + "/x")
    axis = layer.config.get("axis")
    if axis is None:
        x, axis = _flat(ctx, x, layer.name), 0
    return ctx.b.op("CUMSUM", [x, i32(ctx, int(axis) % x.rank, layer.name + "/axis")], x.shape, layer.name,
                    {"exclusive": False, "reverse": False})


@op("TopK")
def _top_k(ctx, layer, args, kwargs):
    x = _operand(ctx, args[0], layer.name + "/x")
    k = int(layer.config.get("k", args[1] if len(args) > 1 else 1))
    # TOPK_V2 sorts: an order keras.ops.top_k(sorted=False) allows too.
    shape = x.shape[:-1] + (k,)
    return ctx.b.op("TOPK_V2", [x, i32(ctx, k, layer.name + "/k")], [shape, shape], layer.name,
                    out_dtypes=[x.dtype, np.dtype(np.int32)])


@op("Sort", "Argsort")
def _sort(ctx, layer, args, kwargs):
    """numpy's ascending sort / argsort along one axis as TOPK_V2 over all of it, on a key whose
    descending order is x's ascending one: -x for floats (exact), ~x (x XOR -1, no overflow) for
    integers.  TOPK_V2 puts equal keys in index order, so argsort is stable, as numpy's is on the
    short rows of models."""
    x = _operand(ctx, args[0], layer.name + "/x")
    axis = layer.config.get("axis", args[1] if len(args) > 1 else -1)
    n = layer.name
    if axis is None:
        if any(d is None for d in x.shape):
            raise ConverterError(f"keras.ops.{_kind(layer).lower()} {n!r}: axis=None needs a static shape")
        x, axis = reshape(ctx, x, (int(np.prod(x.shape)),), n + "/flat"), 0
    axis = int(axis) % x.rank
    size = x.shape[axis]
    if size is None:
        raise ConverterError(f"keras.ops.{_kind(layer).lower()} {n!r}: the sorted axis needs a static size")
    if x.dtype.kind not in "fi":
        raise ConverterError(f"keras.ops.{_kind(layer).lower()} {n!r}: input dtype {x.dtype} is not supported "
                             "(float or signed integer)")
    perm = list(range(x.rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    xt = transpose(ctx, x, perm, n + "/to_last")

    def flip(v, name):
        if v.dtype.kind == "f":
            return unary(ctx, "NEG", v, name)
        return ctx.b.op("BITWISE_XOR", [v, ctx.b.const(np.array(-1, v.dtype), name + "/ones")], v.shape, name)
    values, indices = ctx.b.op("TOPK_V2", [flip(xt, n + "/key"), i32(ctx, size, n + "/k")], [xt.shape, xt.shape], n,
                               out_dtypes=[xt.dtype, np.dtype(np.int32)])
    out = indices if _kind(layer) == "Argsort" else flip(values, n + "/sorted")
    return transpose(ctx, out, perm, n + "/from_last")


@op("ZerosLike", "OnesLike")
def _fill_like(ctx, layer, args, kwargs):
    x = _operand(ctx, args[0], layer.name + "/x")
    value = 0 if _kind(layer) == "ZerosLike" else 1
    dtype = x.dtype
    if None not in x.shape:
        return ctx.b.const(np.full(x.shape, value, dtype), layer.name)
    dims = ctx.b.op("SHAPE", [x], (x.rank,), layer.name + "/shape", {"out_type": "INT32"}, out_dtypes=np.int32)
    return ctx.b.op("FILL", [dims, ctx.b.const(np.array(value, dtype), layer.name + "/value")], x.shape,
                    layer.name, out_dtypes=dtype)


@op("Repeat")
def _repeat(ctx, layer, args, kwargs):
    """numpy's repeat with one count: each element r times along the axis, as a TILE over a new
    axis after it, then a reshape that merges the two (axis=None: over the flattened tensor)."""
    x = _operand(ctx, args[0], layer.name + "/x")
    reps = layer.config.get("repeats", args[1] if len(args) > 1 else None)
    if isinstance(reps, (list, tuple)) or np.ndim(reps) != 0:
        raise ConverterError(f"keras.ops.repeat {layer.name!r}: one repeat count per element is not supported "
                             "(only a single count)")
    reps = int(reps)
    axis = layer.config.get("axis")
    n = layer.name
    if axis is None:
        x, axis = _flat(ctx, x, n), 0
    axis = int(axis) % x.rank
    wide = expand_dims(ctx, x, axis + 1, n + "/expand")
    multiples = [1] * wide.rank
    multiples[axis + 1] = reps
    tiled_shape = tuple(reps if i == axis + 1 else d for i, d in enumerate(wide.shape))
    tiled = ctx.b.op("TILE", [wide, i32(ctx, multiples, n + "/multiples")], tiled_shape, n + "/tile")
    out = tuple(None if d is None else d * reps if i == axis else d for i, d in enumerate(x.shape))
    return reshape(ctx, tiled, out, n)
