"""BROADCAST_ARGS: the broadcast shape of two shapes (int32 or int64 1-D
tensors of one type)."""
import numpy as np


def prepare(node):
    a, b = node.inputs[0], node.inputs[1]
    node.expect_dtype(a, np.int32, np.int64)
    if a.dtype != b.dtype or node.outputs[0].dtype != a.dtype:
        node.fail(f"inputs and output need one type, got {a.dtype.name}, {b.dtype.name} and "
                  f"{node.outputs[0].dtype.name}")
    if len(a.shape) != 1 or len(b.shape) != 1:
        node.fail(f"inputs must be 1-D shapes, got shapes {list(a.shape)} and {list(b.shape)}")
    node.outputs[0].shape = (max(a.shape[0], b.shape[0]),)
    if a.data is not None and b.data is not None:
        _broadcast(node, a.data, b.data)
    return eval_broadcast_args


def _broadcast(node, a, b):
    try:
        return np.broadcast_shapes(tuple(int(v) for v in a), tuple(int(v) for v in b))
    except ValueError:
        raise ValueError(f"{node.op_name} (node {node.index}): shapes {list(a)} and {list(b)} cannot be "
                         "broadcast together") from None


def eval_broadcast_args(node, inputs, outputs):
    outputs[0][...] = _broadcast(node, inputs[0], inputs[1])
