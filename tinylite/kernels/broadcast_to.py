"""BROADCAST_TO: the input repeated to the shape given by the second input
(int32 or int64), numpy's broadcasting rules; any element type."""
import numpy as np


def prepare(node):
    x, shape = node.inputs[0], node.inputs[1]
    node.expect_dtype(shape, np.int32, np.int64)
    if len(shape.shape) != 1:
        node.fail(f"the shape input must be 1-D, got shape {list(shape.shape)}")
    target = tuple(int(d) for d in np.asarray(node.value(1)).reshape(-1))
    if len(target) > 8:
        node.fail(f"at most 8 dimensions are supported (as LiteRT), got {len(target)}")
    if len(target) < len(x.shape):
        node.fail(f"cannot broadcast shape {list(x.shape)} to the shorter {list(target)}")
    for a, b in zip(x.shape[::-1], target[::-1]):
        if a != b and a != 1:
            node.fail(f"cannot broadcast shape {list(x.shape)} to {list(target)}")
    if x.dtype != node.outputs[0].dtype:
        node.fail(f"output type {node.outputs[0].dtype.name} differs from input type {x.dtype.name}")
    node.outputs[0].shape = target
    return eval_broadcast_to


def eval_broadcast_to(node, inputs, outputs):
    outputs[0][...] = np.broadcast_to(inputs[0], outputs[0].shape)
