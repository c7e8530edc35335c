"""STRIDED_SLICE with begin/end/ellipsis/new_axis/shrink_axis masks and `offset`.

The masks translate one-to-one into a numpy index tuple, whose semantics
(clamping, negative indices and strides) are those of TensorFlow's op.  With
`offset`, end is a size added to the begin after TFLite resolved it.
"""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What STRIDED_SLICE's prepare computes for eval."""

    slices: tuple = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    begin = np.asarray(node.value(1)).reshape(-1).astype(np.int64)
    end = np.asarray(node.value(2)).reshape(-1).astype(np.int64)
    strides = np.asarray(node.value(3)).reshape(-1).astype(np.int64) if node.has_input(3) else np.ones_like(begin)
    if not len(begin) == len(end) == len(strides):
        node.fail(f"begin, end and strides differ in length: {len(begin)}, {len(end)}, {len(strides)}")
    if np.any(strides == 0):
        node.fail("strides must be non-zero")
    o = node.options
    index = []
    for i in range(len(begin)):
        bit = 1 << i
        if o.get("ellipsis_mask", 0) & bit:
            index.append(Ellipsis)
        elif o.get("new_axis_mask", 0) & bit:
            index.append(np.newaxis)
        elif o.get("shrink_axis_mask", 0) & bit:
            dim = _dim_for(index, i, len(x.shape), len(begin), o)
            b = int(begin[i]) + (x.shape[dim] if begin[i] < 0 else 0)
            if not 0 <= b < x.shape[dim]:
                node.fail(f"shrink index {begin[i]} is out of range for dimension {dim} of size {x.shape[dim]}")
            index.append(b)
        elif o.get("offset"):
            dim = _dim_for(index, i, len(x.shape), len(begin), o)
            index.append(_offset_slice(int(begin[i]), int(end[i]), int(strides[i]), x.shape[dim],
                                       o.get("begin_mask", 0) & bit, o.get("end_mask", 0) & bit))
        else:
            b = None if o.get("begin_mask", 0) & bit else int(begin[i])
            e = None if o.get("end_mask", 0) & bit else int(end[i])
            index.append(slice(b, e, int(strides[i])))
    d.slices = tuple(index)
    probe = np.broadcast_to(np.zeros((), np.int8), x.shape)
    try:
        node.outputs[0].shape = probe[d.slices].shape
    except IndexError:
        node.fail(f"begin/end/strides of length {len(begin)} (with masks {dict(o)}) index more dimensions than "
                  f"the input of shape {list(x.shape)} has")
    return eval_slice


def _dim_for(index, i, rank, n_spec, o):
    """The input dimension spec position i refers to (after an ellipsis, count from the end)."""
    if Ellipsis in index:
        return rank - (n_spec - i) + sum(1 for j in range(i + 1, n_spec) if o.get("new_axis_mask", 0) & (1 << j))
    return sum(1 for k in index if k is not np.newaxis)


def _offset_slice(begin, size, stride, dim, begin_masked, end_masked):
    """With `offset`, end is a size counted from the begin TFLite has already
    resolved (negative begin wrapped, clamped, or replaced by the begin mask)."""
    lo, hi = (0, dim) if stride > 0 else (-1, dim - 1)
    start = min(max(begin + (dim if begin < 0 else 0), lo), hi)
    if begin_masked:
        start = 0 if stride > 0 else dim - 1
    stop = start + size
    stop = min(max(stop + (dim if stop < 0 else 0), lo), hi)
    if end_masked:
        stop = dim if stride > 0 else -1
    if stride < 0 and start < 0:
        return slice(0, 0)
    # numpy reads a stop of -1 as "the last element"; TFLite means "before index 0".
    return slice(start, None if stop < 0 else stop, stride)


def eval_slice(node, inputs, outputs):
    outputs[0][...] = inputs[0][node.data.slices]
