"""HASHTABLE_IMPORT(handle, keys, values): fill the table with keys[i] ->
values[i] (same shape), the first time only, as LiteRT's static tables do."""
from ._hashtable import check_handle, check_types, key, table

FOLDABLE = False


def prepare(node):
    check_handle(node, node.inputs[0])
    keys, values = node.inputs[1], node.inputs[2]
    check_types(node, keys, values)
    if tuple(keys.shape) != tuple(values.shape):
        node.fail(f"keys {list(keys.shape)} and values {list(values.shape)} must have one shape")
    return eval_import


def eval_import(node, inputs, outputs):
    t = table(node, inputs[0], inputs[1].dtype, inputs[2].dtype)
    if t.initialized:
        return
    for k, v in zip(inputs[1].reshape(-1), inputs[2].reshape(-1)):
        t.items.setdefault(key(k), v)
    t.initialized = True
