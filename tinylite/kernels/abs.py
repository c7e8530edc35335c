"""ABS, elementwise: float32, int32 and unquantized int16 (abs of the most
negative integer wraps to itself)."""
import numpy as np

from ._quantization import prepare_quantized
from ._unary import is_quantized, same_shape


def prepare(node):
    x = same_shape(node)
    if x.dtype == np.int8 or x.dtype == np.int16 and is_quantized(x):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32, np.int16)
    return eval_abs


def eval_abs(node, inputs, outputs):
    np.abs(inputs[0], out=outputs[0])
