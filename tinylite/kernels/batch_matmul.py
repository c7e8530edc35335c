"""BATCH_MATMUL: x @ y over broadcast batch dimensions (ranks 2 to 5);
`adj_x`/`adj_y` transpose the last two dimensions of x/y first."""
import numpy as np

from ._base import broadcast_shape


def prepare(node):
    x, y = node.inputs[0], node.inputs[1]
    if not (2 <= len(x.shape) <= 5 and 2 <= len(y.shape) <= 5):
        node.fail(f"inputs must have rank 2 to 5, got shapes {list(x.shape)} and {list(y.shape)}")
    adj_x, adj_y = bool(node.options.get("adj_x")), bool(node.options.get("adj_y"))
    rows, depth_x = (x.shape[-1], x.shape[-2]) if adj_x else (x.shape[-2], x.shape[-1])
    depth_y, cols = (y.shape[-1], y.shape[-2]) if adj_y else (y.shape[-2], y.shape[-1])
    if depth_x != depth_y:
        node.fail(f"inner dimensions differ: {depth_x} and {depth_y} "
                  f"(shapes {list(x.shape)}, {list(y.shape)}, adj_x={adj_x}, adj_y={adj_y})")
    node.outputs[0].shape = broadcast_shape(x.shape[:-2], y.shape[:-2], node) + (rows, cols)
    node.adj = (adj_x, adj_y)
    if x.dtype == np.float32 and y.dtype == np.float32:
        if y.data is not None:
            node.rhs = np.ascontiguousarray(np.swapaxes(y.data, -1, -2)) if adj_y else y.data
        return eval_float
    from . import _quantized

    return _quantized.prepare_batch_matmul(node)


def eval_float(node, inputs, outputs):
    x, y = inputs[0], inputs[1]
    adj_x, adj_y = node.adj
    lhs = np.swapaxes(x, -1, -2) if adj_x else x
    rhs = getattr(node, "rhs", None)
    if rhs is None:
        rhs = np.swapaxes(y, -1, -2) if adj_y else y
    node.matmul()(lhs, rhs, out=outputs[0])
