"""HASHTABLE: create (once per Interpreter) the table numbered table_id, from
key_dtype to value_dtype, and give its RESOURCE handle (shape [1])."""
from __future__ import annotations

import numpy as np

from ._hashtable import Table, check_types
from ..flatbuffer.schema import numpy_dtype
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    handle: tuple = None
    kinds: tuple = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    if node.runner.interpreter is None:
        node.fail("hash tables need the Interpreter that owns them")
    o = node.options
    keys, values = (np.dtype(numpy_dtype(int(o.get(k, 0)))) for k in ("key_dtype", "value_dtype"))
    check_types(node, np.empty(0, keys), np.empty(0, values))
    if node.outputs[0].dtype != object:
        node.fail(f"its output {node.outputs[0].name!r} has type {node.outputs[0].dtype.name}; a table's handle "
                  "is a RESOURCE tensor")
    d.handle = ("hashtable", int(o.get("table_id", 0)))
    d.kinds = (keys, values)
    node.outputs[0].shape = (1,)
    return eval_hashtable


def eval_hashtable(node, inputs, outputs):
    data = node.data
    resources = node.runner.interpreter._resources
    if not isinstance(resources.get(data.handle), Table):
        resources[data.handle] = Table(*data.kinds)
    outputs[0][0] = data.handle
