"""SEGMENT_SUM: rows of the data summed by their segment id (int32, starting
at 0 and rising by 0 or 1 from row to row, as LiteRT requires); the output has
max(id) + 1 rows.
Data float32 or int32.  The output size depends on the ids' values."""
import numpy as np


def prepare(node):
    data, ids = node.inputs[0], node.inputs[1]
    node.expect_dtype(data, np.float32, np.int32)
    node.expect_dtype(ids, np.int32)
    if len(ids.shape) != 1 or len(data.shape) < 1 or ids.shape[0] != data.shape[0]:
        node.fail(f"segment ids must be 1-D with one id per data row, got {list(ids.shape)} for data "
                  f"{list(data.shape)}")
    values = np.asarray(node.value(1))
    _check(node, values)
    rows = int(values.max()) + 1 if values.size else 0
    node.outputs[0].shape = (rows,) + tuple(data.shape[1:])
    return eval_segment_sum


def _check(node, ids):
    steps = np.diff(ids)
    if ids.size and (ids[0] != 0 or np.any((steps != 0) & (steps != 1))):
        raise ValueError(f"{node.op_name} (node {node.index}): segment ids must start at 0 and rise by 0 or 1, "
                         f"got {ids.tolist()[:10]}")


def eval_segment_sum(node, inputs, outputs):
    data, ids = inputs
    out = outputs[0]
    out.fill(0)
    np.add.at(out, ids, data)
