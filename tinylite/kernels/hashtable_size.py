"""HASHTABLE_SIZE(handle): the number of keys in the table, as int64 [1]."""
import numpy as np

from ._hashtable import check_handle, table

FOLDABLE = False


def prepare(node):
    check_handle(node, node.inputs[0])
    node.expect_dtype(node.outputs[0], np.int64)
    node.outputs[0].shape = (1,)
    return eval_size


def eval_size(node, inputs, outputs):
    outputs[0][0] = len(table(node, inputs[0]).items)
