"""STABLEHLO_CASE against LiteRT: each branch taken by its index, indices out
of range (LiteRT takes the last branch), branches of different output shapes,
and one branch."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(4)
F = np.float32
BRANCHES = [
    ("ADD", [("a", [2, 3], F), ("b", [2, 3], F)], [("c", [2, 3], F)], dict(fused_activation_function="NONE")),
    ("MUL", [("a", [2, 3], F), ("b", [2, 3], F)], [("c", [2, 3], F)], dict(fused_activation_function="RELU")),
    ("MAXIMUM", [("a", [2, 3], F), ("b", [2, 3], F)], [("c", [2, 3], F)], None),
]


def case_model(branches, dtype=F, out_shape=(2, 3)):
    indices = np.arange(1, len(branches) + 1, dtype=np.int32)
    return single_op_model("STABLEHLO_CASE", [("index", [1], np.int32), ("x", [2, 3], dtype), ("y", [2, 3], dtype)],
                           [("z", list(out_shape), dtype)], options=dict(branch_subgraph_indices=indices),
                           bodies=branches)


@pytest.mark.parametrize("index", [0, 1, 2, 3, -1, 100])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_stablehlo_case(index, count):
    content = case_model(BRANCHES[:count])
    x, y = rng.standard_normal((2, 3)).astype(F), rng.standard_normal((2, 3)).astype(F)
    assert_same_outputs(content, [np.array([index], np.int32), x, y], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.int64])
@pytest.mark.parametrize("index", [0, 1, 5])
def test_stablehlo_case_integer_branches(dtype, index):
    branches = [(op, [("a", [2, 3], dtype), ("b", [2, 3], dtype)], [("c", [2, 3], dtype)], None)
                for op in ("STABLEHLO_ADD", "STABLEHLO_MULTIPLY")]
    content = case_model(branches, dtype)
    x, y = (rng.integers(-9, 9, (2, 3)).astype(dtype) for _ in range(2))
    assert_same_outputs(content, [np.array([index], np.int32), x, y], rtol=0, atol=0)


@pytest.mark.parametrize("index", [0, 1, 7])
def test_stablehlo_case_branches_of_different_shapes(index):
    # Branch 1 adds; branch 2 concatenates the two inputs along dim 0, a [4, 3] result.
    branches = [BRANCHES[0],
                ("CONCATENATION", [("a", [2, 3], F), ("b", [2, 3], F)], [("c", [4, 3], F)],
                 dict(axis=0, fused_activation_function="NONE"))]
    content = case_model(branches)
    x, y = rng.standard_normal((2, 3)).astype(F), rng.standard_normal((2, 3)).astype(F)
    assert_same_outputs(content, [np.array([index], np.int32), x, y], rtol=0, atol=0)
