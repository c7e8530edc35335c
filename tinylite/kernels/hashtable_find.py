"""HASHTABLE_FIND(handle, keys, default_value): the table's value of every
key (the output has the keys' shape), the first element of default_value
where a key is absent.  The table must have been imported."""
import numpy as np

from ._hashtable import check_handle, check_types, key, table

FOLDABLE = False


def prepare(node):
    check_handle(node, node.inputs[0])
    keys, default, out = node.inputs[1], node.inputs[2], node.outputs[0]
    if default.dtype != out.dtype:
        node.fail(f"default_value ({default.dtype.name}) and output ({out.dtype.name}) must have one type")
    check_types(node, keys, out, "output")
    if default.size == 0:
        node.fail("default_value is empty; it needs one value")
    out.shape = tuple(keys.shape)
    return eval_find


def eval_find(node, inputs, outputs):
    keys, default = inputs[1], inputs[2]
    out = outputs[0]
    t = table(node, inputs[0], keys.dtype, out.dtype)
    if not t.initialized:
        raise RuntimeError(f"HASHTABLE_FIND (node {node.index}): the table must be imported before a lookup")
    fallback = default.reshape(-1)[0]
    flat = out.reshape(-1) if out.flags.c_contiguous else None
    found = [t.items.get(key(k), fallback) for k in keys.reshape(-1)]
    if out.dtype == object:
        found = [f.encode() if isinstance(f, str) else bytes(f) for f in found]
    if flat is None:
        out[...] = np.array(found, dtype=out.dtype).reshape(out.shape)
    else:
        for i, v in enumerate(found):
            flat[i] = v
