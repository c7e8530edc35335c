"""int16 (quantized, zero point 0, and plain) through the data-movement and
comparison kernels whose type switches in LiteRT take int16: outputs bit-exact
with LiteRT's.  (LiteRT 2.3 refuses int16 in ARG_MAX/ARG_MIN, DEPTH_TO_SPACE and
SPACE_TO_DEPTH, HARD_SWISH and SQUARED_DIFFERENCE.)"""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(16)
Q = (0.25, 0)


def T(name, shape, quant=Q):
    return dict(name=name, shape=list(shape), dtype=np.int16, quantization=quant)


def C(name, value, dtype=np.int32):
    return dict(name=name, data=np.asarray(value, dtype))


def O(name="y", dtype=np.int16, quant=Q):
    return dict(name=name, shape=[1], dtype=dtype, quantization=quant if dtype == np.int16 else None)


CASES = {
    "RESHAPE": ([T("x", [2, 6]), C("s", [3, 4])], [O()], {}),
    "TRANSPOSE": ([T("x", [2, 3, 4]), C("p", [2, 0, 1])], [O()], {}),
    "SLICE": ([T("x", [3, 4]), C("b", [1, 0]), C("s", [2, 3])], [dict(O(), shape=[2, 3])], {}),
    "STRIDED_SLICE": ([T("x", [4, 6]), C("b", [0, 1]), C("e", [4, 6]), C("s", [2, 2])], [O()], {}),
    "TILE": ([T("x", [2, 3]), C("m", [2, 1])], [O()], {}),
    "SPLIT": ([C("a", 1), T("x", [2, 6])], [O("y0"), O("y1")], dict(num_splits=2)),
    "SPLIT_V": ([T("x", [2, 6]), C("s", [2, 4]), C("a", 1)], [O("y0"), O("y1")], dict(num_splits=2)),
    "PACK": ([T("x", [2, 3]), T("z", [2, 3])], [O()], dict(values_count=2, axis=1)),
    "UNPACK": ([T("x", [2, 3])], [O("y0"), O("y1")], dict(num=2, axis=0)),
    "EXPAND_DIMS": ([T("x", [2, 3]), C("a", [1])], [O()], {}),
    "REVERSE_V2": ([T("x", [2, 3, 4]), C("a", [1])], [O()], {}),
    "SELECT_V2": ([dict(name="c", shape=[2, 3], dtype=np.bool_), T("x", [2, 3]), T("z", [2, 3])], [O()], {}),
    "SELECT": ([dict(name="c", shape=[2, 3], dtype=np.bool_), T("x", [2, 3]), T("z", [2, 3])], [O()], {}),
    "EQUAL": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "NOT_EQUAL": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "GREATER": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "GREATER_EQUAL": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "LESS": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "LESS_EQUAL": ([T("x", [2, 3]), T("z", [2, 3])], [O(dtype=np.bool_)], {}),
    "MIRROR_PAD": ([T("x", [3, 4]), C("p", [[1, 1], [2, 0]])], [O()], dict(mode=0)),
}


def feeds_for(inputs):
    out = []
    for d in inputs:
        if "data" in d:
            continue
        if d["dtype"] == np.bool_:
            out.append(rng.random(d["shape"]) < 0.5)
        else:
            # Small range so that the comparisons and ARG_MAX/MIN see equal values too.
            out.append(rng.integers(-40, 40, d["shape"]).astype(np.int16) * 800)
    return out


# LiteRT 2.3's NOT_EQUAL on unquantized int16 answers pairs it was not given (measured:
# x=[0, 800, ..., 100, 5] != z=[0, 800, ..., 101, 5] gives [1, 1, ..., 0, 0]); tinylite
# compares the values, and that case is left out rather than imitated.
@pytest.mark.parametrize("op,quantized", [(op, q) for op in sorted(CASES) for q in (True, False)
                                          if (op, q) != ("NOT_EQUAL", False)])
def test_int16_variant_matches_litert(op, quantized):
    inputs, outputs, options = CASES[op]
    if not quantized:
        inputs = [dict(d, quantization=None) if d.get("dtype") == np.int16 else d for d in inputs]
        outputs = [dict(d, quantization=None) for d in outputs]
    content = single_op_model(op, inputs, outputs, options=options)
    feeds = feeds_for(inputs)
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
