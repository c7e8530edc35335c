from __future__ import annotations

from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What VAR_HANDLE's prepare computes for eval."""

    handle: tuple = None
"""VAR_HANDLE: the handle of the resource variable named by (container,
shared_name); every subgraph naming the same variable shares it."""
FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    if node.runner.interpreter is None:
        node.fail("resource variables need the Interpreter that owns the subgraphs")
    name = (node.options.get("container") or "", node.options.get("shared_name") or "")
    # TFLite gives each unnamed handle its own variable.
    d.handle = ("variable",) + (name if any(name) else (node.runner.index, node.index))
    if node.outputs[0].dtype != object:
        node.fail(f"its output {node.outputs[0].name!r} has type {node.outputs[0].dtype.name}; a variable's handle "
                  "is a RESOURCE tensor")
    node.outputs[0].shape = tuple(node.outputs[0].shape or ())
    return eval_var_handle


def eval_var_handle(node, inputs, outputs):
    flat = outputs[0].reshape(-1)
    for k in range(flat.size):      # element-wise: a tuple assigned to a slice would be unpacked
        flat[k] = node.data.handle
