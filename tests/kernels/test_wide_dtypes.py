"""The data-movement kernels on the other fixed-width types LiteRT's
byte-copying kernels move (uint16, uint32, uint64, float64, and the 8- and
16-bit types without quantization), against LiteRT, bit for bit: the
combinations LiteRT 2.3 runs (probed op by op), where the other kernel tests
do not already cover them."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(21)
WIDE = [np.uint16, np.uint32, np.uint64, np.float64]
I32 = np.int32


def val(shape, t):
    if np.dtype(t) == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(t).kind == "f":
        return rng.standard_normal(shape).astype(t)
    info = np.iinfo(t)
    return rng.integers(info.min, info.max, shape, dtype=np.int64 if info.min < 0 else np.uint64,
                        endpoint=True).astype(t)


def c(name, v):
    return dict(name=name, data=np.array(v, I32))


CASES = {
    "FILL": (WIDE + [np.int16, np.uint8], lambda t: ([c("d", [2, 3]), ("v", [], t)], [("y", [2, 3], t)], None, [val([], t)])),
    "TILE": (WIDE + [np.uint8], lambda t: ([("x", [2, 3], t), c("m", [2, 1])], [("y", [4, 3], t)], None, [val([2, 3], t)])),
    "TRANSPOSE": (WIDE + [np.uint8], lambda t: ([("x", [2, 3, 4], t), c("p", [2, 0, 1])], [("y", [4, 2, 3], t)], None,
                                   [val([2, 3, 4], t)])),
    "SLICE": (WIDE + [np.uint8], lambda t: ([("x", [4, 3], t), c("b", [1, 0]), c("s", [2, 2])], [("y", [2, 2], t)], None,
                               [val([4, 3], t)])),
    "SQUEEZE": (WIDE + [np.float16], lambda t: ([("x", [2, 1, 3], t)], [("y", [2, 3], t)], None, [val([2, 1, 3], t)])),
    "EXPAND_DIMS": (WIDE + [np.uint8], lambda t: ([("x", [2, 3], t), c("a", [0])], [("y", [1, 2, 3], t)], None,
                                     [val([2, 3], t)])),
    "MIRROR_PAD": (WIDE + [np.uint8], lambda t: ([("x", [2, 3], t), c("p", [[1, 0], [0, 2]])], [("y", [3, 5], t)],
                                    dict(mode=1), [val([2, 3], t)])),
    "SELECT_V2": (WIDE + [np.int64, np.uint8], lambda t: ([("c", [2, 3], np.bool_), ("x", [2, 3], t), ("z", [1, 3], t)],
                                   [("y", [2, 3], t)], None,
                                   [rng.random((2, 3)) < 0.5, val([2, 3], t), val([1, 3], t)])),
    "DYNAMIC_UPDATE_SLICE": (WIDE, lambda t: ([("x", [4, 3], t), ("u", [2, 3], t), c("s", [1, 0])],
                                              [("y", [4, 3], t)], None, [val([4, 3], t), val([2, 3], t)])),
    "BATCH_TO_SPACE_ND": ([np.uint16, np.uint32, np.uint64, np.float64, np.float16],
                          lambda t: ([("x", [4, 1, 2, 1], t), c("b", [2, 2]), c("c", [[0, 0], [0, 1]])],
                                     [("y", [1, 2, 3, 1], t)], None, [val([4, 1, 2, 1], t)])),
    "SPACE_TO_BATCH_ND": ([np.uint16, np.uint32, np.uint64, np.float64, np.float16],
                          lambda t: ([("x", [1, 2, 3, 1], t), c("b", [2, 2]), c("p", [[0, 0], [0, 1]])],
                                     [("y", [4, 1, 2, 1], t)], None, [val([1, 2, 3, 1], t)])),
    "RESIZE_NEAREST_NEIGHBOR": ([np.uint16, np.uint32],
                                lambda t: ([("x", [1, 2, 3, 1], t), c("s", [4, 5])], [("y", [1, 4, 5, 1], t)], None,
                                           [val([1, 2, 3, 1], t)])),
    "CONCATENATION": ([np.uint32], lambda t: ([("x", [2, 3], t), ("z", [2, 2], t)], [("y", [2, 5], t)],
                                              dict(axis=1), [val([2, 3], t), val([2, 2], t)])),
    "PACK": ([np.uint32, np.uint8], lambda t: ([("x", [2, 3], t), ("z", [2, 3], t)], [("y", [2, 2, 3], t)],
                                     dict(values_count=2, axis=1), [val([2, 3], t), val([2, 3], t)])),
    "WHERE": ([np.uint32, np.int64, np.int8, np.uint8], lambda t: ([("x", [3, 4], t)], [("y", [1, 2], np.int64)], None,
                                      [rng.integers(0, 2, (3, 4)).astype(t)])),
    "EQUAL": ([np.float16], lambda t: ([("x", [2, 3], t), ("z", [2, 3], t)], [("y", [2, 3], np.bool_)], None,
                                       [val([2, 3], t), val([2, 3], t)])),
    "LESS": ([np.float16], lambda t: ([("x", [2, 3], t), ("z", [2, 3], t)], [("y", [2, 3], np.bool_)], None,
                                      [val([2, 3], t), val([2, 3], t)])),
    "GATHER": ([np.int16], lambda t: ([("x", [4, 3], t), ("i", [2], I32)], [("y", [2, 3], t)], None,
                                      [val([4, 3], t), np.array([3, 1], I32)])),
    "ONE_HOT": ([np.uint8], lambda t: ([("i", [3], I32), c("d", 4), dict(name="on", data=np.array(7, t)),
                                        dict(name="off", data=np.array(2, t))], [("y", [3, 4], t)], dict(axis=-1),
                                       [np.array([0, 2, 5], I32)])),
    "RANK": ([np.bool_, np.float16, np.float64, np.int16, np.int64, np.int8, np.uint16, np.uint32, np.uint64,
              np.uint8], lambda t: ([("x", [2, 3], t)], [("y", [], I32)], None, [val([2, 3], t)])),
    "RESHAPE": (WIDE + [np.uint8], lambda t: ([("x", [2, 3], t), c("s", [3, 2])], [("y", [3, 2], t)], None,
                                              [val([2, 3], t)])),
    "REVERSE_V2": ([np.int64, np.uint8], lambda t: ([("x", [2, 3], t), c("a", [1])], [("y", [2, 3], t)], None,
                                                    [val([2, 3], t)])),
    "SPLIT": ([np.int16, np.int64, np.int8, np.uint8],
              lambda t: ([c("a", 0), ("x", [4, 3], t)], [("y", [2, 3], t), ("z", [2, 3], t)], dict(num_splits=2),
                         [val([4, 3], t)])),
    "SPLIT_V": ([np.uint8], lambda t: ([("x", [3, 2], t), c("s", [1, 2]), c("a", 0)],
                                       [("y", [1, 2], t), ("z", [2, 2], t)], dict(num_splits=2), [val([3, 2], t)])),
    "STRIDED_SLICE": (WIDE + [np.uint8], lambda t: ([("x", [4, 3], t), c("b", [0, 0]), c("e", [4, 3]),
                                                     c("s", [2, 1])], [("y", [2, 3], t)], None, [val([4, 3], t)])),
    "UNPACK": ([np.uint8], lambda t: ([("x", [2, 3], t)], [("y", [3], t), ("z", [3], t)], dict(num=2, axis=0),
                                      [val([2, 3], t)])),
}


@pytest.mark.parametrize("op,dtype", [(op, t) for op, (types, _) in CASES.items() for t in types])
def test_wide_dtypes(op, dtype):
    ins, outs, options, feeds = CASES[op][1](dtype)
    content = single_op_model(op, ins, outs, options=options)
    assert_same_outputs(content, feeds, rtol=0, atol=0)
