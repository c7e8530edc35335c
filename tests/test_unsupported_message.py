"""An op tinylite cannot run fails at allocate_tensors with a message naming the
op, the node's input types and whether LiteRT's builtin resolver has the op."""
import numpy as np
import pytest

import tinylite
from tinylite.errors import UnsupportedOpError
from oracle import litert_interpreter
from tinylite.testing import single_op_model


def test_quantized_variant_not_run_names_types_and_litert():
    # BATCH_MATMUL on uint8 is a variant of an op LiteRT registers that neither LiteRT's kernel
    # (it takes float32, int8 and int16) nor tinylite runs.
    q = (0.1, 128)
    content = single_op_model("BATCH_MATMUL", [dict(name="x", shape=[1, 2, 4], dtype=np.uint8, quantization=q),
                                               dict(name="y", shape=[1, 4, 3], dtype=np.uint8, quantization=q)],
                              [dict(name="z", shape=[1, 2, 3], dtype=np.uint8, quantization=(0.5, 0))])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError) as e:
        ip.allocate_tensors()
    msg = str(e.value)
    assert "uint8 inputs" in msg
    assert "BATCH_MATMUL with input types (uint8, uint8)" in msg
    assert "LiteRT 2.3's builtin resolver registers this op" in msg
    # ... and LiteRT indeed refuses this variant, so the example stays one to refuse.
    with pytest.raises((RuntimeError, ValueError)):
        litert_interpreter(content).allocate_tensors()


def test_missing_builtin_names_types_and_litert():
    # STABLEHLO_COSINE is in the schema, but neither LiteRT's builtin resolver nor tinylite runs it.
    content = single_op_model("STABLEHLO_COSINE", [("x", [1, 4])], [("y", [1, 4])])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError, match=r"STABLEHLO_COSINE with input types \(float32\); LiteRT's builtin "
                                                 r"resolver does not run it either"):
        ip.allocate_tensors()
