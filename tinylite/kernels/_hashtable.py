"""What the HASHTABLE ops share: a table is a resource of the Interpreter
(shared by its subgraphs, kept across invokes, as LiteRT keeps it), named by
its table_id through a RESOURCE handle tensor.  LiteRT's tables are static:
int64 keys to STRING values or STRING keys to int64 values, filled by the
first HASHTABLE_IMPORT only (later imports change nothing), the first value
of a repeated key kept."""
import numpy as np

from ._base import handle_of

KINDS = {(np.dtype(np.int64), np.dtype(object)), (np.dtype(object), np.dtype(np.int64))}


class Table:
    def __init__(self, key_dtype, value_dtype):
        self.key_dtype, self.value_dtype = np.dtype(key_dtype), np.dtype(value_dtype)
        self.items: dict = {}
        self.initialized = False


def key(k):
    return k.encode() if isinstance(k, str) else (bytes(k) if isinstance(k, (bytes, np.bytes_)) else int(k))


def check_types(node, keys, values, what="values"):
    if (np.dtype(keys.dtype), np.dtype(values.dtype)) not in KINDS:
        node.fail(f"keys of type {_name(keys.dtype)} and {what} of type {_name(values.dtype)}: LiteRT's tables "
                  "map int64 keys to STRING values or STRING keys to int64 values")


def _name(dtype):
    return "STRING" if np.dtype(dtype) == object else np.dtype(dtype).name


def check_handle(node, spec):
    if spec.dtype != object or tuple(spec.shape) != (1,):
        node.fail(f"input 0 must be the [1] RESOURCE handle a HASHTABLE op makes, got {_name(spec.dtype)} "
                  f"{list(spec.shape)}")
    if node.runner.interpreter is None:
        node.fail("hash tables need the Interpreter that owns them")


def table(node, handle_array, keys_dtype=None, values_dtype=None):
    handle = handle_of(node, handle_array)
    t = node.runner.interpreter._resources.get(handle)
    if not isinstance(t, Table):
        raise RuntimeError(f"{node.op_name} (node {node.index}): no hash table {handle[1]} was created by a "
                           "HASHTABLE op before this one ran")
    if keys_dtype is not None and (t.key_dtype != keys_dtype or t.value_dtype != values_dtype):
        raise RuntimeError(f"{node.op_name} (node {node.index}): table {handle[1]} maps {_name(t.key_dtype)} to "
                           f"{_name(t.value_dtype)}, got {_name(keys_dtype)} and {_name(values_dtype)}")
    return t
