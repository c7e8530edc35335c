"""An op tinylite cannot run fails at allocate_tensors with a message naming the
op, the node's input types and whether LiteRT's builtin resolver has the op."""
import numpy as np
import pytest

import tinylite
from tinylite.errors import UnsupportedOpError
from tinylite.testing import single_op_model


def test_quantized_variant_not_run_names_types_and_litert():
    # Hybrid TRANSPOSE_CONV (float input, int8 weights) is a variant tinylite does not run yet.
    w = np.ones((2, 3, 3, 1), np.int8)
    content = single_op_model("TRANSPOSE_CONV", [dict(name="s", data=np.array([1, 4, 4, 2], np.int32)),
                                                 dict(name="w", data=w, quantization=(0.1, 0)),
                                                 ("x", [1, 4, 4, 1])],
                              [("y", [1, 4, 4, 2])], options=dict(padding="SAME", stride_w=1, stride_h=1))
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError) as e:
        ip.allocate_tensors()
    msg = str(e.value)
    assert "TRANSPOSE_CONV with input types (int32, int8, float32)" in msg
    assert "LiteRT 2.3's builtin resolver registers this op" in msg


def test_missing_builtin_names_types_and_litert():
    # MULTINOMIAL is left out on purpose (docs/ops.md says why).
    content = single_op_model("MULTINOMIAL", [("x", [1, 4]), dict(name="n", data=np.array(3, np.int32))],
                              [("y", [1], np.int64)])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError, match=r"MULTINOMIAL with input types \(float32, int32\); LiteRT 2.3"):
        ip.allocate_tensors()
