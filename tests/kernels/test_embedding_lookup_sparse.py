"""EMBEDDING_LOOKUP_SPARSE against LiteRT: SUM, MEAN and SQRTN combiners."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("combiner", [0, 1, 2])
@pytest.mark.parametrize("dense,indices", [([3, 4], [[0, 0], [0, 2], [1, 1], [2, 0], [2, 3]]),
                                           ([2, 2, 5], [[0, 0, 0], [0, 1, 1], [0, 1, 2], [1, 0, 0], [1, 1, 4]])])
def test_embedding_lookup_sparse(combiner, dense, indices):
    n = len(indices)
    value = rng.standard_normal((6, 3, 2)).astype(np.float32)
    ids = rng.integers(0, 6, n).astype(np.int32)
    weights = (rng.random(n) + 0.5).astype(np.float32)
    content = single_op_model("EMBEDDING_LOOKUP_SPARSE", [
        ("ids", [n], np.int32), dict(name="idx", data=np.array(indices, np.int32)),
        dict(name="shape", data=np.array(dense, np.int32)), ("w", [n]), dict(name="v", data=value)],
        [("y", [1])], options=dict(combiner=combiner))
    assert_same_outputs(content, [ids, weights], rtol=1e-6)
