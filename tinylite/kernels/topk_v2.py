"""TOPK_V2: the k largest values along the last dimension, in decreasing
order, and their int32 indices; equal values keep index order (lower first),
as LiteRT's TopContainer.  Values float32, uint8, int8, int16, int32, int64;
k an int32 (or int16) scalar."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What TOPK_V2's prepare computes for eval."""

    k: int = None

TYPES = (np.float32, np.uint8, np.int8, np.int16, np.int32, np.int64)


def prepare(node):
    d = node.draft(OpData)
    x, k = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(k, np.int32, np.int16)
    if len(x.shape) < 1:
        node.fail("the input needs at least one dimension")
    kv = int(np.asarray(node.value(1)).reshape(-1)[0])
    if kv < 0 or kv > x.shape[-1]:
        node.fail(f"k = {kv} is outside [0, {x.shape[-1]}], the last dimension's size")
    d.k = kv
    node.outputs[0].shape = tuple(x.shape[:-1]) + (kv,)
    node.outputs[1].shape = tuple(x.shape[:-1]) + (kv,)
    node.expect_dtype(node.outputs[1], np.int32, np.int16)
    return eval_topk


def eval_topk(node, inputs, outputs):
    x = inputs[0]
    if x.dtype.kind == "f":
        key = -x.astype(np.float64)
    else:
        key = -x.astype(np.int64)
    order = np.argsort(key, axis=-1, kind="stable")[..., :node.data.k]
    outputs[0][...] = np.take_along_axis(x, order, axis=-1)
    outputs[1][...] = order
