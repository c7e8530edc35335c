"""MATRIX_DIAG: a batch of square matrices whose diagonals are the input's
last dimension and everything else 0."""
import numpy as np

from ._diag import TYPES


def prepare(node):
    x = node.inputs[0]
    node.expect_dtype(x, *TYPES)
    if len(x.shape) < 1:
        node.fail("the input needs at least one dimension")
    n = x.shape[-1]
    node.outputs[0].shape = tuple(x.shape) + (n,)
    return eval_matrix_diag


def eval_matrix_diag(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    n = x.shape[-1]
    out.fill(0)
    idx = np.arange(n)
    out[..., idx, idx] = x
