"""LOG (natural), elementwise: -inf at 0, NaN below."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "log")


def eval_float(node, inputs, outputs):
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(inputs[0], out=outputs[0])
