"""REVERSE_SEQUENCE: for each index b along `batch_dim`, the first
seq_lengths[b] elements along `seq_dim` reversed, the rest kept.  Input
float32, uint8, int16, int32, int64; lengths int32 or int64."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What REVERSE_SEQUENCE's prepare computes for eval."""

    dims: tuple = None


def prepare(node):
    d = node.draft(OpData)
    x, lengths = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, np.float32, np.uint8, np.int16, np.int32, np.int64)
    node.expect_dtype(lengths, np.int32, np.int64)
    seq, batch = int(node.options.get("seq_dim", 0)), int(node.options.get("batch_dim", 0))
    rank = len(x.shape)
    if not (0 <= seq < rank and 0 <= batch < rank) or seq == batch:
        node.fail(f"seq_dim {seq} and batch_dim {batch} must be different dimensions of the rank-{rank} input")
    if tuple(lengths.shape) != (x.shape[batch],):
        node.fail(f"seq_lengths must have shape [{x.shape[batch]}], got {list(lengths.shape)}")
    d.dims = (seq, batch)
    node.outputs[0].shape = tuple(x.shape)
    return eval_reverse_sequence


def eval_reverse_sequence(node, inputs, outputs):
    x, lengths = inputs
    seq, batch = node.data.dims
    if np.any(lengths < 0) or np.any(lengths > x.shape[seq]):
        raise ValueError(f"{node.op_name} (node {node.index}): seq_lengths {lengths.tolist()} must lie in "
                         f"[0, {x.shape[seq]}]")
    n = x.shape[seq]
    pos = np.arange(n)
    shape = [1] * x.ndim
    shape[seq] = n
    lshape = [1] * x.ndim
    lshape[batch] = x.shape[batch]
    ln = lengths.reshape(lshape).astype(np.int64)
    p = pos.reshape(shape)
    src = np.where(p < ln, ln - 1 - p, p)
    outputs[0][...] = np.take_along_axis(x, np.broadcast_to(src, x.shape), axis=seq)
