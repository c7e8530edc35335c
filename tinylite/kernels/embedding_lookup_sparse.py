"""EMBEDDING_LOOKUP_SPARSE(ids, indices, dense_shape, weights, value): rows
of `value` picked by `ids`, weighted by `weights`, combined per output bucket
(the leading lookup_rank - 1 coordinates of each `indices` row) as `combiner`
says: SUM, MEAN (divided by the bucket's weight sum) or SQRTN (by the square
root of its squared-weight sum).  As LiteRT, consecutive lookups with the
same bucket form one group (a bucket seen again later restarts its sum), and
an id outside value's rows fails the invoke.  float32 values and weights."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What EMBEDDING_LOOKUP_SPARSE's prepare computes for eval."""

    dense: list = None
    combiner: int = None

F32 = np.float32


def prepare(node):
    d = node.draft(OpData)
    ids, indices, shape, weights, value = node.inputs[:5]
    node.expect_dtype(ids, np.int32)
    node.expect_dtype(indices, np.int32)
    node.expect_dtype(shape, np.int32)
    node.expect_dtype(weights, np.float32)
    node.expect_dtype(value, np.float32)
    if len(ids.shape) != 1 or len(indices.shape) != 2 or len(weights.shape) != 1 or len(value.shape) < 2:
        node.fail(f"expects 1-D ids, 2-D indices, 1-D weights and value of rank >= 2, got {list(ids.shape)}, "
                  f"{list(indices.shape)}, {list(weights.shape)} and {list(value.shape)}")
    if not (indices.shape[0] == ids.shape[0] == weights.shape[0]):
        node.fail("ids, indices and weights need one entry per lookup")
    dense = [int(v) for v in np.asarray(node.value(2)).reshape(-1)]
    if len(dense) != indices.shape[1]:
        node.fail(f"dense_shape has {len(dense)} values for indices of width {indices.shape[1]}")
    d.dense = dense
    d.combiner = int(node.options.get("combiner", 0))
    node.outputs[0].shape = tuple(dense[:-1]) + tuple(value.shape[1:])
    return eval_embedding_lookup_sparse


def eval_embedding_lookup_sparse(node, inputs, outputs):
    data = node.data
    ids, indices, _, weights, value = inputs[:5]
    out = outputs[0]
    rows = value.reshape(value.shape[0], -1)
    flat = out.reshape(-1)
    flat.fill(0)
    size = rows.shape[1]
    strides = np.cumprod([1] + data.dense[:-1][::-1][:-1])[::-1] if len(data.dense) > 1 else []
    current, count, total, squares = 0, 0, F32(0), F32(0)

    def finalize():
        if data.combiner != 0 and count > 0:
            m = total if data.combiner == 1 else F32(np.sqrt(squares))
            seg = flat[current:current + size]
            seg[...] = seg / m

    for i in range(len(ids)):
        idx = int(ids[i])
        if not 0 <= idx < rows.shape[0]:
            raise ValueError(f"{node.op_name} (node {node.index}): id {idx} is out of bounds [0, {rows.shape[0] - 1}]")
        bucket = int(sum(int(indices[i, k]) * int(s) for k, s in enumerate(strides)))
        offset = bucket * size
        if offset != current:
            finalize()
            count, total, squares, current = 0, F32(0), F32(0), offset
        count += 1
        w = F32(weights[i])
        squares = F32(squares + F32(w * w))
        total = F32(total + w)
        if 0 <= current and current + size <= flat.size:
            flat[current:current + size] += rows[idx] * w
    finalize()
