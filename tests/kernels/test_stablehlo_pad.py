"""STABLEHLO_PAD against LiteRT: edge (also negative) and interior padding."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int32, np.int64, np.float16, np.uint8])
@pytest.mark.parametrize("lo,hi,interior", [([1, 0], [0, 2], [0, 0]), ([0, 1], [1, 0], [1, 2]),
                                            ([-1, 2], [1, -2], [1, 0]), ([0, 0], [0, 0], [0, 0])])
def test_stablehlo_pad(dtype, lo, hi, interior):
    x = rng.integers(-9, 9, (3, 4)).astype(dtype)
    content = single_op_model("STABLEHLO_PAD", [("x", [3, 4], dtype), dict(name="p", shape=[], dtype=dtype)],
                              [("y", [1], dtype)], options=dict(
                                  edge_padding_low=np.array(lo, np.int64), edge_padding_high=np.array(hi, np.int64),
                                  interior_padding=np.array(interior, np.int64)))
    got, want = run_tinylite(content, [x, np.array(5, dtype)]), run_litert(content, [x, np.array(5, dtype)])
    assert got[0].shape == want[0].shape
    np.testing.assert_array_equal(got[0], want[0])
