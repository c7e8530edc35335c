"""BITCAST and DILATE against LiteRT."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def exact(content, feeds):
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8))


@pytest.mark.parametrize("src,dst,shape", [(np.float32, np.int32, [2, 3]), (np.int32, np.uint8, [2, 3]),
                                           (np.uint8, np.float32, [2, 4]), (np.int16, np.float16, [5]),
                                           (np.int64, np.int16, [3]), (np.uint16, np.uint32, [3, 2])])
def test_bitcast(src, dst, shape):
    x = rng.integers(0, 255, np.prod(shape) * np.dtype(src).itemsize).astype(np.uint8).view(src).reshape(shape)
    content = single_op_model("BITCAST", [("x", shape, src)], [("y", [1], dst)])
    exact(content, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64, np.float64])
@pytest.mark.parametrize("dil", [[1, 1], [2, 3], [1, 4]])
def test_dilate(dtype, dil):
    x = rng.integers(-9, 9, (3, 4)).astype(dtype)
    content = single_op_model("DILATE", [("x", [3, 4], dtype), dict(name="d", data=np.array(dil, np.int32)),
                                         dict(name="p", shape=[], dtype=dtype)], [("y", [1], dtype)])
    exact(content, [x, np.array(7, dtype)])
