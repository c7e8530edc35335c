"""RSQRT: 1 / sqrt(x), elementwise (inf at 0, NaN for negative inputs)."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "rsqrt")


def eval_float(node, inputs, outputs):
    out = outputs[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        np.sqrt(inputs[0], out=out)
        np.divide(np.float32(1), out, out=out)
