"""`keras.ops` calls recorded by tracing a subclassed model, lowered to TFLite ops.

The op's parameters come from the op object (its attributes, e.g. Reshape.newshape);
its positional arguments are the tensors (and Python scalars) it was called with.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError
from . import layers as L
from .ops import binary, bshape, expand_dims, f32, reduce, reshape, squeeze, transpose, unary

OP_LOWERINGS: dict = {}


def op(*names):
    def register(fn):
        for n in names:
            OP_LOWERINGS[n] = fn
        return fn
    return register


def _operand(ctx, v, name):
    if hasattr(v, "index"):
        return v
    if isinstance(v, (int, float, np.number, np.ndarray, list)):
        return f32(ctx, np.asarray(v, np.float32), name)
    raise ConverterError(f"{name}: unsupported operand {v!r}")


def _kind(layer) -> str:
    """The keras.ops class: "op:<Class>" in a traced model, "<Class>" in a functional config."""
    return layer.class_name[3:] if layer.class_name.startswith("op:") else layer.class_name


def lower_op(ctx, layer, args, kwargs, kind=None):
    kind = kind or layer.class_name[3:]
    if kind not in OP_LOWERINGS:
        L.load_lazy_lowerings()           # (sequence.py adds the mask ops)
    fn = OP_LOWERINGS.get(kind)
    if fn is None:
        raise ConverterError(
            f"keras.ops call {layer.name!r} ({kind}) is not supported in a traced model. Supported ops: "
            f"{', '.join(sorted(OP_LOWERINGS))}.")
    return fn(ctx, layer, list(args), dict(kwargs or {}))


_BINARY = {"Add": "ADD", "Subtract": "SUB", "Multiply": "MUL", "Divide": "DIV", "TrueDivide": "DIV",
           "Maximum": "MAXIMUM", "Minimum": "MINIMUM"}


def _binary(kind):
    def fn(ctx, layer, args, kwargs):
        a, b = args[0], args[1]
        n = layer.name
        if not hasattr(a, "index"):                      # scalar (op) tensor
            a = _operand(ctx, a, n + "/x")
            return ctx.b.op(kind, [a, b], bshape(a.shape, b.shape), n)
        return binary(ctx, kind, a, _operand(ctx, b, n + "/y"), n)
    return fn


for _k, _v in _BINARY.items():
    OP_LOWERINGS[_k] = _binary(_v)

_UNARY = {"Relu": "RELU", "Relu6": "RELU6", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "Exp": "EXP", "Log": "LOG",
          "Sqrt": "SQRT", "Rsqrt": "RSQRT", "Negative": "NEG", "Abs": "ABS", "Square": "SQUARE",
          "HardSilu": "HARD_SWISH", "Elu": None}


def _unary(kind):
    def fn(ctx, layer, args, kwargs):
        return unary(ctx, kind, args[0], layer.name)
    return fn


for _k, _v in _UNARY.items():
    if _v:
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


@op("Reshape")
def _reshape(ctx, layer, args, kwargs):
    x = args[0]
    target = [int(d) for d in layer.config["newshape"]]
    if x.shape[0] is None and target and target[0] == -1 and all(d is not None for d in x.shape[1:]):
        rest = target[1:]
        total = int(np.prod(x.shape[1:]))
        if -1 in rest:
            rest[rest.index(-1)] = total // int(np.prod([d for d in rest if d != -1]))
        return reshape(ctx, x, (None,) + tuple(rest), layer.name)
    raise ConverterError(f"keras.ops.reshape {layer.name!r}: new shape {target} must start with -1 (the batch) "
                         "with the other dimensions static")


@op("Transpose")
def _transpose(ctx, layer, args, kwargs):
    x = args[0]
    axes = layer.config.get("axes")
    perm = list(range(x.rank))[::-1] if axes is None else [int(a) % x.rank for a in axes]
    return transpose(ctx, x, perm, layer.name)


@op("Mean", "Max", "Sum", "Min")
def _reduce(ctx, layer, args, kwargs):
    x = args[0]
    axis = layer.config.get("axis")
    axes = list(range(x.rank)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    kind = {"Mean": "MEAN", "Max": "REDUCE_MAX", "Sum": "SUM", "Min": "REDUCE_MIN"}[_kind(layer)]
    return reduce(ctx, kind, x, axes, bool(layer.config.get("keepdims", False)), layer.name)


@op("Concatenate")
def _concatenate(ctx, layer, args, kwargs):
    xs = args[0]
    axis = int(layer.config.get("axis", 0)) % xs[0].rank
    shape = list(xs[0].shape)
    shape[axis] = sum(v.shape[axis] for v in xs) if all(v.shape[axis] is not None for v in xs) else None
    return ctx.b.op("CONCATENATION", xs, tuple(shape), layer.name, {"axis": axis})


@op("Matmul")
def _matmul(ctx, layer, args, kwargs):
    x, y = args[0], args[1]
    if not hasattr(y, "index") or y.const is not None:
        w = np.asarray(y.const if hasattr(y, "const") else y, np.float32)
        if w.ndim == 2:
            return ctx.b.op("FULLY_CONNECTED", [x, f32(ctx, w.T, layer.name + "/weights"), None],
                            x.shape[:-1] + (w.shape[1],), layer.name, {"keep_num_dims": x.rank > 2})
    if x.rank < 2 or y.rank < 2:
        raise ConverterError(f"keras.ops.matmul {layer.name!r}: rank-1 operands are not supported")
    batch = x.shape[:-2] if len(x.shape) >= len(y.shape) else y.shape[:-2]
    return ctx.b.op("BATCH_MATMUL", [x, y], tuple(batch) + (x.shape[-2], y.shape[-1]), layer.name,
                    {"adj_x": False, "adj_y": False})


@op("ExpandDims")
def _expand(ctx, layer, args, kwargs):
    return expand_dims(ctx, args[0], int(layer.config["axis"]), layer.name)


@op("Squeeze")
def _squeeze(ctx, layer, args, kwargs):
    x = args[0]
    axis = layer.config.get("axis")
    if axis is None or isinstance(axis, (list, tuple)):
        raise ConverterError(f"keras.ops.squeeze {layer.name!r}: give one axis")
    return squeeze(ctx, x, int(axis) % x.rank, layer.name)


@op("Clip")
def _clip(ctx, layer, args, kwargs):
    x = args[0]
    lo, hi = float(layer.config["x_min"]), float(layer.config["x_max"])
    if lo == 0 and hi == 6:
        return unary(ctx, "RELU6", x, layer.name)
    return binary(ctx, "MAXIMUM", binary(ctx, "MINIMUM", x, hi, layer.name + "/min"), lo, layer.name)
