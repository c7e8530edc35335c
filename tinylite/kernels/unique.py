"""UNIQUE: the distinct values of a 1-D input in order of first appearance,
and for every input element the position of its value there (int32 or int64,
the type of the second output).  Values float32, int8, uint8, int16, int32,
int64.  The count of distinct values is only known at invoke."""
import numpy as np

from ._base import DynamicShape

TYPES = (np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64)


def prepare(node):
    x = node.inputs[0]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(node.outputs[1], np.int32, np.int64)
    if len(x.shape) != 1:
        node.fail(f"expects a 1-D input, got shape {list(x.shape)}")
    if node.outputs[0].dtype != x.dtype:
        node.fail(f"the first output must have the input's type {x.dtype.name}")
    node.outputs[1].shape = tuple(x.shape)
    if x.data is None:
        raise DynamicShape("UNIQUE's output length depends on the input's values")
    node.outputs[0].shape = (len(_unique(x.data)[0]),)
    return eval_unique


def _unique(x):
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")          # first-appearance order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return values[order], rank[inverse.reshape(-1)]


def eval_unique(node, inputs, outputs):
    values, idx = _unique(inputs[0])
    outputs[0][...] = values
    outputs[1][...] = idx
