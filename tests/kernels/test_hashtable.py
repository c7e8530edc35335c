"""HASHTABLE, HASHTABLE_IMPORT, HASHTABLE_FIND and HASHTABLE_SIZE against
LiteRT: both key/value kinds LiteRT's static tables take, missing keys,
repeated keys in the import (the first value wins), a second import that
changes nothing, and tables that live across invokes."""
import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter
from tinylite.testing import graph_model, single_op_model

rng = np.random.default_rng(9)
S = np.bytes_
INT64, STRING = 4, 5


def strings(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def table_model(string_keys, keys, values, second_import=None):
    key_type, value_type = (S, np.int64) if string_keys else (np.int64, S)
    default = strings([b"<none>"]) if not string_keys else np.array([-1], np.int64)
    tensors = [dict(name="h", shape=[1], dtype="resource"), dict(name="keys", data=keys),
               dict(name="values", data=values), ("q", [3, 2], key_type), dict(name="default", data=default),
               ("found", [3, 2], value_type), ("size", [1], np.int64)]
    ops = [("HASHTABLE", [], ["h"], dict(table_id=7, key_dtype=STRING if string_keys else INT64,
                                          value_dtype=INT64 if string_keys else STRING)),
           ("HASHTABLE_IMPORT", ["h", "keys", "values"], [], None)]
    if second_import is not None:
        tensors += [dict(name="keys2", data=second_import[0]), dict(name="values2", data=second_import[1])]
        ops.append(("HASHTABLE_IMPORT", ["h", "keys2", "values2"], [], None))
    ops += [("HASHTABLE_FIND", ["h", "q", "default"], ["found"], None), ("HASHTABLE_SIZE", ["h"], ["size"], None)]
    return graph_model(tensors, ops, ["found", "size"])


def run(ip, feeds):
    ip.allocate_tensors()
    results = []
    for q in feeds:                 # several invokes: the table persists
        ip.set_tensor(ip.get_input_details()[0]["index"], q)
        ip.invoke()
        results.append([ip.get_tensor(d["index"]).tolist() for d in ip.get_output_details()])
    return results


def assert_same(content, feeds):
    got = run(tinylite.Interpreter(model_content=content), feeds)
    want = run(litert_interpreter(content), feeds)
    assert got == want


WORDS = [b"apple", b"", b"pear", "é".encode(), b"a\x00b", b"plum"]


@pytest.mark.parametrize("twice", [False, True])
def test_string_keys(twice):
    keys = strings(WORDS + [b"pear"])                       # a repeated key: its first value stays
    values = np.array([10, 20, 30, 40, 50, 60, 99], np.int64)
    second = (strings([b"kiwi"]), np.array([5], np.int64)) if twice else None
    content = table_model(True, keys, values, second)
    feeds = [strings([WORDS[k] if k < len(WORDS) else b"missing" for k in rng.integers(0, 8, 6)]).reshape(3, 2)
             for _ in range(3)] + [strings([b"kiwi"] * 6).reshape(3, 2)]
    assert_same(content, feeds)


@pytest.mark.parametrize("twice", [False, True])
def test_int64_keys(twice):
    keys = np.array([3, -1, 2**40, 7, 3], np.int64)
    values = strings([b"three", b"minus one", b"big", b"", b"again"])
    second = (np.array([8], np.int64), strings([b"eight"])) if twice else None
    content = table_model(False, keys, values, second)
    feeds = [np.array([3, -1, 2**40, 7, 0, 8], np.int64).reshape(3, 2),
             rng.integers(-2, 9, (3, 2)).astype(np.int64)]
    assert_same(content, feeds)


@pytest.mark.parametrize("dtype,row", [(np.float32, [3]), (np.int32, []), (np.uint8, [2, 2]), (np.int64, [1]),
                                       (np.int8, [4]), (np.int16, []), (np.float16, [2]), (np.bool_, [3]), (S, [])])
@pytest.mark.parametrize("sorted_keys", [True, False])
def test_hashtable_lookup(dtype, row, sorted_keys):
    keys = np.array([-2**31 + 5, -7, 0, 3, 9, 2**31 - 3], np.int32)   # differences that wrap in int32
    if not sorted_keys:
        keys = keys[[3, 0, 5, 1, 4, 2]]
    if dtype == S:
        values = strings([b"a", b"", b"ccc", "é".encode(), b"e\x00", b"f"])
    elif dtype == np.bool_:
        values = rng.random([6] + row) < 0.5
    else:
        values = (rng.standard_normal([6] + row) * 10).astype(dtype)
    lookup = np.array([0, 3, -7, 4, 2**31 - 3, -2**31 + 5, 9, 1], np.int32)
    content = single_op_model("HASHTABLE_LOOKUP", [("lookup", [8], np.int32), dict(name="keys", data=keys),
                                                   dict(name="values", data=values)],
                              [("out", [8] + row, dtype), ("hits", [8], np.uint8)])
    got = run(tinylite.Interpreter(model_content=content), [lookup])
    want = run(litert_interpreter(content), [lookup])
    assert got == want
