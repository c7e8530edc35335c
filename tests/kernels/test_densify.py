"""DENSIFY as a single op against LiteRT: a sparse constant (CSR columns, or
blocks kept whole) of each type LiteRT's kernel takes, densified."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from test_sparse import encode, pruned
from tinylite.testing import single_op_model


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
@pytest.mark.parametrize("block", [None, (2, 2), (1, 4)])
def test_densify(dtype, block):
    w = pruned((8, 12), seed=7)
    if block is not None:
        bh, bw = block
        keep = np.random.default_rng(8).random((8 // bh, 12 // bw)) < 0.5
        w = w * np.repeat(np.repeat(keep, bh, 0), bw, 1)
    w = (w * 20).astype(dtype)
    values, sparsity = encode(w, block)
    content = single_op_model("DENSIFY", [dict(name="w", data=values, shape=list(w.shape), sparsity=sparsity)],
                              [("y", list(w.shape), dtype)])
    got, _ = assert_same_outputs(content, [], rtol=0, atol=0)
    np.testing.assert_array_equal(got[0], w)
