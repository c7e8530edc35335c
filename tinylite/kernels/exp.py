"""EXP, elementwise."""
import numpy as np

from . import _fixedpoint as fx
from ._quantization import _prepare_lut, _unsupported
from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "exp")


def eval_float(node, inputs, outputs):
    with np.errstate(over="ignore"):
        np.exp(inputs[0], out=outputs[0])


# --- quantized ---

def prepare_quantized(node):

    x = node.inputs[0]
    if x.dtype == np.uint8:
        _unsupported(node, "uint8 EXP")
    return _prepare_lut(node, lambda v: fx.expf32(np.asarray(v, np.float32)))
