"""Helpers of the shape and data-movement kernels (squeeze, transpose, pad, ...):
which dtypes they move, reading small integer inputs, shared prepare code."""
from __future__ import annotations

import numpy as np

from ._base import activation_name, float_activation, normalize_axis, op_data, OpDataBase


@op_data
class LayoutData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    interior: tuple = None
    pad_value: np.bool_ | np.generic | np.float32 | None = None
    axis: int = None
    largest: bool = None


# Types a pure data-movement kernel copies as they are.
MOVABLE = (np.float32, np.float16, np.int32, np.int64, np.bool_, np.int8, np.uint8, np.int16)
# ... and with STRING tensors (object arrays of bytes), for the kernels LiteRT runs on strings.
WITH_STRINGS = MOVABLE + (np.object_,)
# The other fixed-width types LiteRT's byte-copying kernels (TILE, TRANSPOSE, SLICE, ...) move too.
WIDE = (np.uint16, np.uint32, np.uint64, np.float64)
# Complex types: LiteRT's shape-only kernels (SQUEEZE, EXPAND_DIMS) copy both, its
# TRANSPOSE, SLICE, TILE, FILL and SELECT_V2 complex64 only.
COMPLEX = (np.complex64, np.complex128)
COMPLEX64 = (np.complex64,)


def check_strings(node, specs):
    """Object arrays are STRING tensors here: refuse RESOURCE / VARIANT handles, which share the dtype."""
    runner = node.runner
    for s in specs:
        if s is not None and s.dtype == np.object_ and runner is not None:
            kind = runner.type_name(s.index)
            if kind != "STRING":
                node.fail(f"tensor {s.name!r} is a {kind} tensor; this op takes STRING but no {kind} tensors")


def is_quantized(spec):
    return (spec is not None and spec.dtype in (np.int8, np.uint8, np.int16)
            and spec.quantization is not None and spec.quantization.is_quantized)


def _qparams(spec):
    if not is_quantized(spec):
        return None
    q = spec.quantization
    zp = q.zero_point if q.zero_point is not None else np.zeros(len(q.scale), np.int64)
    return np.asarray(q.scale, np.float32).tolist(), np.asarray(zp, np.int64).tolist()


def same_quantization(specs):
    """True when the tensors hold values on one quantization grid (or none at all),
    so copying the stored integers copies the real values."""
    params = [_qparams(s) for s in specs if s is not None]
    return all(p == params[0] for p in params)


def movable(node, inputs, outputs=None, dtypes=MOVABLE):
    """Whether a data-movement op can copy these tensors' stored values as they are.

    All of `inputs` and `outputs` (default: every output) must share one dtype
    from `dtypes`.  Returns False for quantized tensors on different grids: the
    caller then hands the op to the quantized kernels, which must rescale.
    """
    outputs = node.outputs if outputs is None else outputs
    specs = [s for s in list(inputs) + list(outputs) if s is not None]
    node.expect_dtype(specs[0], *dtypes)
    for s in specs[1:]:
        if s.dtype != specs[0].dtype:
            node.fail(f"tensor {s.name!r} has type {s.dtype.name}, expected {specs[0].dtype.name}")
    check_strings(node, specs)
    return same_quantization(specs)


def quantized_fallback(node):
    from ._quantization import prepare_quantized

    return prepare_quantized(node)


def ints(node, i):
    """Input i's value (axes, sizes, paddings, ...) as a flat list of Python ints."""
    spec = node.inputs[i]
    if spec.dtype.kind not in "iu":
        node.fail(f"input {i} ({spec.name!r}) must be an integer tensor, got {spec.dtype.name}")
    if spec.size == 0:
        return []       # known from the shape alone, even when the file stores no data for it
    return [int(v) for v in np.asarray(node.value(i)).reshape(-1)]


def scalar_axis(node, i, rank):
    """A one-element axis input, normalized to [0, rank)."""
    values = ints(node, i)
    if len(values) != 1:
        node.fail(f"axis input must hold one value, got {len(values)}")
    return normalize_axis(values[0], rank, node)


def eval_copy(node, inputs, outputs):
    """Output 0 is input 0's elements in the same order, in a new shape."""
    np.copyto(outputs[0], inputs[0].reshape(outputs[0].shape))


def clamp_activation(node, dtype):
    """In-place fused activation for float or integer values (None for NONE)."""
    name = activation_name(node)
    act = float_activation(name)
    if act is not None and np.dtype(dtype) == np.bool_:
        node.fail(f"fused activation {name} is not defined for bool tensors")
    return act


# --- PAD and PADV2 ---

def paddings(node, i, rank):
    """The [rank, 2] paddings input as a list of (before, after) pairs."""
    spec = node.inputs[i]
    if spec.shape is None or len(spec.shape) != 2 or spec.shape[1] != 2 or spec.shape[0] != rank:
        node.fail(f"paddings must have shape [{rank}, 2], got {list(spec.shape)}")
    flat = ints(node, i)
    pairs = [(flat[2 * k], flat[2 * k + 1]) for k in range(rank)]
    if any(b < 0 or a < 0 for b, a in pairs):
        node.fail(f"paddings must be non-negative, got {pairs}")
    return pairs


def prepare_pad(node):
    """PAD and PADV2: constant padding; the value is input 2 when given, else zero
    (the zero point for a quantized tensor)."""
    od = node.draft(LayoutData)
    x, out = node.inputs[0], node.outputs[0]
    pairs = paddings(node, 1, len(x.shape))
    out.shape = tuple(d + b + a for d, (b, a) in zip(x.shape, pairs))
    od.interior = tuple(slice(b, b + d) for d, (b, _) in zip(x.shape, pairs))
    value = node.inputs[2] if node.has_input(2) else None
    if value is not None:
        if value.dtype != x.dtype:
            node.fail(f"constant value type {value.dtype.name} differs from the input type {x.dtype.name}")
        if value.size != 1:
            node.fail(f"constant value must hold one element, got shape {list(value.shape)}")
    # The padding value is written as stored, so like the input it must be on the output's grid.
    if not movable(node, [x, value], [out]):
        return quantized_fallback(node)
    od.pad_value = None if value is not None else out.dtype.type(out.zero_point if is_quantized(out) else 0)
    return eval_pad


def eval_pad(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    out[...] = data.pad_value if data.pad_value is not None else inputs[2].reshape(-1)[0]
    out[data.interior] = inputs[0]


# --- ARG_MAX and ARG_MIN ---

_INDEX_TYPES = {2: np.int32, 4: np.int64}   # schema TensorType codes


def prepare_arg(node, largest):
    """ARG_MAX/ARG_MIN: index of the first extreme value along the axis input."""
    d = node.draft(LayoutData)
    x, out = node.inputs[0], node.outputs[0]
    if len(x.shape) < 1:
        node.fail("input must have at least one dimension")
    d.axis = scalar_axis(node, 1, len(x.shape))
    if x.shape[d.axis] == 0:
        node.fail("cannot take the index of an extreme value over an empty axis")
    out.shape = x.shape[:d.axis] + x.shape[d.axis + 1:]
    wanted = _INDEX_TYPES.get(node.options.get("output_type", 2))
    if wanted is None:
        node.fail(f"output_type must be INT32 or INT64, got type code {node.options.get('output_type')}")
    if out.dtype != wanted:
        node.fail(f"output tensor has type {out.dtype.name} but output_type says {np.dtype(wanted).name}")
    # Quantized inputs compare as their stored integers (scale > 0 keeps the order), as in TFLite.
    node.expect_dtype(x, np.float32, np.float16, np.int32, np.int64, np.int8, np.uint8, np.int16, np.bool_)
    d.largest = largest
    return eval_arg


def eval_arg(node, inputs, outputs):
    data = node.data
    x, axis = inputs[0], data.axis
    if x.dtype.kind == "f":
        # NaN never wins and any number replaces a NaN; an all-NaN row gives 0.
        extreme = (np.fmax if data.largest else np.fmin).reduce(x, axis=axis, keepdims=True)
        outputs[0][...] = np.argmax(x == extreme, axis=axis)
    else:
        outputs[0][...] = (np.argmax if data.largest else np.argmin)(x, axis=axis)


def eval_split(node, inputs, outputs):
    data = node.data
    x = inputs[data.source]
    lead = (slice(None),) * data.axis
    start = 0
    for out, n in zip(outputs, data.sizes):
        np.copyto(out, x[lead + (slice(start, start + n),)])
        start += n
