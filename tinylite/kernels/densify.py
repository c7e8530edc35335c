"""DENSIFY: a sparse constant as a dense tensor.  The reader already hands
kernels sparse constants in dense form (tinylite.sparsity), so this op is a
copy, which constant folding runs once at allocate time."""
import numpy as np

from . import _layout


def prepare(node):
    x = node.inputs[0]
    if x.data is None:
        node.fail(f"input {x.name!r} is not a constant; LiteRT densifies only constant sparse tensors")
    node.expect_dtype(x, np.float32, np.float16, np.int8)
    if node.outputs[0].dtype != x.dtype:
        node.fail(f"output type {node.outputs[0].dtype.name} differs from input type {x.dtype.name}")
    node.outputs[0].shape = x.shape
    return _layout.eval_copy
