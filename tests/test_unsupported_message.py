"""An op tinylite cannot run fails at allocate_tensors with a message naming the
op, the node's input types and whether LiteRT's builtin resolver has the op."""
import numpy as np
import pytest

import tinylite
from tinylite.errors import UnsupportedOpError
from tinylite.testing import single_op_model


def test_quantized_variant_not_run_names_types_and_litert():
    # FULLY_CONNECTED with shuffled uint8 weights (LiteRT's SHUFFLED4x16INT8 format, int16 output) is a
    # variant tinylite does not run.
    w = np.full((4, 16), 128, np.uint8)
    content = single_op_model("FULLY_CONNECTED", [dict(name="x", shape=[1, 16], dtype=np.uint8, quantization=(0.1, 128)),
                                                  dict(name="w", data=w, quantization=(0.1, 128)), None],
                              [dict(name="y", shape=[1, 4], dtype=np.int16, quantization=(0.5, 0))],
                              options=dict(weights_format=1))
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError) as e:
        ip.allocate_tensors()
    msg = str(e.value)
    assert "shuffled weights" in msg
    assert "FULLY_CONNECTED with input types (uint8, uint8, -)" in msg
    assert "LiteRT 2.3's builtin resolver registers this op" in msg


def test_missing_builtin_names_types_and_litert():
    # STABLEHLO_COSINE is in the schema, but neither LiteRT's builtin resolver nor tinylite runs it.
    content = single_op_model("STABLEHLO_COSINE", [("x", [1, 4])], [("y", [1, 4])])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError, match=r"STABLEHLO_COSINE with input types \(float32\); LiteRT's builtin "
                                                 r"resolver does not run it either"):
        ip.allocate_tensors()
