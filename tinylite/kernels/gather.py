"""GATHER: pick slices of input 0 along `axis` at the indices in input 1; the
first `batch_dims` dimensions of both are matched one to one."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import normalize_axis, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What GATHER's prepare computes for eval."""

    x_view: tuple = None
    i_view: tuple = None


def prepare(node):
    d = node.draft(OpData)
    x, idx = node.inputs[0], node.inputs[1]
    node.expect_dtype(idx, np.int16, np.int32, np.int64)
    rank, irank = len(x.shape), len(idx.shape)
    if rank == 0:
        node.fail("cannot gather from a scalar")
    axis = normalize_axis(node.options.get("axis", 0), rank, node)
    batch = node.options.get("batch_dims", 0)
    batch = batch + irank if batch < 0 else batch
    if not 0 <= batch <= min(axis, irank) or batch >= rank:
        node.fail(f"batch_dims {node.options.get('batch_dims', 0)} is invalid for axis {axis}, params rank "
                  f"{rank} and indices rank {irank}")
    if x.shape[:batch] != idx.shape[:batch]:
        node.fail(f"the first {batch} dimensions of {list(x.shape)} and indices {list(idx.shape)} differ")
    node.outputs[0].shape = x.shape[:axis] + idx.shape[batch:] + x.shape[axis + 1:]
    # Views of both inputs as [batch, outer, axis, inner] and [batch, coords].
    d.x_view = (_size(x.shape[:batch]), _size(x.shape[batch:axis]), x.shape[axis], _size(x.shape[axis + 1:]))
    d.i_view = (d.x_view[0], _size(idx.shape[batch:]))
    if not _layout.movable(node, [x], dtypes=_layout.WITH_STRINGS):
        return _layout.quantized_fallback(node)
    if x.dtype == np.object_ and rank != 1:
        node.fail(f"a STRING input must be 1-D, got shape {list(x.shape)} (LiteRT gathers 1-D strings only)")
    return eval_gather


def _size(dims):
    return int(np.prod(dims, dtype=np.int64))


def eval_gather(node, inputs, outputs):
    data = node.data
    b, outer, n, inner = data.x_view
    idx = inputs[1].reshape(data.i_view)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"gather index out of bounds: indices must be in [0, {n}), got "
                         f"{int(idx.min())}..{int(idx.max())}")
    x = inputs[0].reshape(data.x_view)
    picked = x[np.arange(b)[:, None], :, idx]             # [batch, coords, outer, inner]
    out = outputs[0].reshape(b, outer, data.i_view[1], inner)
    np.copyto(out, picked.transpose(0, 2, 1, 3))
