"""MATRIX_SET_DIAG: the input matrices (last two dimensions) with their main
diagonal replaced by the second input (length min of the two dimensions)."""
import numpy as np

from ._diag import TYPES


def prepare(node):
    x, d = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, *TYPES)
    if len(x.shape) < 2:
        node.fail(f"the input needs at least 2 dimensions, got shape {list(x.shape)}")
    n = min(x.shape[-2:])
    if tuple(d.shape) != tuple(x.shape[:-2]) + (n,) or d.dtype != x.dtype:
        node.fail(f"the diagonal must be {x.dtype.name} of shape {list(x.shape[:-2]) + [n]}, got "
                  f"{d.dtype.name} {list(d.shape)}")
    node.outputs[0].shape = tuple(x.shape)
    return eval_matrix_set_diag


def eval_matrix_set_diag(node, inputs, outputs):
    x, d = inputs
    out = outputs[0]
    out[...] = x
    idx = np.arange(d.shape[-1])
    out[..., idx, idx] = d
