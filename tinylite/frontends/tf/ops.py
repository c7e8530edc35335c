"""Lowerings of TensorFlow ops: fn(lowerer, scope, node) -> output Sym(s).

A Sym is an ndarray (a constant, computed here), a builder Value (a run-time
tensor), a Partial (an integer shape vector with entries known only at run time)
or a Resource (a variable handle).  Each lowering folds constant inputs with
numpy and otherwise emits the TFLite operator(s) the Keras frontend emits for the
same computation, so the graph passes and the quantizer see the same graph.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import ConverterError
from ..keras.ops import bshape, conv_out
from .bundle import dtype_of
from .lower import Partial, Resource, TList, _attr, narrowed
from .savedmodel import tensor_value

OPS: dict = {}


def op(*names):
    def reg(fn):
        for n in names:
            OPS[n] = fn
        return fn
    return reg


def _ins(low, scope, node):
    return [low.get(scope, r) for r in low.inputs(scope, node)]


def _is_const(s):
    return isinstance(s, np.ndarray)


def _shape(s):
    if isinstance(s, np.ndarray):
        return tuple(s.shape)
    if isinstance(s, Partial):
        return () if s.scalar else (len(s.vals),)
    return tuple(s.shape)


def _dtype(s):
    if isinstance(s, Partial):
        return np.dtype(s.dtype)
    return np.dtype(s.dtype)


def _const(low, scope, node, s, what):
    if not isinstance(s, np.ndarray):
        low.fail(scope, node, f"{what} must be a constant (it is computed at run time), which TFLite needs here")
    return s


_tflite_dtype = narrowed


def _emit(low, kind, ins, shape, name, options=None, out_dtype=None):
    vals = [None if s is None else low.v(s, f"{name}/{k}") for k, s in enumerate(ins)]
    return low.b.op(kind, vals, shape, name, options, out_dtypes=out_dtype)


# -- structure ---------------------------------------------------------------------------------

@op("Const")
def _const_op(low, scope, node):
    t = _attr(node, "value")
    if t is None:
        low.fail(scope, node, "has no value")
    return tensor_value(t, low.where(scope, node))


@op("NoOp")
def _noop(low, scope, node):
    return []


@op("Placeholder")
def _placeholder(low, scope, node):
    low.fail(scope, node, "is a graph input that is not among the inputs being converted (input_arrays / the "
                          "signature's inputs)")


@op("PlaceholderWithDefault")
def _placeholder_default(low, scope, node):
    return _ins(low, scope, node)[0]


@op("VarHandleOp", "VariableV2")
def _var_handle(low, scope, node):
    load = low.g.variables.get(node["name"])
    if load is None:
        return Resource(None, node["name"])
    return Resource(load, node["name"])


@op("ReadVariableOp")
def _read_var(low, scope, node):
    (h,) = _ins(low, scope, node)
    if not isinstance(h, Resource):
        low.fail(scope, node, "reads something that is not a variable handle")
    if h.load is None:
        low.fail(scope, node, f"reads variable {h.name!r}, whose value is not in the SavedModel's variables/ "
                              "(or it is an unfrozen variable of a GraphDef)")
    value = h.load()
    return value


@op("StatefulPartitionedCall", "PartitionedCall")
def _call(low, scope, node):
    f = _attr(node, "f")
    if not f or not f.get("name"):
        low.fail(scope, node, "names no function")
    args = _ins(low, scope, node)
    return low.call(f["name"], args, scope, node)


@op("Shape")
def _shape_op(low, scope, node):
    (x,) = _ins(low, scope, node)
    out = dtype_of(_attr(node, "out_type", 3), "Shape out_type")
    shp = _shape(x)
    if all(d is not None for d in shp):
        return np.array(shp, out)
    name = node["name"]
    return Partial(shp, False, lambda: low.b.op("SHAPE", [low.v(x, name + "/x")], (len(shp),), name,
                                                 {"out_type": "INT32"}, out_dtypes=np.int32), np.int32,
                   origin=[(x.index, i) if d is None else None for i, d in enumerate(shp)])


@op("Size")
def _size(low, scope, node):
    (x,) = _ins(low, scope, node)
    shp = _shape(x)
    if any(d is None for d in shp):
        low.fail(scope, node, "the size of a tensor with a run-time dimension is not supported")
    return np.array(int(np.prod(shp)), np.int32)


@op("Rank")
def _rank(low, scope, node):
    (x,) = _ins(low, scope, node)
    return np.array(len(_shape(x)), np.int32)


def _partial_of(s):
    """Known entries of an int Sym (ndarray or Partial): (list, scalar)."""
    if isinstance(s, Partial):
        return list(s.vals), s.scalar
    if not isinstance(s, np.ndarray):          # a run-time Value
        shp = tuple(s.shape)
        return ([None] * (shp[0] if shp and shp[0] is not None else 0)), len(shp) == 0
    arr = np.asarray(s)
    return [int(v) for v in arr.reshape(-1)], arr.ndim == 0


# -- reshaping ---------------------------------------------------------------------------------

def _reshape_target(low, scope, node, x, spec):
    """Static output shape of RESHAPE(x, spec); spec entries may be None (run time) or -1."""
    in_shape = _shape(x)
    known = [None if v is None else int(v) for v in spec]
    if -1 in known:
        k = known.index(-1)
        rest = [d for i, d in enumerate(known) if i != k]
        if None not in rest and None not in in_shape:
            total = int(np.prod(in_shape)) if in_shape else 1
            denom = int(np.prod(rest)) if rest else 1
            known[k] = total // denom if denom else 0
        else:
            known[k] = None
    if sum(d is None for d in known) == 1 and None not in in_shape:
        k = known.index(None)
        rest = [d for i, d in enumerate(known) if i != k]
        known[k] = int(np.prod(in_shape)) // max(1, int(np.prod(rest)))
    return tuple(known)


def reshape_to(low, x, shape, name):
    shape = tuple(shape)
    if isinstance(x, np.ndarray):
        return x.reshape([-1 if d is None else d for d in shape])
    if tuple(x.shape) == shape:
        return x
    if sum(d is None for d in shape) > 1:
        raise ConverterError(f"{name}: cannot reshape {x.shape} to {shape} with more than one run-time dimension")
    fc = low.fc_flat.get(x.index)
    if fc is not None and len(shape) > 2 and tuple(fc[1].shape[:-1]) == shape[:-1] and shape[-1] == x.shape[-1]:
        return _unflatten_fc(low, x, fc, shape)
    spec = np.array([-1 if d is None else d for d in shape], np.int32)
    y = low.b.op("RESHAPE", [low.v(x, name), low.b.const(spec, name + "/shape")], shape, name)
    if len(shape) == 2 and x.rank > 2 and shape[-1] == x.shape[-1]:
        low.flattened[y.index] = x
    return y


def _unflatten_fc(low, y, fc, shape):
    """FULLY_CONNECTED(reshape(x, [-1, k])) reshaped back to x's leading axes (how TensorFlow
    spells a Dense on a sequence: Tensordot) -> one FULLY_CONNECTED on x with keep_num_dims,
    as the Keras frontend emits it."""
    from ...converter.builder import Value

    op, x = fc
    op.inputs[0] = x.index
    op.builtin_options = dict(op.builtin_options, keep_num_dims=True)
    t = low.b.sg.tensors[y.index]
    t.shape = np.array([1 if d is None else d for d in shape], np.int32)
    t.shape_signature = np.array([-1 if d is None else d for d in shape], np.int32) if None in shape else None
    del low.fc_flat[y.index]
    return Value(y.index, shape, y.dtype)


@op("Reshape")
def _reshape(low, scope, node):
    x, s = _ins(low, scope, node)
    name = node["name"]
    if _is_const(x) and _is_const(s):
        return x.reshape(s.astype(np.int64))
    spec, _ = _partial_of(s)
    target = _reshape_target(low, scope, node, x, spec)
    if isinstance(x, Partial):
        low.fail(scope, node, "reshaping a run-time shape vector is not supported")
    if sum(d is None for d in target) > 1:
        # A shape computed at run time (more than one unknown dimension).
        return low.b.op("RESHAPE", [low.v(x, name + "/x"), low.v(s, name + "/shape")], target, name)
    return reshape_to(low, x, target, name)


@op("Squeeze")
def _squeeze(low, scope, node):
    (x,) = _ins(low, scope, node)
    shp = _shape(x)
    dims = [int(d) % len(shp) for d in (_attr(node, "squeeze_dims") or [])]
    if not dims:
        dims = [i for i, d in enumerate(shp) if d == 1]
    out = tuple(d for i, d in enumerate(shp) if i not in dims)
    if _is_const(x):
        return x.reshape(out)
    if isinstance(x, Partial):
        if x.scalar is False and len(x.vals) == 1:
            vals = x.vals
            return Partial(vals, True, lambda: reshape_to(low, x.emit(), (), node["name"]))
        low.fail(scope, node, "squeezing a run-time shape vector")
    if sum(d is None for d in out) <= 1:
        return reshape_to(low, x, out, node["name"])
    return low.b.op("SQUEEZE", [x], out, node["name"], {"squeeze_dims": np.array(dims, np.int32)})


@op("ExpandDims")
def _expand_dims(low, scope, node):
    x, a = _ins(low, scope, node)
    axis = int(_const(low, scope, node, a, "axis").reshape(-1)[0])
    shp = _shape(x)
    axis = axis % (len(shp) + 1)
    out = shp[:axis] + (1,) + shp[axis:]
    if _is_const(x):
        return np.expand_dims(x, axis)
    if isinstance(x, Partial):
        if x.scalar:
            return Partial(x.vals, False, lambda: reshape_to(low, x.emit(), (1,), node["name"]))
        low.fail(scope, node, "expanding a run-time shape vector")
    if sum(d is None for d in out) <= 1:
        return reshape_to(low, x, out, node["name"])
    return low.b.op("EXPAND_DIMS", [x, low.b.const(np.array([axis], np.int32), node["name"] + "/axis")], out,
                    node["name"])


@op("Transpose")
def _transpose(low, scope, node):
    x, p = _ins(low, scope, node)
    perm = [int(v) for v in _const(low, scope, node, p, "perm")]
    if _is_const(x):
        return np.transpose(x, perm)
    if perm == list(range(len(perm))):
        return x
    prev = low.transposes.get(getattr(x, "index", None))
    if prev is not None and [prev[1][p] for p in perm] == list(range(len(perm))):
        return prev[0]              # a transpose undoing the one before it
    return _transpose_value(low, x, perm, node["name"])


def _transpose_value(low, x, perm, name):
    shp = _shape(x)
    y = low.b.op("TRANSPOSE", [low.v(x, name), low.b.const(np.array(perm, np.int32), name + "/perm")],
                 tuple(shp[i] for i in perm), name)
    low.transposes[y.index] = (x, list(perm))
    return y


@op("Pack")
def _pack(low, scope, node):
    ins = _ins(low, scope, node)
    axis = int(_attr(node, "axis", 0))
    if all(_is_const(s) for s in ins):
        return np.stack(ins, axis)
    name = node["name"]
    if all(_is_const(s) or (isinstance(s, Partial) and s.scalar) for s in ins) and axis == 0 \
            and all(_shape(s) == () for s in ins):
        vals = [s.vals[0] if isinstance(s, Partial) else int(s) for s in ins]
        dt = next(s.dtype for s in ins if isinstance(s, Partial))
        return Partial(vals, False, lambda: _emit(low, "PACK", ins, (len(ins),), name,
                                                  {"values_count": len(ins), "axis": 0}), dt)
    shp = _shape(ins[0])
    axis = axis % (len(shp) + 1)
    out = shp[:axis] + (len(ins),) + shp[axis:]
    return _emit(low, "PACK", ins, out, name, {"values_count": len(ins), "axis": axis})


@op("Unpack")
def _unpack(low, scope, node):
    (x,) = _ins(low, scope, node)
    axis = int(_attr(node, "axis", 0))
    num = int(_attr(node, "num", 0))
    if _is_const(x):
        return [np.take(x, i, axis) for i in range(x.shape[axis])]
    shp = _shape(x)
    axis %= len(shp)
    out = shp[:axis] + shp[axis + 1:]
    return _emit(low, "UNPACK", [x], [out] * num, node["name"], {"num": num, "axis": axis})


@op("ConcatV2")
def _concat(low, scope, node):
    ins = _ins(low, scope, node)
    ax, ins = ins[-1], ins[:-1]
    axis = int(_const(low, scope, node, ax, "axis"))
    if all(_is_const(s) for s in ins):
        return np.concatenate(ins, axis)
    name = node["name"]
    if any(isinstance(s, Partial) for s in ins) and all(_is_const(s) or isinstance(s, Partial) for s in ins):
        vals = []
        for s in ins:
            vals.extend(_partial_of(s)[0])
        return Partial(vals, False, lambda: _emit(low, "CONCATENATION", ins, (len(vals),), name, {"axis": 0}),
                       np.int32)
    shp = list(_shape(ins[0]))
    axis %= len(shp)
    total = 0
    for s in ins:
        d = _shape(s)[axis]
        total = None if (d is None or total is None) else total + d
    shp[axis] = total
    for s in ins[1:]:
        for i, d in enumerate(_shape(s)):
            if i != axis and shp[i] is None:
                shp[i] = d
    return _emit(low, "CONCATENATION", ins, tuple(shp), name, {"axis": axis})


@op("Split")
def _split(low, scope, node):
    a, x = _ins(low, scope, node)
    axis = int(_const(low, scope, node, a, "axis"))
    num = int(_attr(node, "num_split", 1))
    if _is_const(x):
        return np.split(x, num, axis)
    shp = list(_shape(x))
    axis %= len(shp)
    if shp[axis] is None:
        low.fail(scope, node, "splitting a run-time dimension")
    shp[axis] //= num
    return _emit(low, "SPLIT", [np.array(axis, np.int32), x], [tuple(shp)] * num, node["name"], {"num_splits": num},
                 out_dtype=_tflite_dtype(_dtype(x)))


@op("SplitV")
def _splitv(low, scope, node):
    x, sz, a = _ins(low, scope, node)
    axis = int(_const(low, scope, node, a, "axis"))
    sizes = [int(v) for v in _const(low, scope, node, sz, "size_splits")]
    shp = list(_shape(x))
    axis %= len(shp)
    if -1 in sizes:
        if shp[axis] is None:
            low.fail(scope, node, "a -1 split of a run-time dimension")
        sizes[sizes.index(-1)] = shp[axis] - (sum(sizes) + 1)
    if _is_const(x):
        return np.split(x, np.cumsum(sizes)[:-1], axis)
    outs = []
    for s in sizes:
        o = list(shp)
        o[axis] = s
        outs.append(tuple(o))
    return _emit(low, "SPLIT_V", [x, np.array(sizes, np.int32), np.array(axis, np.int32)], outs, node["name"],
                 {"num_splits": len(sizes)})


def _probe_shape(shp, fn):
    """Apply fn to zero-stride arrays standing for shape `shp`; None where the result depends on a
    run-time dimension."""
    a = tuple(1000003 if d is None else d for d in shp)
    b = tuple(1000033 if d is None else d for d in shp)
    ra = fn(np.broadcast_to(np.float32(0), a)).shape
    rb = fn(np.broadcast_to(np.float32(0), b)).shape
    return tuple(x if x == y else None for x, y in zip(ra, rb))


def _strided_index(begin, end, strides, node, rank):
    bm, em = int(_attr(node, "begin_mask", 0)), int(_attr(node, "end_mask", 0))
    elm, nam = int(_attr(node, "ellipsis_mask", 0)), int(_attr(node, "new_axis_mask", 0))
    sam = int(_attr(node, "shrink_axis_mask", 0))
    idx = []
    for i in range(len(begin)):
        if elm >> i & 1:
            idx.append(Ellipsis)
        elif nam >> i & 1:
            idx.append(None)
        elif sam >> i & 1:
            idx.append(int(begin[i]))
        else:
            idx.append(slice(None if bm >> i & 1 else int(begin[i]), None if em >> i & 1 else int(end[i]),
                             int(strides[i])))
    return tuple(idx)


@op("StridedSlice")
def _strided_slice(low, scope, node):
    x, b, e, s = _ins(low, scope, node)
    if not (_is_const(b) and _is_const(e)) and _is_const(s):
        return _runtime_strided_slice(low, scope, node, x, b, e, s)
    begin = _const(low, scope, node, b, "begin")
    end = _const(low, scope, node, e, "end")
    strides = _const(low, scope, node, s, "strides")
    idx = _strided_index(begin, end, strides, node, len(_shape(x)))
    if _is_const(x):
        return np.asarray(x[idx])
    one = low.stacked_one.get(getattr(x, "index", None))
    if one is not None and len(idx) >= 1 and idx[0] in (0, -1) and all(
            i == slice(None, None, 1) or i == slice(None) or i is Ellipsis for i in idx[1:]):
        return one                  # the only element of a one-element stack
    name = node["name"]
    opts = {k: int(_attr(node, k, 0)) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                                 "shrink_axis_mask")}

    def emit(xv):
        shp = _probe_shape(_shape(xv), lambda a: a[idx])
        return low.b.op("STRIDED_SLICE", [low.v(xv, name + "/x"), low.b.const(begin.astype(np.int32), name + "/begin"),
                                          low.b.const(end.astype(np.int32), name + "/end"),
                                          low.b.const(strides.astype(np.int32), name + "/strides")], shp, name, opts,
                        out_dtypes=_tflite_dtype(_dtype(xv)))
    if isinstance(x, Partial):
        arr = np.array(x.vals, object)
        sel = arr[idx]
        org = np.empty(len(x.origin), object)
        org[:] = x.origin
        org = org[idx]
        if isinstance(sel, np.ndarray):
            vals, scalar, origin = list(sel.reshape(-1)), False, list(org.reshape(-1))
        else:
            vals, scalar, origin = [sel], True, [org]
        if all(v is not None for v in vals):
            return np.array(vals[0] if scalar else vals, np.int32)
        return Partial(vals, scalar, lambda: emit(x), x.dtype, origin)
    return emit(x)


def _runtime_strided_slice(low, scope, node, x, b, e, s):
    """A StridedSlice whose begin or end is computed at run time (x[i], x[:, i:i + 2]): TFLite's
    STRIDED_SLICE reads them as tensors, and sizes its output when it runs.  An axis the slice
    shrinks or adds, or takes whole (both masks, stride 1), keeps its static size; the others
    are known only at run time."""
    opts = {k: int(_attr(node, k, 0)) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                                 "shrink_axis_mask")}
    strides = np.asarray(s).reshape(-1).astype(np.int64)
    if opts["ellipsis_mask"]:
        low.fail(scope, node, "an ellipsis (...) in a slice whose begin or end is computed at run time is not "
                              "supported; index every axis")
    shape = _shape(x)
    if len(strides) > len(shape) + bin(opts["new_axis_mask"]).count("1"):
        low.fail(scope, node, f"slices {len(strides)} axes of a tensor of rank {len(shape)}")
    out, axis = [], 0
    for j, stride in enumerate(strides):
        bit = 1 << j
        if opts["new_axis_mask"] & bit:
            out.append(1)
            continue
        if not opts["shrink_axis_mask"] & bit:
            whole = opts["begin_mask"] & bit and opts["end_mask"] & bit and stride == 1
            out.append(shape[axis] if whole else None)
        axis += 1
    out += list(shape[axis:])
    name = node["name"]
    vals = [low.v(v, f"{name}/{what}") for v, what in ((x, "x"), (b, "begin"), (e, "end"), (s, "strides"))]
    for k in (1, 2, 3):
        if np.dtype(vals[k].dtype) != np.int32:
            vals[k] = low.b.op("CAST", [vals[k]], vals[k].shape, f"{name}/{k}_int32",
                               {"in_data_type": np.dtype(vals[k].dtype).name.upper(), "out_data_type": "INT32"},
                               out_dtypes=np.int32)
    return low.b.op("STRIDED_SLICE", vals, tuple(out), name, opts, out_dtypes=_tflite_dtype(_dtype(x)))


@op("Slice")
def _slice(low, scope, node):
    x, b, s = _ins(low, scope, node)
    begin = [int(v) for v in _const(low, scope, node, b, "begin")]
    size = [int(v) for v in _const(low, scope, node, s, "size")]
    idx = tuple(slice(bg, None if sz == -1 else bg + sz) for bg, sz in zip(begin, size))
    if _is_const(x):
        return np.asarray(x[idx])
    if isinstance(x, Partial):
        vals = np.array(x.vals, object)[idx]
        if all(v is not None for v in vals):
            return np.array(list(vals), np.int32)
        x = x.emit()
    shp = _probe_shape(_shape(x), lambda a: a[idx])
    return _emit(low, "SLICE", [x, np.array(begin, np.int32), np.array(size, np.int32)], shp, node["name"])


@op("GatherV2", "Gather")
def _gather(low, scope, node):
    ins = _ins(low, scope, node)
    params, indices = ins[0], ins[1]
    axis = int(_const(low, scope, node, ins[2], "axis")) if len(ins) > 2 else 0
    batch_dims = int(_attr(node, "batch_dims", 0))
    if _is_const(params) and _is_const(indices) and batch_dims == 0:
        return np.take(params, indices, axis)
    if isinstance(params, Partial) and _is_const(indices) and indices.ndim <= 1:
        vals = np.array(params.vals, object)[indices]
        emit = (lambda: _emit(low, "GATHER", [params, indices], tuple(indices.shape), node["name"], {"axis": 0}))
        if np.ndim(vals) == 0:
            return np.array(vals, np.int32) if vals is not None else Partial([vals], True, emit)
        if all(v is not None for v in vals):
            return np.array(list(vals), np.int32)
        return Partial(list(vals), False, emit)
    pshape = _shape(params)
    axis %= len(pshape)
    plain = _unwrapped_indices(low, scope, node, pshape[axis])
    if plain is not None:
        indices = plain
    out = pshape[:axis] + _shape(indices)[batch_dims:] + pshape[axis + 1:]
    return _emit(low, "GATHER", [params, indices], out, node["name"], {"axis": axis, "batch_dims": batch_dims})


def _unwrapped_indices(low, scope, node, size):
    """where(i < 0, i + size, i) feeding a gather (how keras.ops.take wraps negative indices)
    -> i: TFLite's GATHER takes the same indices, and Keras's own lowering reads i."""
    ref = _data_inputs(scope, node)[1]
    _, sel = _skip_identity(scope, ref)
    if sel is None or sel.get("op") not in ("Select", "SelectV2") or size is None:
        return None
    c_ref, a_ref, b_ref = _data_inputs(scope, sel)
    _, less = _skip_identity(scope, c_ref)
    _, add = _skip_identity(scope, a_ref)
    if less is None or add is None or less.get("op") != "Less" or add.get("op") not in ("AddV2", "Add"):
        return None
    i_ref, zero_ref = _data_inputs(scope, less)
    if not _same_ref(i_ref, b_ref) or not _is_zero(low.get(scope, zero_ref)):
        return None
    x, n = _data_inputs(scope, add)
    if not _same_ref(x, i_ref):
        x, n = n, x
    n = low.get(scope, n)
    if not _same_ref(x, i_ref) or not _is_const(n) or n.size != 1 or int(n.reshape(-1)[0]) != size:
        return None
    return low.get(scope, i_ref)


def _pad_common(low, scope, node, kind, x, p, extra=None, options=None, name=None):
    pads = _const(low, scope, node, p, "paddings").astype(np.int64)
    if _is_const(x) and kind == "PAD":
        return np.pad(x, pads)
    shp = tuple(None if d is None else d + int(a) + int(b) for d, (a, b) in zip(_shape(x), pads))
    ins = [x, pads.astype(np.int32)] + ([] if extra is None else [extra])
    return _emit(low, kind, ins, shp, name or node["name"], options, out_dtype=_tflite_dtype(_dtype(x)))


@op("Pad")
def _pad(low, scope, node):
    x, p = _ins(low, scope, node)
    return _pad_common(low, scope, node, "PAD", x, p)


@op("PadV2")
def _padv2(low, scope, node):
    x, p, c = _ins(low, scope, node)
    if _is_const(c) and float(c) == 0.0:
        return _pad_common(low, scope, node, "PAD", x, p)
    return _pad_common(low, scope, node, "PADV2", x, p, c)


@op("MirrorPad")
def _mirror_pad(low, scope, node):
    x, p = _ins(low, scope, node)
    mode = str(_attr(node, "mode", "REFLECT")).upper()
    return _pad_common(low, scope, node, "MIRROR_PAD", x, p, options={"mode": mode})


# Folding is for shape arithmetic and small constants; larger results are computed at run time.
FOLD_LIMIT = 1 << 22


def _small(shape):
    return all(int(d) >= 0 for d in shape) and int(np.prod([int(d) for d in shape], dtype=object)) <= FOLD_LIMIT


@op("Fill")
def _fill(low, scope, node):
    d, v = _ins(low, scope, node)
    if _is_const(d) and _is_const(v) and _small(d):
        return np.full(tuple(int(a) for a in d), v, v.dtype)
    dims, _ = _partial_of(d)
    return _emit(low, "FILL", [d, v], tuple(dims), node["name"], out_dtype=_tflite_dtype(_dtype(v)))


@op("ZerosLike", "OnesLike")
def _zeros_like(low, scope, node):
    (x,) = _ins(low, scope, node)
    val = 0 if node["op"] == "ZerosLike" else 1
    shp = _shape(x)
    if None not in shp:
        return np.full(shp, val, _dtype(x))
    return _fill_like(low, x, val, node["name"])


def _fill_like(low, x, val, name):
    shape = low.b.op("SHAPE", [low.v(x, name + "/x")], (len(x.shape),), name + "/shape", {"out_type": "INT32"},
                     out_dtypes=np.int32)
    dt = _tflite_dtype(x.dtype)
    return low.b.op("FILL", [shape, low.b.const(np.array(val, dt), name + "/value")], x.shape, name, out_dtypes=dt)


@op("Range")
def _range(low, scope, node):
    ins = _ins(low, scope, node)
    if all(_is_const(s) for s in ins):
        start, limit, delta = ins
        if delta == 0 or (limit - start) / delta > FOLD_LIMIT:
            low.fail(scope, node, f"range({start}, {limit}, {delta}) is empty-stepped or too long")
        return np.arange(start, limit, delta).astype(start.dtype)
    low.fail(scope, node, "a range with run-time bounds is not supported")


@op("Cast")
def _cast(low, scope, node):
    (x,) = _ins(low, scope, node)
    dst = np.dtype(dtype_of(_attr(node, "DstT", 1), "Cast DstT"))
    if _is_const(x):
        return x.astype(dst)
    if isinstance(x, Partial):
        if dst.kind in "iu":
            return Partial(x.vals, x.scalar, x.emit, np.int32, x.origin)
        x = x.emit()
    # A cast of an int64 / float64 input to another type reads the input itself, not its narrowed
    # copy (int64 ids past int32 cast to float as TensorFlow casts them).
    wide = low.wide.get(getattr(x, "index", None))
    if wide is not None and _tflite_dtype(dst) != np.dtype(x.dtype):
        x = wide
    # The Value's own type, not its narrowed one: a Cast of a value that is really int64 (or float64)
    # to int32 truncates it, and must run.
    if _tflite_dtype(dst) == np.dtype(x.dtype):
        return x
    return low.b.op("CAST", [x], x.shape, node["name"], {"in_data_type": np.dtype(x.dtype).name.upper(),
                                                         "out_data_type": np.dtype(_tflite_dtype(dst)).name.upper()},
                    out_dtypes=_tflite_dtype(dst))


# -- elementwise -------------------------------------------------------------------------------

_BINARY = {"AddV2": ("ADD", np.add), "Add": ("ADD", np.add), "Sub": ("SUB", np.subtract),
           "Mul": ("MUL", np.multiply), "RealDiv": ("DIV", np.divide), "Div": ("DIV", None),
           "Maximum": ("MAXIMUM", np.maximum), "Minimum": ("MINIMUM", np.minimum),
           "SquaredDifference": ("SQUARED_DIFFERENCE", lambda a, b: (a - b) * (a - b)),
           "Pow": ("POW", np.power), "FloorDiv": ("FLOOR_DIV", np.floor_divide),
           "FloorMod": ("FLOOR_MOD", np.mod), "BiasAdd": ("ADD", np.add), "BiasAddV1": ("ADD", np.add)}
_COMPARE = {"Equal": ("EQUAL", np.equal), "NotEqual": ("NOT_EQUAL", np.not_equal), "Less": ("LESS", np.less),
            "LessEqual": ("LESS_EQUAL", np.less_equal), "Greater": ("GREATER", np.greater),
            "GreaterEqual": ("GREATER_EQUAL", np.greater_equal), "LogicalAnd": ("LOGICAL_AND", np.logical_and),
            "LogicalOr": ("LOGICAL_OR", np.logical_or)}


def _div(a, b):
    if np.asarray(a).dtype.kind in "iu":
        return np.floor_divide(a, b)
    return np.divide(a, b)


def _partial_binary(low, node, x, y, fn, kind):
    xv, xs = _partial_of(x)
    yv, ys = _partial_of(y)
    if len(xv) != len(yv):
        if len(xv) == 1:
            xv = xv * len(yv)
        elif len(yv) == 1:
            yv = yv * len(xv)
        else:
            return None
    vals = [None if a is None or b is None else int(fn(a, b)) for a, b in zip(xv, yv)]
    return Partial(vals, xs and ys, lambda: _emit(low, kind, [x, y], () if xs and ys else (len(vals),), node["name"]),
                   np.int32)


def _is_zero(s):
    return _is_const(s) and s.size == 1 and float(s.reshape(-1)[0]) == 0.0


@op(*_BINARY)
def _binary(low, scope, node):
    kind, fn = _BINARY[node["op"]]
    if node["op"] == "Div":
        fn = _div
    name = node["name"]
    if kind == "ADD":
        prelu = _match_prelu(low, scope, node)
        if prelu is not None:
            return prelu
    if kind == "MUL":
        gelu = _match_gelu(low, scope, node)
        if gelu is not None:
            return gelu
    x, y = _ins(low, scope, node)
    if _is_const(x) and _is_const(y):
        out = fn(x, y)
        return np.asarray(out).astype(np.result_type(x, y)) if x.dtype == y.dtype else np.asarray(out)
    if isinstance(x, Partial) or isinstance(y, Partial):
        if (_is_const(x) or isinstance(x, Partial)) and (_is_const(y) or isinstance(y, Partial)):
            p = _partial_binary(low, node, x, y, fn, kind)
            if p is not None:
                return p
        x, y = low.v(x, name + "/x"), low.v(y, name + "/y")
    if kind in ("ADD", "SUB") and not _is_const(x) and _is_const(y):
        fused = _fuse_bias(low, scope, node, x, y if kind == "ADD" else -y)
        if fused is not None:
            return fused
    if kind == "ADD" and _is_const(x) and not _is_const(y):
        fused = _fuse_bias(low, scope, node, y, x)
        if fused is not None:
            return fused
    if kind == "MAXIMUM" and (_is_zero(y) or _is_zero(x)):
        other, zero = (x, y) if _is_zero(y) else (y, x)
        # RELU takes floats (an int32 max(n, 0), a frame count, stays MAXIMUM) of the same shape.
        if np.dtype(_dtype(other)) == np.float32 and bshape(_shape(other), np.shape(zero)) == tuple(_shape(other)):
            return low.b.op("RELU", [low.v(other, name)], other.shape, name)
    if kind == "MUL" and _is_const(y) and y.size == 1 and float(y.reshape(-1)[0]) == 1.0 \
            and bshape(_shape(x), y.shape) == _shape(x):
        return x
    if kind == "ADD" and _is_zero(y) and bshape(_shape(x), y.shape) == _shape(x):
        return x
    out_dt = _tflite_dtype(np.result_type(_dtype(x), _dtype(y)))
    if _is_const(y) and not _is_const(x):
        y = y.astype(_dtype(x)) if y.dtype != _dtype(x) else y
    if _is_const(x) and not _is_const(y):
        x = x.astype(_dtype(y)) if x.dtype != _dtype(y) else x
        out_dt = _tflite_dtype(_dtype(y))
    elif not _is_const(x):
        out_dt = _tflite_dtype(_dtype(x))
    return _emit(low, kind, [x, y], bshape(_shape(x), _shape(y)), name, out_dtype=out_dt)


@op(*_COMPARE)
def _compare(low, scope, node):
    kind, fn = _COMPARE[node["op"]]
    x, y = _ins(low, scope, node)
    if _is_const(x) and _is_const(y):
        return np.asarray(fn(x, y))
    if _is_const(y) and not isinstance(x, Partial):
        y = y.astype(_dtype(x))
    if _is_const(x) and not isinstance(y, Partial):
        x = x.astype(_dtype(y))
    return _emit(low, kind, [x, y], bshape(_shape(x), _shape(y)), node["name"], out_dtype=np.bool_)


@op("LogicalNot")
def _logical_not(low, scope, node):
    (x,) = _ins(low, scope, node)
    if _is_const(x):
        return np.logical_not(x)
    return _emit(low, "LOGICAL_NOT", [x], _shape(x), node["name"], out_dtype=np.bool_)


@op("Select", "SelectV2")
def _select(low, scope, node):
    c, x, y = _ins(low, scope, node)
    if _is_const(c) and _is_const(x) and _is_const(y):
        return np.where(c, x, y)
    dt = _dtype(x) if not _is_const(x) else _dtype(y)
    if _is_const(x):
        x = x.astype(dt)
    if _is_const(y):
        y = y.astype(dt)
    shp = bshape(bshape(_shape(c), _shape(x)), _shape(y))
    return _emit(low, "SELECT_V2", [c, x, y], shp, node["name"], out_dtype=_tflite_dtype(dt))


_UNARY = {"Relu": ("RELU", lambda a: np.maximum(a, 0)), "Relu6": ("RELU6", lambda a: np.clip(a, 0, 6)),
          "Elu": ("ELU", None), "Sigmoid": ("LOGISTIC", lambda a: 1 / (1 + np.exp(-a))), "Tanh": ("TANH", np.tanh),
          "Rsqrt": ("RSQRT", lambda a: 1 / np.sqrt(a)), "Sqrt": ("SQRT", np.sqrt), "Exp": ("EXP", np.exp),
          "Log": ("LOG", np.log), "Neg": ("NEG", np.negative), "Abs": ("ABS", np.abs),
          "Square": ("SQUARE", np.square), "Floor": ("FLOOR", np.floor), "Ceil": ("CEIL", np.ceil),
          "Round": ("ROUND", np.round), "Sin": ("SIN", np.sin), "Cos": ("COS", np.cos),
          "Sign": ("SIGN", np.sign), "Reciprocal": (None, lambda a: 1 / a), "Inv": (None, lambda a: 1 / a)}


@op(*_UNARY)
def _unary(low, scope, node):
    kind, fn = _UNARY[node["op"]]
    (x,) = _ins(low, scope, node)
    if _is_const(x) and fn is not None:
        return np.asarray(fn(x)).astype(x.dtype)
    if isinstance(x, Partial):
        if node["op"] == "Neg":
            return Partial([None if v is None else -v for v in x.vals], x.scalar,
                           lambda: _emit(low, "NEG", [x], _shape(x), node["name"]), x.dtype)
        x = x.emit()
    name = node["name"]
    if kind is None:
        return _emit(low, "DIV", [np.array(1, _dtype(x)), x], _shape(x), name)
    if kind == "SQUARE" and _dtype(x).kind in "iu":
        # TFLite's SQUARE takes floats only; an integer square is a product.
        return _emit(low, "MUL", [x, x], _shape(x), name)
    return _emit(low, kind, [x], _shape(x), name)


@op("LeakyRelu")
def _leaky(low, scope, node):
    (x,) = _ins(low, scope, node)
    alpha = float(_attr(node, "alpha", 0.2))
    if _is_const(x):
        return np.where(x > 0, x, x * alpha).astype(x.dtype)
    return _emit(low, "LEAKY_RELU", [x], _shape(x), node["name"], {"alpha": alpha})


class _Ctx:
    def __init__(self, b):
        self.b = b
        self.keras_major = 3


@op("Selu", "Softplus", "Softsign")
def _keras_activation(low, scope, node):
    from ..keras.layers import activation

    (x,) = _ins(low, scope, node)
    return activation(_Ctx(low.b), low.v(x, node["name"]), node["op"].lower(), node["name"])


@op("Softmax", "LogSoftmax")
def _softmax(low, scope, node):
    (x,) = _ins(low, scope, node)
    if node["op"] == "Softmax":
        return _emit(low, "SOFTMAX", [x], _shape(x), node["name"], {"beta": 1.0})
    return _emit(low, "LOG_SOFTMAX", [x], _shape(x), node["name"])


# -- patterns ------------------------------------------------------------------------------------

def _node_of(scope, ref):
    if ref.startswith("^"):
        return None
    name = ref.split(":", 1)[0]
    if name in scope.args:
        return None
    return scope.nodes.get(name)


def _data_inputs(scope, node):
    return [r for r in node.get("input", ()) if not r.startswith("^")]


def _skip_identity(scope, ref):
    n = _node_of(scope, ref)
    while n is not None and n.get("op") in ("Identity",):
        ref = _data_inputs(scope, n)[0]
        n = _node_of(scope, ref)
    return ref, n


def _same_ref(a, b):
    def norm(r):
        parts = r.split(":")
        return parts[0] if len(parts) == 1 or parts[-1] == "0" else r
    return norm(a) == norm(b)


def _match_prelu(low, scope, node):
    """relu(x) + (-alpha) * relu(-x)  (Keras PReLU) and maximum(x, 0) + alpha * minimum(x, 0)
    (tf.nn code) -> PRELU(x, alpha)."""
    ins = _data_inputs(scope, node)
    if len(ins) != 2:
        return None
    for pos_ref, mul_ref in ((ins[0], ins[1]), (ins[1], ins[0])):
        pos_ref, pos = _skip_identity(scope, pos_ref)
        mul_ref, mul = _skip_identity(scope, mul_ref)
        if pos is None or mul is None or mul.get("op") != "Mul":
            continue
        x_ref = None
        if pos.get("op") == "Relu":
            x_ref = _data_inputs(scope, pos)[0]
        elif pos.get("op") == "Maximum":
            a, b = _data_inputs(scope, pos)
            if _is_zero(low.get(scope, b)):
                x_ref = a
            elif _is_zero(low.get(scope, a)):
                x_ref = b
        if x_ref is None:
            continue
        m0, m1 = _data_inputs(scope, mul)
        for alpha_ref, neg_ref in ((m0, m1), (m1, m0)):
            _, neg = _skip_identity(scope, neg_ref)
            if neg is None:
                continue
            sign = None
            if neg.get("op") == "Relu":
                (inner,) = _data_inputs(scope, neg)
                _, nn = _skip_identity(scope, inner)
                if nn is not None and nn.get("op") == "Neg" and _same_ref(_data_inputs(scope, nn)[0], x_ref):
                    sign = -1.0
            elif neg.get("op") == "Minimum":
                a, b = _data_inputs(scope, neg)
                if _same_ref(a, x_ref) and _is_zero(low.get(scope, b)) or \
                        _same_ref(b, x_ref) and _is_zero(low.get(scope, a)):
                    sign = 1.0
            if sign is None:
                continue
            alpha = low.get(scope, alpha_ref)
            if not _is_const(alpha) or alpha.dtype.kind != "f":
                continue
            x = low.get(scope, x_ref)
            if _is_const(x) or isinstance(x, Partial):
                continue
            alpha = (alpha * sign).astype(np.float32)
            # PRELU broadcasts alpha against x's trailing dimensions only.
            if alpha.ndim > x.rank - 1 or bshape(x.shape, alpha.shape) != tuple(x.shape):
                continue
            while alpha.ndim > 1 and alpha.shape[0] == 1 and alpha.ndim > x.rank - 1:
                alpha = alpha[0]
            return low.b.op("PRELU", [x, low.v(alpha, node["name"] + "/alpha")], x.shape, node["name"])
    return None


def _scaled(low, scope, ref, factor):
    """The x of `ref` = x * c (or c * x, or x / (1/c), or -x * -c) with c close to `factor`; else None."""
    _, n = _skip_identity(scope, ref)
    if n is None or n.get("op") not in ("Mul", "RealDiv"):
        return None
    a, b = _data_inputs(scope, n)
    for x_ref, c_ref in ((a, b), (b, a)) if n["op"] == "Mul" else ((a, b),):
        c = low.get(scope, c_ref)
        if not _is_const(c) or c.size != 1:
            continue
        c = float(c.reshape(-1)[0])
        if n["op"] == "RealDiv":
            c = 1.0 / c if c else 0.0
        if abs(c - factor) <= 1e-6 * abs(factor):
            return x_ref
        _, neg = _skip_identity(scope, x_ref)
        if neg is not None and neg.get("op") == "Neg" and abs(-c - factor) <= 1e-6 * abs(factor):
            return _data_inputs(scope, neg)[0]
    return None


def _match_gelu(low, scope, node):
    """0.5 * x * erfc(-x / sqrt(2)) (tf.nn.gelu) and 0.5 * x * (1 + erf(x / sqrt(2))) -> GELU(x)."""
    ins = _data_inputs(scope, node)
    if len(ins) != 2:
        return None
    r2 = 1.0 / math.sqrt(2.0)
    for half_ref, e_ref in ((ins[0], ins[1]), (ins[1], ins[0])):
        x_ref = _scaled(low, scope, half_ref, 0.5)
        if x_ref is None:
            continue
        _, e = _skip_identity(scope, e_ref)
        if e is None:
            continue
        inner = None
        if e.get("op") == "Erfc":
            inner = _scaled(low, scope, _data_inputs(scope, e)[0], -r2)
        elif e.get("op") in ("AddV2", "Add"):
            a, b = _data_inputs(scope, e)
            for one_ref, erf_ref in ((a, b), (b, a)):
                one = low.get(scope, one_ref)
                _, erf = _skip_identity(scope, erf_ref)
                if _is_const(one) and one.size == 1 and float(one.reshape(-1)[0]) == 1.0 and erf is not None \
                        and erf.get("op") == "Erf":
                    inner = _scaled(low, scope, _data_inputs(scope, erf)[0], r2)
        if inner is None or not _same_ref(inner, x_ref):
            continue
        x = low.get(scope, x_ref)
        if _is_const(x) or isinstance(x, Partial):
            return None
        return low.b.op("GELU", [x], x.shape, node["name"], {"approximate": False})
    return None


def _fuse_bias(low, scope, node, x, c):
    """Put an added constant into the bias of the convolution (2-D, depthwise, 3-D, transposed) or FULLY_CONNECTED
    that computed x, when nothing else reads x."""
    entry = low.biasable.get(x.index)
    if entry is None:
        return None
    op, producer_name, slot = entry
    if scope.uses.get(producer_name, 0) != 1:
        return None
    channels = x.shape[-1]
    c = np.asarray(c, np.float32)
    if c.size != channels or c.shape[-1] != channels or bshape(x.shape, c.shape) != tuple(x.shape):
        return None
    c = c.reshape(channels)
    old = op.inputs[slot] if len(op.inputs) > slot else -1
    if old >= 0:
        prev = low.b.sg.tensors[old]
        prev_val = np.frombuffer(low.b.model.buffers[prev.buffer].data, np.float32)
        c = (prev_val + c).astype(np.float32)
    if not np.any(c) and low.b.model.operator_codes[op.opcode_index].builtin_code == _FC_CODE():
        new = -1
    else:
        new = low.b.const(c, producer_name + "/bias" if old < 0 else low.b.sg.tensors[old].name).index
    while len(op.inputs) <= slot:
        op.inputs.append(-1)
    op.inputs[slot] = new
    low.biasable[x.index] = (op, node["name"], slot)
    return x


def _FC_CODE():
    from ...flatbuffer.schema import OP_CODES

    return OP_CODES["FULLY_CONNECTED"]


# -- compute -----------------------------------------------------------------------------------

def _pair(node, key, default):
    v = _attr(node, key) or default
    return int(v[1]), int(v[2])


def _padding(low, scope, node, explicit_ok=False):
    p = str(_attr(node, "padding", "VALID")).upper()
    if p == "EXPLICIT" and explicit_ok:
        return p
    if p not in ("SAME", "VALID"):
        low.fail(scope, node, f"padding={p} is not supported (SAME or VALID)")
    if str(_attr(node, "data_format", "NHWC")) not in ("NHWC",):
        low.fail(scope, node, f"data_format={_attr(node, 'data_format')} is not supported (NHWC; TFLite is NHWC)")
    return p


@op("Conv2D")
def _conv2d(low, scope, node):
    x, w = _ins(low, scope, node)
    w = _const(low, scope, node, w, "the filter")
    pad = _padding(low, scope, node, explicit_ok=True)
    sh, sw = _pair(node, "strides", [1, 1, 1, 1])
    dh, dw = _pair(node, "dilations", [1, 1, 1, 1])
    kh, kw, cin, cout = w.shape
    x = low.v(x, node["name"] + "/input")
    if pad == "EXPLICIT":
        # TensorFlow's explicit paddings: a PAD, then a VALID convolution.
        ex = [int(v) for v in (_attr(node, "explicit_paddings") or [])]
        if len(ex) != 8:
            low.fail(scope, node, f"explicit_paddings {ex} should hold 8 values")
        x = _pad_common(low, scope, node, "PAD", x, np.array(ex, np.int64).reshape(4, 2), name=node["name"] + "/pad")
        pad = "VALID"
    if x.shape[-1] is not None and x.shape[-1] != cin:
        if x.shape[-1] % cin:
            low.fail(scope, node, f"input channels {x.shape[-1]} do not match the filter's {cin}")
    filt = np.ascontiguousarray(np.transpose(w, (3, 0, 1, 2))).astype(np.float32, copy=False)
    name = node["name"]
    out = (x.shape[0], conv_out(x.shape[1], kh, sh, dh, pad.lower()), conv_out(x.shape[2], kw, sw, dw, pad.lower()),
           cout)
    y = low.b.op("CONV_2D", [x, low.b.const(filt, name), low.b.const(np.zeros(cout, np.float32), name + "/bias")],
                 out, name, {"padding": pad, "stride_h": sh, "stride_w": sw, "dilation_h_factor": dh,
                             "dilation_w_factor": dw})
    low.biasable[y.index] = (low.b.sg.operators[-1], name, 2)
    return y


@op("DepthwiseConv2dNative")
def _depthwise(low, scope, node):
    x, w = _ins(low, scope, node)
    w = _const(low, scope, node, w, "the filter")
    pad = _padding(low, scope, node)
    sh, sw = _pair(node, "strides", [1, 1, 1, 1])
    dh, dw = _pair(node, "dilations", [1, 1, 1, 1])
    kh, kw, cin, mult = w.shape
    x = low.v(x, node["name"] + "/input")
    name = node["name"]
    filt = np.ascontiguousarray(w.reshape(1, kh, kw, cin * mult)).astype(np.float32, copy=False)
    out = (x.shape[0], conv_out(x.shape[1], kh, sh, dh, pad.lower()), conv_out(x.shape[2], kw, sw, dw, pad.lower()),
           cin * mult)
    y = low.b.op("DEPTHWISE_CONV_2D", [x, low.b.const(filt, name),
                                       low.b.const(np.zeros(cin * mult, np.float32), name + "/bias")], out, name,
                 {"padding": pad, "stride_h": sh, "stride_w": sw, "depth_multiplier": int(mult),
                  "dilation_h_factor": dh, "dilation_w_factor": dw})
    low.biasable[y.index] = (low.b.sg.operators[-1], name, 2)
    return y


@op("Conv2DBackpropInput")
def _conv_transpose(low, scope, node):
    sizes, w, x = _ins(low, scope, node)
    w = _const(low, scope, node, w, "the filter")
    pad = _padding(low, scope, node)
    sh, sw = _pair(node, "strides", [1, 1, 1, 1])
    dh, dw = _pair(node, "dilations", [1, 1, 1, 1])
    if dh != 1 or dw != 1:
        low.fail(scope, node, "dilations > 1 are not supported (TRANSPOSE_CONV has none)")
    kh, kw, cout, cin = w.shape
    out, _ = _partial_of(sizes)
    name = node["name"]
    filt = np.ascontiguousarray(np.transpose(w, (2, 0, 1, 3))).astype(np.float32, copy=False)
    if isinstance(sizes, np.ndarray):
        sizes = sizes.astype(np.int32)
    y = low.b.op("TRANSPOSE_CONV", [low.v(sizes, name + "/output_shape"), low.b.const(filt, name),
                                    low.v(x, name + "/input"), low.b.const(np.zeros(cout, np.float32), name + "/bias")],
                 tuple(out), name, {"padding": pad, "stride_h": sh, "stride_w": sw}, out_dtypes=np.float32)
    low.biasable[y.index] = (low.b.sg.operators[-1], name, 3)
    return y


def _fully_connected(low, node, x, kernel, keep_num_dims):
    """x @ kernel (kernel [in, units]) as FULLY_CONNECTED, like a Keras Dense."""
    name = node["name"]
    units = kernel.shape[1]
    # The builder copies a transposed kernel to C order in cache-friendly strips.
    w = low.b.const(kernel.astype(np.float32, copy=False).T, name)
    out = tuple(x.shape[:-1]) + (units,)
    y = low.b.op("FULLY_CONNECTED", [x, w, None], out, name, {"keep_num_dims": bool(keep_num_dims)})
    low.biasable[y.index] = (low.b.sg.operators[-1], name, 2)
    if x.index in low.flattened:
        low.fc_flat[y.index] = (low.b.sg.operators[-1], low.flattened[x.index])
    return y


@op("MatMul")
def _matmul(low, scope, node):
    a, b = _ins(low, scope, node)
    ta, tb = bool(_attr(node, "transpose_a", False)), bool(_attr(node, "transpose_b", False))
    if _is_const(a) and _is_const(b):
        return (a.T if ta else a) @ (b.T if tb else b)
    if _is_const(b) and not ta and b.dtype.kind == "f":
        return _fully_connected(low, node, low.v(a, node["name"] + "/a"), b.T if tb else b, False)
    return _batch_matmul(low, node, a, b, ta, tb)


def _batch_matmul(low, node, a, b, adj_x, adj_y):
    sa, sb = _shape(a), _shape(b)
    m = sa[-1] if adj_x else sa[-2]
    n = sb[-2] if adj_y else sb[-1]
    batch = bshape(sa[:-2], sb[:-2])
    return _emit(low, "BATCH_MATMUL", [a, b], batch + (m, n), node["name"],
                 {"adj_x": bool(adj_x), "adj_y": bool(adj_y), "asymmetric_quantize_inputs": False})


@op("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
def _bmm(low, scope, node):
    a, b = _ins(low, scope, node)
    ax, ay = bool(_attr(node, "adj_x", False)), bool(_attr(node, "adj_y", False))
    if _is_const(a) and _is_const(b):
        return np.matmul(np.swapaxes(a, -1, -2) if ax else a, np.swapaxes(b, -1, -2) if ay else b)
    if _is_const(b) and b.ndim == 2 and not ax and b.dtype.kind == "f":
        x = low.v(a, node["name"] + "/a")
        return _fully_connected(low, node, x, b.T if ay else b, x.rank > 2)
    return _batch_matmul(low, node, a, b, ax, ay)


@op("Einsum")
def _einsum(low, scope, node):
    ins = _ins(low, scope, node)
    eq = str(_attr(node, "equation", "")).replace(" ", "")
    if all(_is_const(s) for s in ins):
        return np.einsum(eq, *ins)
    if len(ins) != 2 or "->" not in eq or "." in eq:
        low.fail(scope, node, f"equation {eq!r}: only two-operand equations without ellipsis are supported")
    lhs, out = eq.split("->")
    la, lb = lhs.split(",")
    a, b = ins
    name = node["name"]
    if len(set(la)) != len(la) or len(set(lb)) != len(lb):
        low.fail(scope, node, f"equation {eq!r}: repeated indices in one operand are not supported")
    batch = [c for c in la if c in lb and c in out]
    contract = [c for c in la if c in lb and c not in out]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    if any(c not in out for c in left + right):
        low.fail(scope, node, f"equation {eq!r}: summing an index of one operand only is not supported")
    sa, sb = dict(zip(la, _shape(a))), dict(zip(lb, _shape(b)))
    size = {**sa, **sb}

    def group(dims):
        if any(size[c] is None for c in dims):
            return None
        return int(np.prod([size[c] for c in dims])) if dims else 1

    # Dense-like: b a constant matrix over (contract, right) -> FULLY_CONNECTED.
    if _is_const(b) and not batch and la[-len(contract):] == "".join(contract) if contract else False:
        kernel = np.transpose(b, [lb.index(c) for c in contract + right]).reshape(group(contract), group(right))
        x = low.v(a, name + "/a")
        keep = left + contract
        if list(la) != keep:
            x = _emit(low, "TRANSPOSE", [x, np.array([la.index(c) for c in keep], np.int32)],
                      tuple(sa[c] for c in keep), name + "/transpose_a")
        lead = tuple(sa[c] for c in left)
        if len(contract) > 1:
            x = reshape_to(low, x, lead + (group(contract),), name + "/reshape_a")
        y = _fully_connected(low, node, x, kernel.astype(np.float32), len(lead) > 1)
        res = lead + tuple(size[c] for c in right)
        if len(right) > 1 or len(lead) == 0:
            y = reshape_to(low, y, res, name + "/reshape")
        cur = left + right
    else:
        def prep(s, labels, order, shp_map, tag):
            v = low.v(s, f"{name}/{tag}")
            perm = [labels.index(c) for c in order]
            if perm != list(range(len(perm))):
                v = _emit(low, "TRANSPOSE", [v, np.array(perm, np.int32)], tuple(shp_map[c] for c in order),
                          f"{name}/transpose_{tag}")
            return v
        A = prep(a, la, batch + left + contract, sa, "a")
        B = prep(b, lb, batch + contract + right, sb, "b")
        bt = tuple(size[c] for c in batch)
        if len(left) != 1 or len(contract) != 1:
            A = reshape_to(low, A, bt + (group(left), group(contract)), name + "/reshape_a")
        if len(right) != 1 or len(contract) != 1:
            B = reshape_to(low, B, bt + (group(contract), group(right)), name + "/reshape_b")
        y = _batch_matmul(low, {"name": name}, A, B, False, False)
        res = bt + tuple(size[c] for c in left + right)
        if tuple(y.shape) != res:
            y = reshape_to(low, y, res, name + "/reshape")
        cur = batch + left + right
    perm = [cur.index(c) for c in out]
    if perm != list(range(len(perm))):
        y = _emit(low, "TRANSPOSE", [y, np.array(perm, np.int32)], tuple(size[c] for c in out), name + "/transpose")
    return y


@op("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def _fused_bn(low, scope, node):
    x, scale, offset, mean, var = _ins(low, scope, node)[:5]
    if _attr(node, "is_training", False) and not (_is_const(mean) and mean.size):
        low.fail(scope, node, "is_training=True batch statistics are not supported (export the model for inference)")
    if str(_attr(node, "data_format", "NHWC")) not in ("NHWC",):
        low.fail(scope, node, "data_format NCHW is not supported")
    eps = float(_attr(node, "epsilon", 1e-3))
    for s, what in ((scale, "scale"), (offset, "offset"), (mean, "mean"), (var, "variance")):
        _const(low, scope, node, s, what)
    mul = (scale / np.sqrt(var + eps)).astype(np.float32)
    add = (offset - mean * mul).astype(np.float32)
    name = node["name"]
    xv = low.v(x, name + "/x")
    y = low.b.op("MUL", [xv, low.b.const(mul, name + "/mul")], xv.shape, name + "/mul")
    y = low.b.op("ADD", [y, low.b.const(add, name + "/add")], xv.shape, name)
    return [y, mean, var, mean, var, mean]


def _pool(low, scope, node, kind):
    (x,) = _ins(low, scope, node)[:1]
    pad = _padding(low, scope, node)
    kh, kw = _pair(node, "ksize", [1, 1, 1, 1])
    sh, sw = _pair(node, "strides", [1, 1, 1, 1])
    ks = _attr(node, "ksize") or [1, 1, 1, 1]
    if int(ks[0]) != 1 or int(ks[3]) != 1:
        low.fail(scope, node, "pooling over the batch or channel axis is not supported")
    x = low.v(x, node["name"] + "/x")
    out = (x.shape[0], conv_out(x.shape[1], kh, sh, 1, pad.lower()), conv_out(x.shape[2], kw, sw, 1, pad.lower()),
           x.shape[3])
    return low.b.op(kind, [x], out, node["name"], {"padding": pad, "stride_h": sh, "stride_w": sw,
                                                   "filter_height": kh, "filter_width": kw})


@op("MaxPool")
def _maxpool(low, scope, node):
    return _pool(low, scope, node, "MAX_POOL_2D")


@op("AvgPool")
def _avgpool(low, scope, node):
    return _pool(low, scope, node, "AVERAGE_POOL_2D")


_REDUCE = {"Mean": ("MEAN", np.mean), "Max": ("REDUCE_MAX", np.max), "Min": ("REDUCE_MIN", np.min),
           "Sum": ("SUM", np.sum), "Prod": ("REDUCE_PROD", np.prod), "All": ("REDUCE_ALL", np.all),
           "Any": ("REDUCE_ANY", np.any)}


@op(*_REDUCE)
def _reduce(low, scope, node):
    kind, fn = _REDUCE[node["op"]]
    x, a = _ins(low, scope, node)
    axes = _const(low, scope, node, a, "the reduction axes").reshape(-1)
    keep = bool(_attr(node, "keep_dims", False))
    if _is_const(x):
        return np.asarray(fn(x, axis=tuple(int(v) for v in axes), keepdims=keep)).astype(x.dtype)
    if isinstance(x, Partial):
        vals = x.vals
        if node["op"] == "Prod" and not x.scalar and not keep:
            if all(v is not None for v in vals):
                return np.array(int(np.prod(vals)), np.int32)
            part = x
            return Partial([None], True, lambda: _emit(low, "REDUCE_PROD", [part.emit(), np.array([0], np.int32)], (),
                                                       node["name"], {"keep_dims": False}))
        x = x.emit()
    shp = _shape(x)
    r = len(shp)
    ax = sorted({int(v) % r for v in axes}) if r else []
    out = tuple((1 if i in ax else d) for i, d in enumerate(shp)) if keep else \
        tuple(d for i, d in enumerate(shp) if i not in ax)
    return _emit(low, kind, [x, np.array(ax, np.int32)], out, node["name"], {"keep_dims": keep})


@op("ArgMax", "ArgMin")
def _argmax(low, scope, node):
    x, a = _ins(low, scope, node)
    axis = int(_const(low, scope, node, a, "axis"))
    out_t = dtype_of(_attr(node, "output_type", 9), "output_type")
    shp = _shape(x)
    axis %= len(shp)
    kind = "ARG_MAX" if node["op"] == "ArgMax" else "ARG_MIN"
    # int64 indices compute as int32, as every int64 tensor here (see _tflite_dtype): an int64
    # ARG_MAX would meet int32 constants in the arithmetic after it.
    out_t = _tflite_dtype(out_t)
    return _emit(low, kind, [x, np.array([axis], np.int32)], shp[:axis] + shp[axis + 1:], node["name"],
                 {"output_type": np.dtype(out_t).name.upper()}, out_dtype=out_t)


@op("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(low, scope, node):
    x, s = _ins(low, scope, node)
    kind = "RESIZE_BILINEAR" if node["op"] == "ResizeBilinear" else "RESIZE_NEAREST_NEIGHBOR"
    x = low.v(x, node["name"] + "/x")
    if _is_const(s):
        size = [int(v) for v in np.asarray(s).reshape(-1)]
        sv = low.b.const(np.array(size, np.int32), node["name"] + "/size")
    else:
        # A size computed at run time (twice the input's, in a fully convolutional net): the
        # kernel reads it when it runs and sizes its output then.
        size, _ = _partial_of(s)
        sv = low.v(s, node["name"] + "/size")
        if len(size) != 2 or tuple(sv.shape) != (2,):
            low.fail(scope, node, f"size must hold 2 values (height, width), got shape {tuple(sv.shape)}")
    return low.b.op(kind, [x, sv],
                    (x.shape[0], size[0], size[1], x.shape[3]), node["name"],
                    {"align_corners": bool(_attr(node, "align_corners", False)),
                     "half_pixel_centers": bool(_attr(node, "half_pixel_centers", False))})


@op("Tile")
def _tile(low, scope, node):
    x, m = _ins(low, scope, node)
    if _is_const(x) and _is_const(m) and x.ndim == m.size and _small([a * int(b) for a, b in zip(x.shape, m)]):
        return np.tile(x, m)
    mult, _ = _partial_of(m)
    shp = tuple(None if d is None or k is None else d * k for d, k in zip(_shape(x), mult))
    return _emit(low, "TILE", [x, m], shp, node["name"])


@op("BroadcastTo")
def _broadcast_to(low, scope, node):
    x, s = _ins(low, scope, node)
    if _is_const(x) and _is_const(s) and _small(s):
        return np.broadcast_to(x, tuple(int(v) for v in s)).copy()
    dims, _ = _partial_of(s)
    return _emit(low, "BROADCAST_TO", [x, s], tuple(dims), node["name"])


@op("Erf", "Erfc")
def _erf(low, scope, node):
    (x,) = _ins(low, scope, node)
    if _is_const(x):
        from math import erf, erfc

        f = erf if node["op"] == "Erf" else erfc
        return np.vectorize(f)(x).astype(x.dtype)
    low.fail(scope, node, "has no TFLite builtin; it is converted only as part of an exact GELU "
                          "(0.5 * x * (1 + erf(x / sqrt(2))) or 0.5 * x * erfc(-x / sqrt(2)))")


@op("Gelu")
def _gelu(low, scope, node):
    (x,) = _ins(low, scope, node)
    return _emit(low, "GELU", [x], _shape(x), node["name"], {"approximate": bool(_attr(node, "approximate", False))})


@op("AddN")
def _add_n(low, scope, node):
    ins = _ins(low, scope, node)
    if all(_is_const(v) for v in ins):
        return np.sum(np.stack(ins), axis=0).astype(ins[0].dtype)
    if len(ins) == 1:
        return ins[0]
    live = next(v for v in ins if not _is_const(v))
    shp = _shape(ins[0])
    for v in ins[1:]:
        shp = bshape(shp, _shape(v))
    return _emit(low, "ADD_N", [v.astype(_dtype(live)) if _is_const(v) else v for v in ins], shp, node["name"],
                 out_dtype=_tflite_dtype(_dtype(live)))


@op("ClipByValue")
def _clip(low, scope, node):
    x, lo, hi = _ins(low, scope, node)
    if _is_const(x) and _is_const(lo) and _is_const(hi):
        return np.clip(x, lo, hi)
    name = node["name"]
    if _is_zero(lo) and _is_const(hi) and hi.size == 1 and float(hi) == 6.0:
        return _emit(low, "RELU6", [x], _shape(x), name)
    y = _emit(low, "MINIMUM", [x, hi.astype(_dtype(x)) if _is_const(hi) else hi], bshape(_shape(x), _shape(hi)),
              name + "/min")
    return _emit(low, "MAXIMUM", [y, lo.astype(_dtype(x)) if _is_const(lo) else lo], bshape(_shape(y), _shape(lo)),
                 name)


@op("ReverseV2")
def _reverse(low, scope, node):
    x, a = _ins(low, scope, node)
    axes = [int(v) for v in _const(low, scope, node, a, "axis").reshape(-1)]
    if _is_const(x):
        return np.flip(x, axes).copy()
    r = len(_shape(x))
    return _emit(low, "REVERSE_V2", [x, np.array([v % r for v in axes], np.int32)], _shape(x), node["name"])


@op("Cumsum")
def _cumsum(low, scope, node):
    x, a = _ins(low, scope, node)
    axis = int(_const(low, scope, node, a, "axis"))
    excl, rev = bool(_attr(node, "exclusive", False)), bool(_attr(node, "reverse", False))
    if _is_const(x) and not excl and not rev:
        return np.cumsum(x, axis).astype(x.dtype)
    return _emit(low, "CUMSUM", [x, np.array(axis, np.int32)], _shape(x), node["name"],
                 {"exclusive": excl, "reverse": rev})


@op("SpaceToDepth", "DepthToSpace")
def _space_depth(low, scope, node):
    (x,) = _ins(low, scope, node)
    if str(_attr(node, "data_format", "NHWC")) != "NHWC":
        low.fail(scope, node, "data_format must be NHWC")
    bs = int(_attr(node, "block_size", 2))
    n, h, w, c = _shape(x)
    if node["op"] == "SpaceToDepth":
        out = (n, None if h is None else h // bs, None if w is None else w // bs, c * bs * bs)
        return _emit(low, "SPACE_TO_DEPTH", [x], out, node["name"], {"block_size": bs})
    out = (n, None if h is None else h * bs, None if w is None else w * bs, c // (bs * bs))
    return _emit(low, "DEPTH_TO_SPACE", [x], out, node["name"], {"block_size": bs})


# -- control flow and TensorLists (Keras RNN loops) ---------------------------------------------

MAX_UNROLL = 4096


@op("While", "StatelessWhile")
def _while(low, scope, node):
    """A loop whose trip count is known when converting (a Keras RNN over a fixed number of
    steps) is unrolled: the condition is evaluated on the loop variables, which stay constant
    where they count steps, and the body is inlined once per step.  Otherwise it becomes a
    WHILE (loops.py)."""
    loop = _ins(low, scope, node)
    cond, body = (_attr(node, "cond") or {}).get("name"), (_attr(node, "body") or {}).get("name")
    if not cond or not body:
        low.fail(scope, node, "names no cond/body function")
    from .rnn import match_keras_lstm

    fused = match_keras_lstm(low, scope, node, loop, cond, body)
    if fused is not None:
        return fused
    for step in range(MAX_UNROLL):
        (c,) = low.call(cond, loop)[:1]
        if not _is_const(c):
            if step:
                low.fail(scope, node, f"the loop's condition is known when converting for {step} steps, then only "
                                      "at run time")
            from .loops import runtime_while

            return runtime_while(low, scope, node, loop, cond, body)
        if not bool(np.asarray(c).reshape(-1)[0]):
            return loop
        out = low.call(body, loop)
        if len(out) != len(loop):
            low.fail(scope, node, f"the body returns {len(out)} values for {len(loop)} loop variables")
        loop = out
    low.fail(scope, node, f"the loop runs more than {MAX_UNROLL} steps")


def _element_shape(s):
    if _is_const(s):
        if s.ndim == 0:
            return None if int(s) == -1 else ()
        return tuple(None if int(v) < 0 else int(v) for v in s)
    vals, _ = _partial_of(s)
    return tuple(vals)


@op("TensorListReserve")
def _tl_reserve(low, scope, node):
    shape, n = _ins(low, scope, node)
    dt = dtype_of(_attr(node, "element_dtype", 1), "element_dtype")
    if isinstance(n, Partial):
        return TList(None, _element_shape(shape), dt, length=n)
    n = _const(low, scope, node, n, "num_elements")
    if int(n) < 0:
        low.fail(scope, node, "a TensorList of unknown length is not supported")
    return TList([None] * int(n), _element_shape(shape), dt)


@op("EmptyTensorList")
def _tl_empty(low, scope, node):
    shape = _ins(low, scope, node)[0]
    return TList([], _element_shape(shape), dtype_of(_attr(node, "element_dtype", 1), "element_dtype"))


@op("TensorListFromTensor")
def _tl_from_tensor(low, scope, node):
    x, shape = _ins(low, scope, node)
    n = _shape(x)[0]
    if n is None:
        # Only a fused sequence op can consume it (unrolling needs the length).
        return TList(None, _shape(x)[1:], _dtype(x), source=x)
    if _is_const(x):
        return TList([x[i] for i in range(n)], _shape(x)[1:], x.dtype)
    name = node["name"]
    cache = {}

    def element(i):
        if "parts" not in cache:
            xv = low.v(x, name + "/x")
            cache["parts"] = [xv] if n == 1 else low.b.op("UNPACK", [xv], [tuple(xv.shape[1:])] * n, name,
                                                          {"num": n, "axis": 0})
            if n == 1:
                cache["parts"] = [reshape_to(low, xv, tuple(xv.shape[1:]), name)]
        return cache["parts"][i]
    return TList([_Lazy(element, i) for i in range(n)], _shape(x)[1:], _dtype(x), source=x)


class _Lazy:
    """An element of a TensorList made from a tensor, emitted when first read."""

    __slots__ = ("fn", "i")

    def __init__(self, fn, i):
        self.fn, self.i = fn, i

    def get(self):
        return self.fn(self.i)


def _item(s):
    return s.get() if isinstance(s, _Lazy) else s


def _tl_index(low, scope, node, lst, idx):
    if not isinstance(lst, TList):
        low.fail(scope, node, "expects a TensorList")
    if lst.items is None:
        low.fail(scope, node, "a TensorList whose length is known only at run time (a sequence of unknown "
                              "length) is supported only inside a Keras LSTM loop; give the model a fixed "
                              "sequence length")
    i = int(_const(low, scope, node, idx, "the index"))
    if not -len(lst.items) <= i < len(lst.items):
        low.fail(scope, node, f"index {i} is outside the TensorList of {len(lst.items)} elements")
    return i % len(lst.items)


def _stacked_list(lst):
    """Whether lst is a TensorList held as one tensor [length, *element] (a loop value, or a fused
    sequence op's output) rather than element by element."""
    return isinstance(lst, TList) and lst.items is None and lst.stacked is not None


def _index_value(low, scope, node, lst, idx, name):
    """A TensorList index as an int32 scalar Value (a constant one made nonnegative, checked against
    a static length)."""
    if _is_const(idx):
        i = int(np.asarray(idx).reshape(-1)[0])
        n = _shape(lst.stacked)[0]
        if i < 0 and n is None:
            low.fail(scope, node, f"negative index {i} into a TensorList of run-time length")
        if n is not None and not -n <= i < n:
            low.fail(scope, node, f"index {i} is outside the TensorList of {n} elements")
        return low.b.const(np.int32(i % n if n else i), name + "/index")
    v = low.v(idx, name + "/index")
    if tuple(v.shape) != ():
        v = reshape_to(low, v, (), name + "/index_scalar")
    if np.dtype(v.dtype) != np.int32:
        v = low.b.op("CAST", [v], (), name + "/index_int32", {"in_data_type": np.dtype(v.dtype).name.upper(),
                                                              "out_data_type": "INT32"}, out_dtypes=np.int32)
    return v


@op("TensorListGetItem")
def _tl_get(low, scope, node):
    lst, idx = _ins(low, scope, node)[:2]
    if _stacked_list(lst):
        name = node["name"]
        x = low.v(lst.stacked, name + "/list")
        return low.b.op("GATHER", [x, _index_value(low, scope, node, lst, idx, name)], tuple(x.shape[1:]), name,
                        {"axis": 0, "batch_dims": 0})
    i = _tl_index(low, scope, node, lst, idx)
    item = _item(lst.items[i])
    if item is None:
        low.fail(scope, node, f"reads element {i} of a TensorList before it is set")
    return item


@op("TensorListSetItem")
def _tl_set(low, scope, node):
    lst, idx, item = _ins(low, scope, node)[:3]
    if _stacked_list(lst):
        return TList(None, lst.element_shape, lst.dtype, stacked=_set_stacked(low, scope, node, lst, idx, item))
    i = _tl_index(low, scope, node, lst, idx)
    items = list(lst.items)
    items[i] = item
    return TList(items, lst.element_shape, lst.dtype)


def _set_stacked(low, scope, node, lst, idx, item):
    """The tensor of a stacked TensorList with element idx replaced by item (DYNAMIC_UPDATE_SLICE).
    Where the list's element shape has dimensions unknown when converting (a loop's output list of
    run-time batch: loops.py starts it with those dimensions 1), the list is first broadcast to the
    item's shape."""
    name = node["name"]
    acc, v = low.v(lst.stacked, name + "/list"), low.v(item, name + "/item")
    if len(acc.shape) != len(v.shape) + 1:
        low.fail(scope, node, f"sets an element of shape {tuple(v.shape)} in a TensorList of shape {tuple(acc.shape)}")
    b = low.b
    if any(d is None for d in acc.shape[1:]):
        i32 = np.int32
        length = b.op("SLICE", [b.op("SHAPE", [acc], (len(acc.shape),), name + "/list_shape", {"out_type": "INT32"},
                                      out_dtypes=i32),
                                b.const(np.array([0], i32), name + "/begin"), b.const(np.array([1], i32), name + "/size")],
                      (1,), name + "/length", out_dtypes=i32)
        dims = b.op("SHAPE", [v], (len(v.shape),), name + "/item_shape", {"out_type": "INT32"}, out_dtypes=i32)
        target = b.op("CONCATENATION", [length, dims], (len(acc.shape),), name + "/shape", {"axis": 0}, out_dtypes=i32)
        acc = b.op("BROADCAST_TO", [acc, target], (acc.shape[0],) + tuple(v.shape), name + "/broadcast")
    i = _index_value(low, scope, node, lst, idx, name)
    zero = b.const(np.int32(0), name + "/zero")
    start = b.op("PACK", [i] + [zero] * len(v.shape), (len(acc.shape),), name + "/start",
                 {"values_count": len(acc.shape), "axis": 0}, out_dtypes=np.int32)
    row = b.op("EXPAND_DIMS", [v, b.const(np.array([0], np.int32), name + "/axis")], (1,) + tuple(v.shape),
               name + "/row")
    return b.op("DYNAMIC_UPDATE_SLICE", [acc, row, start], acc.shape, name)


@op("TensorListPushBack")
def _tl_push(low, scope, node):
    lst, item = _ins(low, scope, node)
    if not isinstance(lst, TList) or lst.items is None:
        low.fail(scope, node, "expects a TensorList of known length")
    return TList(list(lst.items) + [item], lst.element_shape, lst.dtype)


@op("TensorListLength")
def _tl_length(low, scope, node):
    (lst,) = _ins(low, scope, node)
    if _stacked_list(lst) and lst.length is None:
        n = _shape(lst.stacked)[0]
        if n is not None:
            return np.array(n, np.int32)
        name = node["name"]
        x = low.v(lst.stacked, name + "/list")
        shape = low.b.op("SHAPE", [x], (len(x.shape),), name + "/Shape", {"out_type": "INT32"}, out_dtypes=np.int32)
        return low.b.op("STRIDED_SLICE", [shape, low.b.const(np.array([0], np.int32), name + "/begin"),
                                          low.b.const(np.array([1], np.int32), name + "/end"),
                                          low.b.const(np.array([1], np.int32), name + "/strides")], (), name,
                        {"shrink_axis_mask": 1}, out_dtypes=np.int32)
    if lst.items is None:
        return lst.length
    return np.array(len(lst.items), np.int32)


@op("TensorListStack")
def _tl_stack(low, scope, node):
    lst = _ins(low, scope, node)[0]
    if not isinstance(lst, TList):
        low.fail(scope, node, "expects a TensorList")
    if lst.stacked is not None:
        return lst.stacked
    if lst.items is None:
        low.fail(scope, node, "stacks a TensorList of run-time length")
    items = [_item(v) for v in lst.items]
    if any(v is None for v in items):
        low.fail(scope, node, "stacks a TensorList with elements never set")
    if all(_is_const(v) for v in items):
        return np.stack(items)
    name = node["name"]
    if len(items) == 1:
        v = low.v(items[0], name + "/item")
        y = reshape_to(low, v, (1,) + tuple(v.shape), name) if sum(d is None for d in v.shape) <= 1 else \
            low.b.op("EXPAND_DIMS", [v, low.b.const(np.array([0], np.int32), name + "/axis")], (1,) + tuple(v.shape),
                     name)
        low.stacked_one[y.index] = v
        return y
    shp = _shape(items[0])
    return _emit(low, "PACK", items, (len(items),) + tuple(shp), name, {"values_count": len(items), "axis": 0})


_ = (math, Resource)
