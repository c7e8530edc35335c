"""SPARSE_TO_DENSE(indices, output_shape, values, default_value): a tensor of
output_shape (rank <= 4) filled with default_value, with values (one per
index, or a scalar for all) at the indices (int32 or int64; a scalar, a
vector of positions for 1-D outputs, or [n, rank]).  Later duplicates win;
an index outside the shape fails the invoke.  Values float32, int8, uint8,
int32, int64."""
import numpy as np

TYPES = (np.float32, np.int8, np.uint8, np.int32, np.int64)


def prepare(node):
    idx, shape, values, default = node.inputs[:4]
    node.expect_dtype(idx, np.int32, np.int64)
    node.expect_dtype(shape, np.int32, np.int64)
    node.expect_dtype(values, *TYPES)
    if default.dtype != values.dtype or default.size != 1:
        node.fail(f"default_value must be one {values.dtype.name}, got {default.dtype.name} of shape "
                  f"{list(default.shape)}")
    if len(idx.shape) > 2 or len(values.shape) > 1 or len(shape.shape) != 1:
        node.fail(f"indices must have rank <= 2, values rank <= 1 and output_shape rank 1, got "
                  f"{list(idx.shape)}, {list(values.shape)} and {list(shape.shape)}")
    target = tuple(int(v) for v in np.asarray(node.value(1)).reshape(-1))
    if len(target) > 4:
        node.fail(f"at most 4 output dimensions are supported (as LiteRT), got {len(target)}")
    node.outputs[0].shape = target
    return eval_sparse_to_dense


def eval_sparse_to_dense(node, inputs, outputs):
    idx, _, values, default = inputs
    out = outputs[0]
    rank = out.ndim
    if idx.ndim == 0:
        coords = idx.reshape(1, 1)
    elif idx.ndim == 1:
        coords = idx.reshape(-1, 1) if rank == 1 else idx.reshape(1, -1)
    else:
        coords = idx
    coords = coords.astype(np.int64)
    out.fill(default.reshape(-1)[0])
    if coords.size == 0:
        return
    if coords.shape[1] != rank or np.any(coords < 0) or np.any(coords >= np.array(out.shape)):
        raise ValueError(f"{node.op_name} (node {node.index}): an index is out of bounds for output shape "
                         f"{list(out.shape)}")
    vals = np.broadcast_to(values.reshape(-1)[:1] if values.ndim == 0 else values.reshape(-1), (len(coords),))
    out[tuple(coords.T)] = vals
