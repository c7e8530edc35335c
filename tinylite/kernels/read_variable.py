"""READ_VARIABLE: the current value of the resource variable whose handle is
input 0; its shape is whatever was last assigned, so the op is prepared at
invoke time."""
from __future__ import annotations

import numpy as np

from ._base import handle_of, op_data, OpDataBase


@op_data
class OpData(OpDataBase):
    """What READ_VARIABLE's prepare computes for eval."""

    handle: tuple = None


FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    ip = node.runner.interpreter
    if ip is None:
        node.fail("resource variables need the Interpreter that owns the subgraphs")
    handle = handle_of(node, np.asarray(node.value(0)))
    value = ip._resources.get(handle)
    if value is None:
        node.fail(f"variable {handle[1:]} is read before any ASSIGN_VARIABLE gave it a value")
    if value.dtype != node.outputs[0].dtype:
        node.fail(f"variable {handle[1:]} holds {value.dtype.name}, the output is {node.outputs[0].dtype.name}")
    d.handle = handle
    node.outputs[0].shape = value.shape
    return eval_read


def eval_read(node, inputs, outputs):
    outputs[0][...] = node.runner.interpreter._resources[node.data.handle]
