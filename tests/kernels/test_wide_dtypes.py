"""The data-movement kernels on the other fixed-width types LiteRT's
byte-copying kernels move (uint16, uint32, uint64, float64), against LiteRT,
bit for bit."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(21)
WIDE = [np.uint16, np.uint32, np.uint64, np.float64]
I32 = np.int32


def val(shape, t):
    if np.dtype(t).kind == "f":
        return rng.standard_normal(shape).astype(t)
    return rng.integers(0, np.iinfo(t).max, shape, dtype=np.uint64, endpoint=True).astype(t)


def c(name, v):
    return dict(name=name, data=np.array(v, I32))


CASES = {
    "FILL": (WIDE, lambda t: ([c("d", [2, 3]), ("v", [], t)], [("y", [2, 3], t)], None, [val([], t)])),
    "TILE": (WIDE, lambda t: ([("x", [2, 3], t), c("m", [2, 1])], [("y", [4, 3], t)], None, [val([2, 3], t)])),
    "TRANSPOSE": (WIDE, lambda t: ([("x", [2, 3, 4], t), c("p", [2, 0, 1])], [("y", [4, 2, 3], t)], None,
                                   [val([2, 3, 4], t)])),
    "SLICE": (WIDE, lambda t: ([("x", [4, 3], t), c("b", [1, 0]), c("s", [2, 2])], [("y", [2, 2], t)], None,
                               [val([4, 3], t)])),
    "SQUEEZE": (WIDE, lambda t: ([("x", [2, 1, 3], t)], [("y", [2, 3], t)], None, [val([2, 1, 3], t)])),
    "EXPAND_DIMS": (WIDE, lambda t: ([("x", [2, 3], t), c("a", [0])], [("y", [1, 2, 3], t)], None,
                                     [val([2, 3], t)])),
    "MIRROR_PAD": (WIDE, lambda t: ([("x", [2, 3], t), c("p", [[1, 0], [0, 2]])], [("y", [3, 5], t)],
                                    dict(mode=1), [val([2, 3], t)])),
    "SELECT_V2": (WIDE, lambda t: ([("c", [2, 3], np.bool_), ("x", [2, 3], t), ("z", [1, 3], t)],
                                   [("y", [2, 3], t)], None,
                                   [rng.random((2, 3)) < 0.5, val([2, 3], t), val([1, 3], t)])),
    "DYNAMIC_UPDATE_SLICE": (WIDE, lambda t: ([("x", [4, 3], t), ("u", [2, 3], t), c("s", [1, 0])],
                                              [("y", [4, 3], t)], None, [val([4, 3], t), val([2, 3], t)])),
    "BATCH_TO_SPACE_ND": ([np.uint16, np.uint64, np.float64],
                          lambda t: ([("x", [4, 1, 2, 1], t), c("b", [2, 2]), c("c", [[0, 0], [0, 1]])],
                                     [("y", [1, 2, 3, 1], t)], None, [val([4, 1, 2, 1], t)])),
    "SPACE_TO_BATCH_ND": ([np.uint16, np.uint64, np.float64],
                          lambda t: ([("x", [1, 2, 3, 1], t), c("b", [2, 2]), c("p", [[0, 0], [0, 1]])],
                                     [("y", [4, 1, 2, 1], t)], None, [val([1, 2, 3, 1], t)])),
    "RESIZE_NEAREST_NEIGHBOR": ([np.uint16, np.uint32],
                                lambda t: ([("x", [1, 2, 3, 1], t), c("s", [4, 5])], [("y", [1, 4, 5, 1], t)], None,
                                           [val([1, 2, 3, 1], t)])),
    "CONCATENATION": ([np.uint32], lambda t: ([("x", [2, 3], t), ("z", [2, 2], t)], [("y", [2, 5], t)],
                                              dict(axis=1), [val([2, 3], t), val([2, 2], t)])),
    "PACK": ([np.uint32], lambda t: ([("x", [2, 3], t), ("z", [2, 3], t)], [("y", [2, 2, 3], t)],
                                     dict(values_count=2, axis=1), [val([2, 3], t), val([2, 3], t)])),
    "WHERE": ([np.uint32], lambda t: ([("x", [3, 4], t)], [("y", [1, 2], np.int64)], None,
                                      [rng.integers(0, 2, (3, 4)).astype(t)])),
}


@pytest.mark.parametrize("op,dtype", [(op, t) for op, (types, _) in CASES.items() for t in types])
def test_wide_dtypes(op, dtype):
    ins, outs, options, feeds = CASES[op][1](dtype)
    content = single_op_model(op, ins, outs, options=options)
    assert_same_outputs(content, feeds, rtol=0, atol=0)
