"""SQRT, elementwise: NaN for negative inputs."""
import numpy as np

from ._unary import prepare_float_unary


def prepare(node):
    return prepare_float_unary(node, eval_float, "sqrt")


def eval_float(node, inputs, outputs):
    with np.errstate(invalid="ignore"):
        np.sqrt(inputs[0], out=outputs[0])
