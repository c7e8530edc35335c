"""float16 through the data-movement builtins against LiteRT (pure copies of
half values): CONCATENATION, PAD, TRANSPOSE, GATHER, TILE, MIRROR_PAD, UNPACK,
SELECT_V2, EMBEDDING_LOOKUP, EXPAND_DIMS, FILL, RESHAPE, SLICE,
STRIDED_SLICE, REVERSE_V2.  (LiteRT refuses float16 in PACK, SPLIT,
DEPTH_TO_SPACE and SPACE_TO_DEPTH.)"""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
H = np.float16


def T(name, shape):
    return dict(name=name, shape=shape, dtype=H)


def C(name, v):
    return dict(name=name, data=np.asarray(v))


CASES = {
    "CONCATENATION": ([T("a", [2, 3]), T("b", [2, 3])], dict(axis=1), 1),
    "PAD": ([T("x", [2, 3]), C("p", np.array([[1, 1], [0, 2]], np.int32))], {}, 1),
    "TRANSPOSE": ([T("x", [2, 3, 4]), C("p", np.array([2, 0, 1], np.int32))], {}, 1),
    "GATHER": ([T("x", [5, 3]), C("i", np.array([0, 4, 2], np.int32))], dict(axis=0), 1),
    "TILE": ([T("x", [2, 3]), C("m", np.array([2, 1], np.int32))], {}, 1),
    "MIRROR_PAD": ([T("x", [3, 4]), C("p", np.array([[1, 1], [2, 0]], np.int32))], dict(mode=0), 1),
    "UNPACK": ([T("x", [2, 3])], dict(num=2, axis=0), 2),
    "SELECT_V2": ([dict(name="c", shape=[2, 3], dtype=np.bool_), T("a", [2, 3]), T("b", [2, 3])], {}, 1),
    "EMBEDDING_LOOKUP": ([C("i", np.array([3, 0, 4], np.int32)), T("v", [5, 4])], {}, 1),
    "EXPAND_DIMS": ([T("x", [2, 3]), C("a", np.array([0], np.int32))], {}, 1),
    "FILL": ([C("d", np.array([2, 3], np.int32)), T("v", [])], {}, 1),
    "RESHAPE": ([T("x", [2, 6]), C("s", np.array([3, 4], np.int32))], {}, 1),
    "SLICE": ([T("x", [4, 5]), C("b", np.array([1, 1], np.int32)), C("s", np.array([2, 3], np.int32))], {}, 1),
    "STRIDED_SLICE": ([T("x", [4, 5]), C("b", np.array([0, 1], np.int32)), C("e", np.array([4, 5], np.int32)),
                       C("s", np.array([2, 2], np.int32))], {}, 1),
    "REVERSE_V2": ([T("x", [2, 3]), C("a", np.array([1], np.int32))], {}, 1),
}


@pytest.mark.parametrize("op", sorted(CASES))
def test_half_data_movement(op):
    ins, opts, n_out = CASES[op]
    shape = [2, 3] if op == "SLICE" else [1]       # LiteRT's SLICE checks the declared output rank
    content = single_op_model(op, ins, [T(f"y{k}", shape) for k in range(n_out)], options=opts)
    feeds = []
    for d in ins:
        if "data" in d:
            continue
        if d["dtype"] == np.bool_:
            feeds.append(rng.random(d["shape"]) < 0.5)
        else:
            feeds.append(rng.standard_normal(d["shape"]).astype(H))
    for g, w in zip(run_tinylite(content, feeds), run_litert(content, feeds)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
