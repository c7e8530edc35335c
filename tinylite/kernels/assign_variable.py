"""ASSIGN_VARIABLE: store input 1 (any shape) in the resource variable whose
handle is input 0."""
import numpy as np

from ._base import handle_of


FOLDABLE = False


def prepare(node):
    if node.runner.interpreter is None:
        node.fail("resource variables need the Interpreter that owns the subgraphs")
    return eval_assign


def eval_assign(node, inputs, outputs):
    resources = node.runner.interpreter._resources
    handle = handle_of(node, inputs[0])
    old = resources.get(handle)
    if old is not None and old.dtype != inputs[1].dtype:
        raise ValueError(f"variable {handle[1:]} holds {old.dtype.name}; cannot assign {inputs[1].dtype.name}")
    resources[handle] = np.array(inputs[1])
