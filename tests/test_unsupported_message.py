"""An op tinylite cannot run fails at allocate_tensors with a message naming the
op, the node's input types and whether LiteRT's builtin resolver has the op."""
import numpy as np
import pytest

import tinylite
from tinylite.errors import UnsupportedOpError
from tinylite.testing import single_op_model


def test_quantized_variant_not_run_names_types_and_litert():
    content = single_op_model("REDUCE_PROD", [dict(name="x", shape=[4], dtype=np.int8, quantization=(0.1, 0)),
                                              dict(name="a", data=np.array([0], np.int32))],
                              [dict(name="y", shape=[1], dtype=np.int8, quantization=(0.1, 0))])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError) as e:
        ip.allocate_tensors()
    msg = str(e.value)
    assert "REDUCE_PROD with input types (int8, int32)" in msg
    assert "LiteRT 2.3's builtin resolver registers this op" in msg


def test_missing_builtin_names_types_and_litert():
    # MULTINOMIAL is left out on purpose (docs/ops.md says why).
    content = single_op_model("MULTINOMIAL", [("x", [1, 4]), dict(name="n", data=np.array(3, np.int32))],
                              [("y", [1], np.int64)])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError, match=r"MULTINOMIAL with input types \(float32, int32\); LiteRT 2.3"):
        ip.allocate_tensors()
