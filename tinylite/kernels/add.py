"""ADD: x + y with broadcasting and a fused activation."""
import numpy as np

from ._binary import prepare_add_sub, prepare_arithmetic


# int16 here is TFLite's unquantized int16 ADD (wrapping); quantized int16 goes elsewhere.
DTYPES = (np.float32, np.float16, np.int32, np.int64, np.int16)


def prepare(node):
    return prepare_arithmetic(node, np.add, DTYPES)


def prepare_quantized(node):
    return prepare_add_sub(node)
