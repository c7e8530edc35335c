"""STABLEHLO_SCATTER(inputs, scatter_indices, updates): the output starts as
the input; each update element, in row-major order, lands at the index
vector of its scatter position (placed by scatter_dims_to_operand_dims) plus
its window position (update_window_dims, with inserted_window_dims put back as
0), combined by the update computation subgraph's one op: none (replace),
STABLEHLO_ADD, _MULTIPLY, _MAXIMUM or _MINIMUM.  Elements landing outside
the input are skipped, as in LiteRT.  int32 or int64 indices; any numeric or
bool data type."""
from __future__ import annotations

import numpy as np

from ._stablehlo import NUMERIC, body_op, index_vectors, int_list
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    scatter: tuple = None

COMBINE = {None: None, "STABLEHLO_ADD": np.add, "STABLEHLO_MULTIPLY": np.multiply,
           "STABLEHLO_MAXIMUM": "max", "STABLEHLO_MINIMUM": "min"}


def prepare(node):
    od = node.draft(OpData)
    x, idx, upd = node.inputs[0], node.inputs[1], node.inputs[2]
    node.expect_dtype(x, *NUMERIC, np.bool_)
    node.expect_dtype(idx, np.int32, np.int64)
    if upd.dtype != x.dtype:
        node.fail(f"updates must have the input's type {x.dtype.name}, got {upd.dtype.name}")
    rank, irank, urank = len(x.shape), len(idx.shape), len(upd.shape)
    window_dims = int_list(node, "update_window_dims")
    inserted = int_list(node, "inserted_window_dims")
    to_operand = int_list(node, "scatter_dims_to_operand_dims")
    ivd = int(node.options.get("index_vector_dim", 0))
    if not 0 <= ivd <= irank:
        node.fail(f"index_vector_dim {ivd} is outside scatter_indices' rank {irank}")
    vec = 1 if ivd == irank else idx.shape[ivd]
    if len(to_operand) != vec or any(not 0 <= d < rank for d in to_operand):
        node.fail(f"scatter_dims_to_operand_dims {to_operand} must name {vec} input dims (the index vector's size)")
    if any(not 0 <= d < urank for d in window_dims) or len(set(window_dims)) != len(window_dims):
        node.fail(f"update_window_dims {window_dims} must be distinct dims of the rank-{urank} updates")
    if len(window_dims) + len(inserted) != rank or any(not 0 <= d < rank for d in inserted) \
            or len(set(inserted)) != len(inserted):
        node.fail(f"update_window_dims {window_dims} and inserted_window_dims {inserted} must together "
                  f"cover the input's {rank} dims")
    scatter_dims = [d for d in range(urank) if d not in window_dims]
    batch_shape = [d for i, d in enumerate(idx.shape) if i != ivd]
    if [upd.shape[d] for d in scatter_dims] != batch_shape:
        node.fail(f"the updates' scatter dims {[upd.shape[d] for d in scatter_dims]} must match "
                  f"scatter_indices' batch dims {batch_shape}")
    name = body_op(node, "update_computation_subgraph_index")
    if name not in COMBINE:
        node.fail(f"the update computation is {name}; LiteRT runs only none (replace), STABLEHLO_ADD, "
                  "STABLEHLO_MULTIPLY, STABLEHLO_MAXIMUM and STABLEHLO_MINIMUM")
    window_to_operand = [d for d in range(rank) if d not in inserted]
    od.scatter = (scatter_dims, window_dims, window_to_operand, to_operand, ivd, COMBINE[name])
    node.outputs[0].shape = tuple(x.shape)
    return eval_scatter


def eval_scatter(node, inputs, outputs):
    x, idx, upd = inputs
    out = outputs[0]
    out[...] = x
    if upd.size == 0 or out.size == 0:
        return
    scatter_dims, window_dims, window_to_operand, to_operand, ivd, combine = node.data.scatter
    u = np.indices(upd.shape, dtype=np.int64).reshape(upd.ndim, -1)   # row-major update positions
    vecs = index_vectors(idx, ivd).astype(np.int64)
    start = vecs[tuple(u[d] for d in scatter_dims)]                    # (n, vector size)
    where = np.zeros((x.ndim, u.shape[1]), np.int64)
    for k, d in enumerate(to_operand):
        where[d] += start[:, k]
    for d_upd, d_in in zip(window_dims, window_to_operand):
        where[d_in] += u[d_upd]
    inside = np.all((where >= 0) & (where < np.array(x.shape)[:, None]), axis=0)
    flat = np.ravel_multi_index(tuple(where[:, inside]), x.shape)
    values = upd.reshape(-1)[inside]
    target = x.reshape(-1).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        if combine is None:
            # The last update of an element wins: keep each element's last occurrence.
            last, first_in_reversed = np.unique(flat[::-1], return_index=True)
            target[last] = values[::-1][first_in_reversed]
        elif combine in ("max", "min") and x.dtype.kind == "f" and (np.isnan(values).any() or np.isnan(x).any()):
            # std::max(current, update) keeps the current value against a NaN update and a NaN current
            # value against anything: fold one at a time, in order, as LiteRT does.
            for f, v in zip(flat.tolist(), values):
                cur = target[f]
                target[f] = (v if cur < v else cur) if combine == "max" else (v if v < cur else cur)
        else:
            {"max": np.maximum, "min": np.minimum}.get(combine, combine).at(target, flat, values)
    out[...] = target.reshape(x.shape)
