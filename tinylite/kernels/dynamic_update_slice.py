"""DYNAMIC_UPDATE_SLICE(operand, update, start_indices): the operand with the
update written at start_indices (int32 or int64, one per dimension), each
start clamped to [0, operand_dim - update_dim] as LiteRT (and XLA) do."""
import numpy as np

TYPES = (np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_, np.uint16, np.uint32,
         np.uint64, np.float64, np.complex64, np.complex128)


def prepare(node):
    x, upd, start = node.inputs[0], node.inputs[1], node.inputs[2]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(start, np.int32, np.int64)
    if upd.dtype != x.dtype:
        node.fail(f"update type {upd.dtype.name} differs from operand type {x.dtype.name}")
    if len(upd.shape) != len(x.shape) or any(u > d for u, d in zip(upd.shape, x.shape)):
        node.fail(f"update shape {list(upd.shape)} must have the operand's rank and fit in {list(x.shape)}")
    if tuple(start.shape) != (len(x.shape),):
        node.fail(f"start_indices must have shape [{len(x.shape)}], got {list(start.shape)}")
    node.outputs[0].shape = tuple(x.shape)
    return eval_dynamic_update_slice


def eval_dynamic_update_slice(node, inputs, outputs):
    x, upd, start = inputs
    out = outputs[0]
    out[...] = x
    begin = [int(min(max(0, s), d - u)) for s, d, u in zip(start.tolist(), x.shape, upd.shape)]
    out[tuple(slice(b, b + u) for b, u in zip(begin, upd.shape))] = upd
