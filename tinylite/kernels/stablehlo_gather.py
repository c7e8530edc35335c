"""STABLEHLO_GATHER(operand, start_indices): for every batch position of
start_indices, a slice of slice_sizes from operand starting at the index
vector (read along index_vector_dim, placed on operand dims by
start_index_map, then clamped so the whole slice fits, as LiteRT clamps);
collapsed_slice_dims (size 1) are dropped and the slice dims land on the
result's offset_dims, the batch dims on the others.  int32 or int64 indices;
any numeric operand type (LiteRT's kernel takes no bool)."""
from __future__ import annotations

import numpy as np

from ._stablehlo import NUMERIC, index_vectors, int_list
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    gather: tuple = None


def prepare(node):
    od = node.draft(OpData)
    x, idx = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *NUMERIC)
    node.expect_dtype(idx, np.int32, np.int64)
    rank, irank = len(x.shape), len(idx.shape)
    offset_dims = int_list(node, "offset_dims")
    collapsed = int_list(node, "collapsed_slice_dims")
    start_map = int_list(node, "start_index_map")
    slice_sizes = int_list(node, "slice_sizes")
    ivd = int(node.options.get("index_vector_dim", 0))
    if len(slice_sizes) != rank:
        node.fail(f"slice_sizes has {len(slice_sizes)} values for a rank-{rank} operand")
    if any(not 0 <= s <= d for s, d in zip(slice_sizes, x.shape)):
        node.fail(f"slice_sizes {slice_sizes} must lie within the operand's shape {list(x.shape)}")
    if any(not 0 <= d < rank or slice_sizes[d] != 1 for d in collapsed) or len(set(collapsed)) != len(collapsed):
        node.fail(f"collapsed_slice_dims {collapsed} must be distinct operand dims of slice size 1")
    if not 0 <= ivd <= irank:
        node.fail(f"index_vector_dim {ivd} is outside start_indices' rank {irank}")
    vec = 1 if ivd == irank else idx.shape[ivd]
    if len(start_map) != vec or any(not 0 <= d < rank for d in start_map):
        node.fail(f"start_index_map {start_map} must name {vec} operand dims (the index vector's size)")
    batch_shape = [d for i, d in enumerate(idx.shape) if i != ivd]
    kept = [s for d, s in enumerate(slice_sizes) if d not in collapsed]
    out_rank = len(batch_shape) + len(offset_dims)
    if len(kept) != len(offset_dims) or any(not 0 <= d < out_rank for d in offset_dims) \
            or len(set(offset_dims)) != len(offset_dims):
        node.fail(f"offset_dims {offset_dims} must name {len(kept)} distinct result dims "
                  f"(the slice dims not collapsed) of a rank-{out_rank} result")
    # Result dim r reads axis `order[r]` of the gathered array laid out (batch..., kept slice dims...).
    order, b, o = [], 0, len(batch_shape)
    for r in range(out_rank):
        if r in offset_dims:
            order.append(o)
            o += 1
        else:
            order.append(b)
            b += 1
    od.gather = (start_map, slice_sizes, collapsed, ivd, order)
    node.outputs[0].shape = tuple((list(batch_shape) + kept)[a] for a in order)
    return eval_gather


def eval_gather(node, inputs, outputs):
    x, idx = inputs
    start_map, slice_sizes, collapsed, ivd, order = node.data.gather
    vecs = index_vectors(idx, ivd).astype(np.int64)
    batch = vecs.shape[:-1]
    start = np.zeros(batch + (x.ndim,), np.int64)
    for k, d in enumerate(start_map):
        start[..., d] = vecs[..., k]
    start = np.clip(start, 0, np.array(x.shape) - np.array(slice_sizes))
    grid = np.indices(slice_sizes, dtype=np.int64)
    pos = tuple(start[(...,) + (d,) + (None,) * x.ndim] + grid[d] for d in range(x.ndim))
    got = x[pos]                               # batch + slice_sizes
    got = got.reshape(batch + tuple(s for d, s in enumerate(slice_sizes) if d not in collapsed))
    outputs[0][...] = np.transpose(got, order)
