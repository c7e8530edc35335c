"""Shape-aware helpers that emit TFLite operators for the layer lowerings."""
from __future__ import annotations

import math

import numpy as np

from ...errors import ConverterError


def bshape(a, b):
    """Numpy broadcasting of two static shapes (None = known at run time)."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None:
            out.append(x)
        else:
            raise ConverterError(f"shapes {a} and {b} do not broadcast")
    return tuple(out)


def f32(ctx, value, name):
    return ctx.b.const(np.asarray(value, np.float32), name)


def i32(ctx, value, name):
    return ctx.b.const(np.asarray(value, np.int32), name)


def unary(ctx, op, x, name, options=None):
    return ctx.b.op(op, [x], x.shape, name, options)


def binary(ctx, op, x, y, name, options=None):
    if not hasattr(y, "index"):
        y = f32(ctx, y, name + "/y")
    return ctx.b.op(op, [x, y], bshape(x.shape, y.shape), name, options)


def reshape(ctx, x, shape, name):
    """RESHAPE to a static shape whose only unknown dimension may be one (the batch)."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if sum(d is None for d in shape) > 1:
        raise ConverterError(f"{name}: cannot reshape {x.shape} to {shape} with more than one unknown dimension")
    spec = [-1 if d is None else int(d) for d in shape]
    return ctx.b.op("RESHAPE", [x, i32(ctx, spec, name + "/shape")], shape, name)


def expand_dims(ctx, x, axis, name):
    axis = axis if axis >= 0 else x.rank + 1 + axis
    shape = x.shape[:axis] + (1,) + x.shape[axis:]
    if sum(d is None for d in shape) <= 1:
        return reshape(ctx, x, shape, name)
    return ctx.b.op("EXPAND_DIMS", [x, i32(ctx, [axis], name + "/axis")], shape, name)


def squeeze(ctx, x, axis, name):
    shape = x.shape[:axis] + x.shape[axis + 1:]
    if sum(d is None for d in shape) <= 1:
        return reshape(ctx, x, shape, name)
    return ctx.b.op("SQUEEZE", [x], shape, name, {"squeeze_dims": np.array([axis], np.int32)})


def transpose(ctx, x, perm, name):
    perm = [int(p) for p in perm]
    if perm == list(range(len(perm))):
        return x
    shape = tuple(x.shape[p] for p in perm)
    return ctx.b.op("TRANSPOSE", [x, i32(ctx, perm, name + "/perm")], shape, name)


def conv_out(size, k, s, d, padding):
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / s)
    return math.ceil((size - (k - 1) * d) / s)


def reduce(ctx, op, x, axes, keepdims, name):
    axes = sorted(a % x.rank for a in axes)
    shape = tuple((1 if i in axes else d) for i, d in enumerate(x.shape)) if keepdims else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return ctx.b.op(op, [x, i32(ctx, axes, name + "/axes")], shape, name, {"keep_dims": bool(keepdims)})


def batch_size(ctx, x, name):
    """The batch size as an int32 scalar tensor (SHAPE + STRIDED_SLICE, as TensorFlow emits)."""
    shape = ctx.b.op("SHAPE", [x], (x.rank,), name + "/Shape", {"out_type": "INT32"}, out_dtypes=np.int32)
    return ctx.b.op("STRIDED_SLICE", [shape, i32(ctx, [0], name + "/begin"), i32(ctx, [1], name + "/end"),
                                      i32(ctx, [1], name + "/strides")], (), name + "/strided_slice",
                    {"shrink_axis_mask": 1}, out_dtypes=np.int32)


def pool3d(b, x, op, pool, strides, padding, name):
    """A 3-D pooling of x [batch, depth, height, width, channels] (static but for the batch) as two
    2-D ones (op: MAX_POOL_2D or AVERAGE_POOL_2D): over (height, width) with the depth folded
    into the batch, then over depth.  Max and 'valid' or 'same' padding separate per axis
    exactly; so does the average, whose window count (padding excluded, as TensorFlow's) is the
    product of the axes' counts.  `b`: the GraphBuilder."""
    n, (d, h, w, c) = x.shape[0], x.shape[1:]

    def pool2d(v, fh, fw, sh, sw, step):
        shape = (v.shape[0], conv_out(v.shape[1], fh, sh, 1, padding), conv_out(v.shape[2], fw, sw, 1, padding),
                 v.shape[3])
        return b.op(op, [v], shape, f"{name}/{step}", {"padding": padding.upper(), "stride_h": sh, "stride_w": sw,
                                                       "filter_height": fh, "filter_width": fw})

    def to(v, shape, step):
        spec = b.const(np.array([-1 if k is None else k for k in shape], np.int32), f"{name}/{step}/shape")
        return b.op("RESHAPE", [v, spec], shape, f"{name}/{step}")
    y = pool2d(to(x, (None if n is None else n * d, h, w, c), "planes"), pool[1], pool[2], strides[1], strides[2],
               "pool_hw")
    oh, ow = y.shape[1], y.shape[2]
    y = pool2d(to(y, (n, d, oh * ow, c), "depth_major"), pool[0], 1, strides[0], 1, "pool_d")
    spec = b.const(np.array([-1 if n is None else n, y.shape[1], oh, ow, c], np.int32), name + "/shape")
    return b.op("RESHAPE", [y, spec], (n, y.shape[1], oh, ow, c), name)


def separable_resize(b, x, rows, cols, name):
    """x [batch, height, width, channels] (float32) resized by weight matrices `rows` [new height,
    height] and `cols` [new width, width] (resample.py): each applied as a FULLY_CONNECTED over
    its axis moved last, between TRANSPOSEs; an identity matrix is skipped.  `b`: the GraphBuilder."""
    def op_transpose(v, perm, step):
        perm_t = b.const(np.array(perm, np.int32), f"{name}/{step}/perm")
        return b.op("TRANSPOSE", [v, perm_t], tuple(v.shape[p] for p in perm), f"{name}/{step}")

    def apply(v, m, step):
        w = b.const(np.asarray(m, np.float32), f"{name}/{step}/weights")
        return b.op("FULLY_CONNECTED", [v, w, None], tuple(v.shape[:-1]) + (m.shape[0],), f"{name}/{step}",
                    {"keep_num_dims": True})
    same_rows = rows.shape[0] == rows.shape[1] and np.array_equal(rows, np.eye(rows.shape[0]))
    same_cols = cols.shape[0] == cols.shape[1] and np.array_equal(cols, np.eye(cols.shape[0]))
    y = x
    if not same_rows:                                      # [n, w, c, h] -> [n, w, c, h']
        y = op_transpose(apply(op_transpose(y, (0, 2, 3, 1), "rows_last"), rows, "rows"), (0, 3, 1, 2), "rows_back")
    if not same_cols:                                      # [n, h', c, w] -> [n, h', c, w']
        y = op_transpose(apply(op_transpose(y, (0, 1, 3, 2), "cols_last"), cols, "cols"), (0, 1, 3, 2), "cols_back")
    return y


def einsum(ctx, eq, operands, name):
    """numpy's einsum over Values (no ellipsis, no index repeated within an operand): each operand's
    indices that no later operand or the output uses are summed first, then operands are joined
    left to right, each pair as one BATCH_MATMUL (FULLY_CONNECTED when the right one is a constant
    matrix and nothing is batched) between TRANSPOSEs and RESHAPEs."""
    eq = eq.replace(" ", "")
    if "." in eq:
        raise ConverterError(f"{name}: einsum {eq!r} with an ellipsis is not supported; name every axis")
    lhs, _, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ConverterError(f"{name}: einsum {eq!r} names {len(terms)} operands, got {len(operands)}")
    if "->" not in eq:
        out = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    for t, v in zip(terms, operands):
        if len(set(t)) != len(t) or len(t) != v.rank:
            raise ConverterError(f"{name}: einsum {eq!r}: operand indices {t!r} do not fit shape {v.shape} (or an "
                                 "index repeats within an operand, which is not supported)")
    size = {}
    for t, v in zip(terms, operands):
        for c, d in zip(t, v.shape):
            size[c] = d if size.get(c) is None else size[c]
    cur, labels = operands[0], terms[0]
    for k in range(len(terms)):
        later = set(out).union(*terms[k + 1:]) if k + 1 < len(terms) else set(out)
        if k:
            cur, labels = _einsum_pair(ctx, cur, labels, operands[k], terms[k], later, size, f"{name}/pair{k}")
        drop = [i for i, c in enumerate(labels) if c not in later]
        if drop:
            cur = reduce(ctx, "SUM", cur, drop, False, f"{name}/sum{k}")
            labels = "".join(c for c in labels if c in later)
    if labels != out:
        cur = transpose(ctx, cur, [labels.index(c) for c in out], name)
    return cur


def _einsum_pair(ctx, a, la, b, lb, later, size, name):
    """a (indices la) and b (lb) joined, keeping the indices in `later`: (Value, its indices)."""
    b_only = [i for i, c in enumerate(lb) if c not in la and c not in later]
    if b_only:
        b = reduce(ctx, "SUM", b, b_only, False, name + "/sum_b")
        lb = "".join(c for c in lb if c in la or c in later)
    a_only = [i for i, c in enumerate(la) if c not in lb and c not in later]
    if a_only:
        a = reduce(ctx, "SUM", a, a_only, False, name + "/sum_a")
        la = "".join(c for c in la if c in lb or c in later)
    batch = [c for c in la if c in lb and c in later]
    contract = [c for c in la if c in lb and c not in later]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def group(dims):
        return None if any(size[c] is None for c in dims) else int(np.prod([size[c] for c in dims], dtype=np.int64))
    if b.const is not None and not batch:
        a = transpose(ctx, a, [la.index(c) for c in left + contract], name + "/order_a")
        if len(contract) != 1:
            a = reshape(ctx, a, tuple(size[c] for c in left) + (group(contract),), name + "/flat_a")
        w = np.transpose(b.const, [lb.index(c) for c in contract + right]).reshape(group(contract), group(right))
        y = ctx.b.op("FULLY_CONNECTED", [a, f32(ctx, np.ascontiguousarray(w.T), name + "/weights"), None],
                     tuple(size[c] for c in left) + (group(right),), name, {"keep_num_dims": len(left) > 1})
        res = tuple(size[c] for c in left + right)
        return (reshape(ctx, y, res, name + "/unflat") if tuple(y.shape) != res else y), "".join(left + right)
    a = transpose(ctx, a, [la.index(c) for c in batch + left + contract], name + "/order_a")
    b = transpose(ctx, b, [lb.index(c) for c in batch + contract + right], name + "/order_b")
    bt = tuple(size[c] for c in batch)
    a = reshape(ctx, a, bt + (group(left), group(contract)), name + "/flat_a")
    b = reshape(ctx, b, bt + (group(contract), group(right)), name + "/flat_b")
    y = ctx.b.op("BATCH_MATMUL", [a, b], bt + (group(left), group(right)), name, {"adj_x": False, "adj_y": False})
    res = bt + tuple(size[c] for c in left + right)
    return (reshape(ctx, y, res, name + "/unflat") if tuple(y.shape) != res else y), "".join(batch + left + right)
