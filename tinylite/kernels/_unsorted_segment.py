"""What the UNSORTED_SEGMENT_* ops share: the data's slices combined by their
segment id (ids in any order, of a shape that prefixes the data's) into
num_segments rows (the third input).  Negative ids are skipped; an id at or
past num_segments fails (as in LiteRT).  Rows no id names get the
reduction's identity: 0 (sum), 1 (prod), the type's lowest (max) or highest
(min) value.  Data float32 or int32; ids int32."""
from __future__ import annotations

from typing import Callable

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class SegmentData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    ufunc: Callable = None
    identity: int | np.float32 = None


def prepare_unsorted_segment(node, ufunc, identity):
    d = node.draft(SegmentData)
    data, ids, num = node.inputs[0], node.inputs[1], node.inputs[2]
    node.expect_dtype(data, np.float32, np.int32)
    node.expect_dtype(ids, np.int32)
    node.expect_dtype(num, np.int32)
    if tuple(ids.shape) != tuple(data.shape[:len(ids.shape)]):
        node.fail(f"segment ids of shape {list(ids.shape)} must match the leading dimensions of the data "
                  f"{list(data.shape)}")
    n = int(np.asarray(node.value(2)).reshape(-1)[0])
    if n < 0:
        node.fail(f"num_segments must not be negative, got {n}")
    d.ufunc = ufunc
    info = np.finfo if data.dtype.kind == "f" else np.iinfo
    d.identity = {"lowest": info(data.dtype).min, "highest": info(data.dtype).max}.get(identity, identity)
    node.outputs[0].shape = (n,) + tuple(data.shape[len(ids.shape):])
    return eval_unsorted_segment


def eval_unsorted_segment(node, inputs, outputs):
    op = node.data
    data, ids = inputs[0], inputs[1]
    out = outputs[0]
    out.fill(op.identity)
    flat_ids = ids.reshape(-1)
    rows = data.reshape(flat_ids.size, *out.shape[1:])
    if flat_ids.size and flat_ids.max() >= out.shape[0]:
        raise ValueError(f"{node.op_name} (node {node.index}): segment id {int(flat_ids.max())} is not below "
                         f"num_segments {out.shape[0]}")
    ok = flat_ids >= 0
    op.ufunc.at(out, flat_ids[ok], rows[ok])
