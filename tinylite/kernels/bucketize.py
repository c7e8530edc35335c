"""BUCKETIZE: for each value, the number of `boundaries` (a sorted option
list) not above it: bucket i holds boundaries[i-1] <= x < boundaries[i].
Input float32, float64, int32, int64; output int32."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What BUCKETIZE's prepare computes for eval."""

    boundaries: np.ndarray = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(x, np.float32, np.float64, np.int32, np.int64)
    node.expect_dtype(node.outputs[0], np.int32)
    b = np.asarray(node.options.get("boundaries", []), np.float32).reshape(-1)
    if b.size and np.any(np.diff(b) < 0):
        node.fail(f"boundaries must be sorted, got {b.tolist()}")
    d.boundaries = b
    node.outputs[0].shape = tuple(x.shape)
    return eval_bucketize


def eval_bucketize(node, inputs, outputs):
    # LiteRT compares each value with the float boundaries (std::upper_bound): integers
    # are converted to float32 for the comparison, float64 values compare in double.
    x = inputs[0]
    values = x if x.dtype.kind == "f" else x.astype(np.float32)
    outputs[0][...] = np.searchsorted(node.data.boundaries.astype(values.dtype), values, side="right")
