"""SCATTER_ND(indices, updates, shape): a zero tensor of `shape` with the
updates added at the positions indices' last dimension names (duplicates add
up; for bool they are or-ed).  Indices int32 (LiteRT refuses int64); updates float32,
int8, uint8, int32, int64, bool.  An index outside the shape fails the invoke."""
import numpy as np

TYPES = (np.float32, np.int8, np.uint8, np.int32, np.int64, np.bool_)


def prepare(node):
    indices, updates, shape = node.inputs[0], node.inputs[1], node.inputs[2]
    node.expect_dtype(indices, np.int32)
    node.expect_dtype(updates, *TYPES)
    node.expect_dtype(shape, np.int32)
    if shape.dtype != indices.dtype:
        node.fail(f"shape ({shape.dtype.name}) and indices ({indices.dtype.name}) need one type")
    target = tuple(int(v) for v in np.asarray(node.value(2)).reshape(-1))
    k = indices.shape[-1] if len(indices.shape) else 0
    if k > len(target):
        node.fail(f"index depth {k} exceeds the output rank {len(target)}")
    want = tuple(indices.shape[:-1]) + target[k:]
    if tuple(updates.shape) != want:
        node.fail(f"updates have shape {list(updates.shape)}, expected {list(want)} for indices "
                  f"{list(indices.shape)} and shape {list(target)}")
    node.outputs[0].shape = target
    return eval_scatter_nd


def eval_scatter_nd(node, inputs, outputs):
    indices, updates = inputs[0], inputs[1]
    out = outputs[0]
    k = indices.shape[-1]
    flat = indices.reshape(-1, k).astype(np.int64)
    dims = np.array(out.shape[:k], np.int64)
    if flat.size and (np.any(flat < 0) or np.any(flat >= dims)):
        raise ValueError(f"{node.op_name} (node {node.index}): an index is out of bounds for shape {list(out.shape)}")
    out.fill(0)
    rows = updates.reshape(len(flat), *out.shape[k:])
    if out.dtype == np.bool_:
        np.logical_or.at(out, tuple(flat.T), rows)
    else:
        np.add.at(out, tuple(flat.T), rows)
