"""GATHER_ND: slices of `params` addressed by the last dimension of `indices`
(int16, int32, int64).  Output shape: indices.shape[:-1] + params.shape[k:],
k = indices.shape[-1].  An index outside params fails the invoke, as in LiteRT."""
import numpy as np

TYPES = (np.float32, np.float16, np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_)


def prepare(node):
    params, indices = node.inputs[0], node.inputs[1]
    node.expect_dtype(params, *TYPES)
    node.expect_dtype(indices, np.int16, np.int32, np.int64)
    if len(params.shape) < 1 or len(indices.shape) < 1:
        node.fail(f"params and indices need at least one dimension, got {list(params.shape)} and "
                  f"{list(indices.shape)}")
    k = indices.shape[-1]
    if k > len(params.shape):
        node.fail(f"index depth {k} exceeds the rank {len(params.shape)} of params")
    node.outputs[0].shape = tuple(indices.shape[:-1]) + tuple(params.shape[k:])
    return eval_gather_nd


def eval_gather_nd(node, inputs, outputs):
    params, indices = inputs
    k = indices.shape[-1]
    flat = indices.reshape(-1, k).astype(np.int64)
    dims = np.array(params.shape[:k], np.int64)
    if flat.size and (np.any(flat < 0) or np.any(flat >= dims)):
        bad = flat[np.any((flat < 0) | (flat >= dims), axis=1)][0].tolist()
        raise ValueError(f"{node.op_name} (node {node.index}): index {bad} is out of bounds for params of "
                         f"shape {list(params.shape)}")
    outputs[0][...] = params[tuple(flat.T)].reshape(outputs[0].shape)
