"""HASHTABLE_LOOKUP(lookup int32 [n], keys int32 [k], values [k, ...]): for
every lookup id, the values row of the matching key (found by C's bsearch
over the keys, which LiteRT expects sorted, comparing by int32 subtraction
that wraps as LiteRT's does), and hits (uint8) 1; a missing id gives a zero
row (an empty string for STRING values) and hits 0."""
import numpy as np



def prepare(node):
    lookup, keys, values = node.inputs[0], node.inputs[1], node.inputs[2]
    out, hits = node.outputs[0], node.outputs[1]
    node.expect_dtype(lookup, np.int32)
    node.expect_dtype(keys, np.int32)
    node.expect_dtype(hits, np.uint8)
    if len(lookup.shape) != 1 or len(keys.shape) != 1:
        node.fail(f"lookup {list(lookup.shape)} and keys {list(keys.shape)} must be 1-D")
    if len(values.shape) < 1 or values.shape[0] != keys.shape[0]:
        node.fail(f"values {list(values.shape)} need one row per key ({keys.shape[0]})")
    if values.dtype == object and len(values.shape) != 1:
        node.fail(f"STRING values must be 1-D, got {list(values.shape)}")
    if out.dtype != values.dtype:
        node.fail(f"the output ({out.dtype.name}) must have the values' type ({values.dtype.name})")
    if keys.shape[0] == 0:
        node.fail("keys and values are empty; LiteRT needs at least one row")
    out.shape = (lookup.shape[0],) + tuple(values.shape[1:])
    hits.shape = (lookup.shape[0],)
    return eval_lookup


def _wrap32(v):
    return (v + 2**31) % 2**32 - 2**31


def _bsearch(key, keys):
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        c = _wrap32(key - keys[mid])
        if c < 0:
            hi = mid
        elif c > 0:
            lo = mid + 1
        else:
            return mid
    return -1


def eval_lookup(node, inputs, outputs):
    lookup, keys, values = inputs
    out, hits = outputs
    key_list = [int(k) for k in keys]
    for i, k in enumerate(lookup.tolist()):
        j = _bsearch(int(k), key_list)
        hits[i] = j >= 0
        if out.dtype == object:
            out[i] = values[j] if j >= 0 else b""
        else:
            out[i] = values[j] if j >= 0 else 0


