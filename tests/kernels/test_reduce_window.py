"""REDUCE_WINDOW against LiteRT: each reduce function, strides and dilations."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
FN = {"ADD": 1, "MUL": 2, "MINIMUM": 3, "MAXIMUM": 4, "ALL": 5, "ANY": 6}


@pytest.mark.parametrize("fn,dtype", [("ADD", np.float32), ("ADD", np.int32), ("MUL", np.float32), ("MUL", np.int64),
                                      ("MINIMUM", np.float32), ("MAXIMUM", np.int8), ("MAXIMUM", np.float32),
                                      ("ALL", np.bool_), ("ANY", np.bool_)])
@pytest.mark.parametrize("window,strides,dil", [([2, 2], [1, 1], [1, 1]), ([3, 2], [2, 1], [1, 2]), ([1, 4], [1, 3], [1, 1])])
def test_reduce_window(fn, dtype, window, strides, dil):
    if dtype == np.bool_:
        x = rng.random((6, 9)) < 0.7
        init = np.array(fn == "ALL")
    elif np.dtype(dtype).kind == "f":
        x = (rng.random((6, 9)) + 0.5).astype(dtype)
        init = np.array(1 if fn == "MUL" else 0, dtype)
    else:
        x = rng.integers(-3, 4, (6, 9)).astype(dtype)
        init = np.array(1 if fn == "MUL" else 0, dtype)
    content = single_op_model("REDUCE_WINDOW", [("x", [6, 9], dtype), dict(name="i", shape=[], dtype=dtype),
                                                dict(name="w", data=np.array(window, np.int64)),
                                                dict(name="s", data=np.array(strides, np.int64)),
                                                dict(name="d", data=np.array(dil, np.int64))],
                              [("y", [1], dtype)], options=dict(reduce_function=FN[fn]))
    assert_same_outputs(content, [x, init], rtol=1e-6)
