"""float16 TANH, LOGISTIC, SOFTMAX, GELU and ATAN2 against LiteRT (its half
kernels compute in float32 and round to half)."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("op,options", [("TANH", None), ("LOGISTIC", None), ("SOFTMAX", dict(beta=1.0)),
                                        ("SOFTMAX", dict(beta=0.7)), ("GELU", dict(approximate=False)),
                                        ("GELU", dict(approximate=True))])
def test_half_unary(op, options):
    x = (rng.standard_normal((3, 40)) * 3).astype(np.float16)
    content = single_op_model(op, [("x", [3, 40], np.float16)], [("y", [1], np.float16)], options=options)
    assert_same_outputs(content, [x], rtol=1e-3, atol=0)


def test_half_atan2():
    y, x = (rng.standard_normal((2, 30)).astype(np.float16) for _ in range(2))
    content = single_op_model("ATAN2", [("y", [2, 30], np.float16), ("x", [2, 30], np.float16)],
                              [("z", [1], np.float16)])
    assert_same_outputs(content, [y, x], rtol=1e-3, atol=0)
