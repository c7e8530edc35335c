"""EMBEDDING_LOOKUP: rows of the table (input 1) picked by the int32 ids of
input 0; an int8/uint8 table with a float output is dequantized by its scale
(per row when it has one scale per row), as TFLite's hybrid path does."""
from __future__ import annotations

import numpy as np

from . import _layout
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What EMBEDDING_LOOKUP's prepare computes for eval."""

    scale: np.float32 | np.ndarray | None = None


def prepare(node):
    d = node.draft(OpData)
    ids, table, out = node.inputs[0], node.inputs[1], node.outputs[0]
    node.expect_dtype(ids, np.int32)
    if len(ids.shape) != 1:
        node.fail(f"the lookup ids must be 1-D, got shape {list(ids.shape)}")
    if len(table.shape) < 2:
        node.fail(f"the table must be at least 2-D, got shape {list(table.shape)}")
    out.shape = (ids.shape[0],) + tuple(table.shape[1:])
    d.scale = None
    if out.dtype == np.float32 and table.dtype in (np.int8, np.uint8):
        if not _layout.is_quantized(table):
            node.fail(f"the {table.dtype.name} table has no scale to dequantize it with")
        scales = np.asarray(table.quantization.scale, np.float32)
        d.scale = scales.reshape(-1, *([1] * (len(table.shape) - 1))) if len(scales) > 1 else scales[0]
        return eval_lookup
    _layout.movable(node, [table], dtypes=(np.float32, np.float16, np.int32, np.int64, np.int8, np.uint8, np.int16,
                                          np.bool_))
    return eval_lookup


def eval_lookup(node, inputs, outputs):
    data = node.data
    ids, table = inputs
    n = table.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise ValueError(f"Embedding Lookup: index out of bounds: ids must be in [0, {n}), got "
                         f"{int(ids.min())}..{int(ids.max())}")
    rows = table[ids]
    if data.scale is None:
        outputs[0][...] = rows
    else:
        scale = data.scale if np.ndim(data.scale) == 0 else data.scale[ids]
        np.multiply(rows.astype(np.float32), scale, out=outputs[0])
